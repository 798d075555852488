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
if os.path.isdir(LIBS):
    sys.path.insert(0, LIBS)

runpy.run_module("attune.lsp", run_name="__main__", alter_sys=True)
