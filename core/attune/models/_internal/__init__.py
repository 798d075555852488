"""Private helpers of attune.models: where files live, atomic writes, SQLite
transactions, URL redaction. Not part of the public API; only attune.models uses them."""
