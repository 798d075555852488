"""The baseline for bench_editing.py: a minimal pygls 2 server that keeps open documents
in pygls's own workspace (its TextDocument applies each incremental change) and
answers a code lens from the full text: its line count."""

from lsprotocol import types
from pygls.lsp.server import LanguageServer

server = LanguageServer("minimal-editing", "0")
TOP = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0))


@server.feature(types.TEXT_DOCUMENT_CODE_LENS)
def code_lens(ls: LanguageServer, params: types.CodeLensParams) -> list[types.CodeLens]:
    text = ls.workspace.get_text_document(params.text_document.uri).source
    return [types.CodeLens(range=TOP, command=types.Command(title=f"{text.count(chr(10)):,} lines", command=""))]


if __name__ == "__main__":
    server.start_io()
