"""`attune scan DIR --html PATH`: the workspace picture as one self-contained HTML file:
the summary inline, the renderer inline, no URL to fetch anything from; an existing
file is replaced only with --force, and backed up first."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from attune.cli.overview_page import renderer_script

SUMMARY = re.compile(r'<script type="application/json" id="attune-summary">(.*?)</script>', re.S)


def run(cmd: list[str], env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*cmd, *args], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "src" / "deep").mkdir(parents=True)
    (root / "src" / "deep" / "big.py").write_text("".join(f"v{i} = {i}\n" for i in range(700)))
    (root / "src" / "empty.py").write_text("")
    (root / "x<").mkdir()
    (root / "x<" / "script>.py").write_text("x = '</script>'\n")  # the path x</script>.py must not end the data
    (root / "site.js").write_text("// see https://example.com\nconst u = 'http://example.com';\n")
    return root


def embedded(page: str) -> dict:
    match = SUMMARY.search(page)
    assert match is not None
    return json.loads(match.group(1))


def test_one_self_contained_file_with_every_listed_path(attune_cmd, cli_env, tree, tmp_path):
    out = tmp_path / "report.html"
    result = run(attune_cmd, cli_env, "scan", str(tree), "--html", str(out))

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(out)
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == ["report.html"]  # one file, no temp left
    page = out.read_text(encoding="utf-8")
    listed = [row["path"] for row in json.loads(run(attune_cmd, cli_env, "scan", str(tree), "--json").stdout)["files"]]
    summary = embedded(page)
    assert [row["path"] for row in summary["files"]] == listed
    assert "src/empty.py" in listed and "x</script>.py" in listed
    assert summary["root"] == str(tree.resolve()) and set(summary["tasks"]) >= {"document", "review"}
    assert page.count("</script>") == 2  # the data's own and the renderer's: no path ended either early
    assert not re.search(r"https?://", page)  # even a file mentioning a URL is only counted, never quoted
    assert "<link" not in page and " src=" not in page
    script = renderer_script()
    assert script is not None and script in page


def test_an_existing_file_is_kept_without_force_and_backed_up_with_it(attune_cmd, cli_env, tree, tmp_path):
    out = tmp_path / "report.html"
    out.write_text("my own notes\n")

    refused = run(attune_cmd, cli_env, "scan", str(tree), "--html", str(out))
    assert refused.returncode != 0 and "--force" in refused.stderr
    assert out.read_text() == "my own notes\n"

    forced = run(attune_cmd, cli_env, "scan", str(tree), "--html", str(out), "--force")
    assert forced.returncode == 0, forced.stderr
    backups = list(tmp_path.glob("report.html.bak-*"))
    assert len(backups) == 1 and backups[0].read_text() == "my own notes\n"
    assert embedded(out.read_text(encoding="utf-8"))["files"]


def test_bad_html_paths_are_one_line_errors(attune_cmd, cli_env, tree, tmp_path):
    missing = run(attune_cmd, cli_env, "scan", str(tree), "--html", str(tmp_path / "nope" / "r.html"))
    assert missing.returncode != 0 and "does not exist" in missing.stderr
    both = run(attune_cmd, cli_env, "scan", str(tree), "--html", str(tmp_path / "r.html"), "--json")
    assert both.returncode != 0 and "give one" in both.stderr
    assert not (tmp_path / "r.html").exists()
