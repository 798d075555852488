"""Starts the Attune language server from the libraries bundled with the extension.

bundled/libs goes first on sys.path, so the copies shipped in the .vsix win over
whatever the user's interpreter has installed (the vscode-python-tools-extension-
template pattern). Without bundled/libs (a development checkout) the installed
attune-companion runs instead. stdout belongs to the LSP stream: print nothing.
"""

import os
import runpy
import sys

LIBS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "libs")
# The extension sets this when the bundle has no binaries for this Python version
# and the interpreter has attune-companion installed itself.
if os.path.isdir(LIBS) and os.environ.get("ATTUNE_LSP_USE_INSTALLED") != "1":
    sys.path.insert(0, LIBS)

runpy.run_module("attune.lsp", run_name="__main__", alter_sys=True)
