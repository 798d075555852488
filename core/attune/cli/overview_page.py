"""The workspace picture as one self-contained HTML file (`attune scan DIR --html`):
the summary inline as JSON, then the renderer (``assets/overview.js``, built from the
extension's ``src/overview``) inline. No network: a content security policy allows
inline script and style only, and nothing is loaded from anywhere.

Without the renderer asset (a source tree where it was never built) the page lists
the files in a plain table instead.
"""

from __future__ import annotations

import html
import json
from importlib import resources
from typing import Any

ASSET = "assets/overview.js"
_CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"
# Inside <script>, "</script>" or "<!--" would end or bend the element: no "<" is
# left as it is (JSON strings read "\u003c" as "<"); ">" and "&" go too, for old parsers.
_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def summary_json(summary: dict[str, Any]) -> str:
    """The summary as JSON safe to put between ``<script>`` tags."""
    return json.dumps(summary, ensure_ascii=False, separators=(",", ":")).translate(_ESCAPES)


def renderer_script() -> str | None:
    """The renderer's source, None when the asset is not there."""
    try:
        return resources.files("attune.cli").joinpath(ASSET).read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return None


def _fallback_table(summary: dict[str, Any]) -> str:
    task = summary["task"]
    rows = "\n".join(
        f"<tr><td>{html.escape(row['path'])}</td><td>{row['lines']:,}</td><td>{row['tokens']:,}</td>"
        f"<td>{html.escape(row['mode'])}</td><td>${row['costs'][task]:.4f}</td></tr>"
        for row in summary["files"]
    )
    return (
        f"<h1>Attune: {html.escape(summary['root'])}</h1>\n<table>\n"
        f"<tr><th>Path</th><th>Lines</th><th>Tokens</th><th>Mode</th><th>{html.escape(task)} (API)</th></tr>\n"
        f"{rows}\n</table>"
    )


def overview_page(summary: dict[str, Any]) -> str:
    """The HTML document."""
    script = renderer_script()
    # "</script" cannot occur in the asset's text without ending its element early
    if script is not None and "</script" in script.lower():
        raise ValueError(f"{ASSET} contains '</script' and cannot be inlined")
    body = f"<script>\n{script}\n</script>" if script is not None else _fallback_table(summary)
    title = html.escape(f"Attune overview: {summary['root']}")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n</head>\n<body>\n"
        f'<script type="application/json" id="attune-summary">{summary_json(summary)}</script>\n'
        f"{body}\n</body>\n</html>\n"
    )


__all__ = ["ASSET", "overview_page", "renderer_script", "summary_json"]
