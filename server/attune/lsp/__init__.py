"""attune.lsp: the Attune language server (pygls 2), started as ``attune-lsp`` or
``python -m attune.lsp`` over stdio. The server is thin: every rule it shows comes
from ``attune.models``."""
