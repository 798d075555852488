"""The baseline for bench_lsp.py: the smallest useful pygls 2 server (one code lens
feature), so spawn -> initialize is compared with what pygls itself costs."""

from lsprotocol import types
from pygls.lsp.server import LanguageServer

server = LanguageServer("minimal", "0")


@server.feature(types.TEXT_DOCUMENT_CODE_LENS)
def code_lens(ls: LanguageServer, params: types.CodeLensParams) -> list[types.CodeLens]:
    return []


if __name__ == "__main__":
    server.start_io()
