"""`attune` and `attune-lsp` when another regular package named ``attune`` (PyPI's
attune-ai) comes first: one line that names it, exit 1; and both work without it.

The development install is editable, and its import hook finds our modules even
behind a foreign ``attune``, so the hiding needs a real install: the package is
built and installed (not editable) into a venv of its own, whose dependencies come
from the test environment's site-packages.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HIDDEN = (
    "another package named 'attune' (attune-ai 1.2.3, {init}) hides Attune Companion's modules; "
    "uninstall it (pip uninstall attune-ai) or install Attune in its own virtual environment"
)


@pytest.fixture(scope="module")
def venv_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with attune-companion installed as a user installs it (a built wheel)."""
    base = tmp_path_factory.mktemp("installed")
    source = base / "src"
    source.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    skip = shutil.ignore_patterns("__pycache__", "*.so", "*.egg-info")
    for name in ("core", "server"):
        shutil.copytree(ROOT / name, source / name, ignore=skip)
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # the dependencies (pydantic, pygls, ...): the test environment's site-packages as a
    # plain path entry, so its editable-install hook for our own modules does not run
    ambient = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (Path(site) / "ambient-deps.pth").write_text("\n".join(ambient) + "\n")
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", str(source)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    assert not (Path(site) / "attune" / "__init__.py").exists()  # ours is a namespace package
    return venv / "bin"


@pytest.fixture
def attune_ai(tmp_path: Path) -> Path:
    """A stand-in for attune-ai 1.2.3: a regular ``attune`` package and its dist-info."""
    site = tmp_path / "foreign-site"
    (site / "attune").mkdir(parents=True)
    (site / "attune" / "__init__.py").write_text('"""Not Attune Companion."""\n')
    info = site / "attune_ai-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: attune-ai\nVersion: 1.2.3\n")
    (info / "top_level.txt").write_text("attune\n")
    (info / "RECORD").write_text(
        "attune/__init__.py,,\nattune_ai-1.2.3.dist-info/METADATA,,\n"
        "attune_ai-1.2.3.dist-info/top_level.txt,,\nattune_ai-1.2.3.dist-info/RECORD,,\n"
    )
    return site


def env_with(cli_env: dict[str, str], bin_dir: Path, first_on_path: Path | None = None) -> dict[str, str]:
    env = {**cli_env, "PATH": f"{bin_dir}{os.pathsep}{cli_env.get('PATH', '')}"}
    env.pop("PYTHONPATH", None)
    if first_on_path is not None:
        env["PYTHONPATH"] = str(first_on_path)
    return env


def run(env: dict[str, str], *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    command = shutil.which(args[0], path=env["PATH"])
    assert command is not None, f"{args[0]} is not installed"
    return subprocess.run([command, *args[1:]], env=env, input=stdin, capture_output=True, timeout=60)


def lsp_frames(*messages: dict[str, object]) -> bytes:
    out = b""
    for message in messages:
        body = json.dumps(message).encode()
        out += b"Content-Length: %d\r\n\r\n" % len(body) + body
    return out


def responses(stdout: bytes) -> dict[int, dict[str, object]]:
    """The server's answers by request id."""
    out = {}
    while stdout:
        header, _, rest = stdout.partition(b"\r\n\r\n")
        length = int(header.split(b"Content-Length:")[1].split(b"\r\n")[0])
        message = json.loads(rest[:length])
        if "id" in message and "method" not in message:
            out[message["id"]] = message
        stdout = rest[length:]
    return out


LSP_SESSION = lsp_frames(
    {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": None, "capabilities": {}}},
    {"jsonrpc": "2.0", "method": "initialized", "params": {}},
    {"jsonrpc": "2.0", "id": 2, "method": "shutdown"},
    {"jsonrpc": "2.0", "method": "exit"},
)


@pytest.mark.parametrize("script, args", [("attune", ["auth", "status"]), ("attune-lsp", [])])
def test_a_foreign_attune_package_is_named_in_one_line(venv_bin, attune_ai, cli_env, script, args):
    result = run(env_with(cli_env, venv_bin, first_on_path=attune_ai), script, *args, stdin=LSP_SESSION)

    assert result.returncode == 1
    assert result.stdout == b""
    init = attune_ai / "attune" / "__init__.py"
    assert result.stderr.decode().splitlines() == [f"{script}: " + HIDDEN.format(init=init)]


def test_a_stray_attune_folder_that_no_distribution_owns_is_named_too(venv_bin, tmp_path, cli_env):
    stray = tmp_path / "checkout"
    (stray / "attune").mkdir(parents=True)
    (stray / "attune" / "__init__.py").write_text("")

    result = run(env_with(cli_env, venv_bin, first_on_path=stray), "attune", "scan", ".")

    assert result.returncode == 1
    assert result.stderr.decode().splitlines() == [
        f"attune: another package named 'attune' ({stray / 'attune' / '__init__.py'}) hides Attune Companion's "
        "modules; take it off the Python path or install Attune in its own virtual environment"
    ]


def test_installed_scripts_work_without_it(venv_bin, cli_env, tmp_path):
    source = tmp_path / "mod.py"
    source.write_text("".join(f"x{i} = {i}\n" for i in range(30)))
    env = env_with(cli_env, venv_bin)

    recommend = run(env, "attune", "auth", "recommend", str(source), "--json")
    assert recommend.returncode == 0, recommend.stderr
    assert json.loads(recommend.stdout)["lines"] == 30

    lsp = run(env, "attune-lsp", stdin=LSP_SESSION)
    assert lsp.returncode == 0, lsp.stderr
    assert responses(lsp.stdout)[1]["result"]["serverInfo"]["name"] == "attune-lsp"


def test_the_development_install_scripts_work(cli_env, tmp_path):
    source = tmp_path / "mod.py"
    source.write_text("x = 1\n")
    result = subprocess.run(
        [shutil.which("attune") or "attune", "auth", "recommend", str(source), "--json"],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["lines"] == 1
