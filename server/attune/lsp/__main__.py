"""Entry point for ``attune-lsp`` and ``python -m attune.lsp``."""

from __future__ import annotations

import sys


def main() -> int:
    # Placeholder until the language-server issue lands: say so on stderr (never
    # stdout, which belongs to the LSP stream) and exit non-zero.
    print("attune-lsp: the language server is not built yet", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
