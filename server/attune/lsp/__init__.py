"""attune.lsp: the Attune language server (pygls 2). Built in the language-server issue."""
