"""The `attune` command line: every command and the terminal set-up wizard.

It imports ``attune.models`` and is never imported by it (one exception: the seed
documents' ``attune.models.auth_cli``, a lazy re-export of ``attune.cli.auth``)."""
