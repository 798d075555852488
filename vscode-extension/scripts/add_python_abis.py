"""Adds the compiled modules of more Python versions to bundled/libs.

pip installed bundled/libs for the Python running this script; its compiled
packages (pydantic-core, jiter) then only load on that version. Extension module
file names carry their ABI tag (``_pydantic_core.cpython-312-x86_64-linux-gnu.so``),
so the binaries of several versions can sit side by side in one package folder.
For each extra version this downloads the same release's wheel for this platform
and copies in only its extension modules. A version whose wheels are missing is
left out. Writes ``attune_bundle.json`` ({"pythons": [...], "platform": ...}) so
the extension can tell the user which interpreters the bundle runs on.

Usage: python add_python_abis.py <libs dir> [3.12 3.13 ...]
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from pathlib import Path

try:
    from packaging.tags import platform_tags
except ImportError:  # pip always vendors it
    from pip._vendor.packaging.tags import platform_tags  # type: ignore[no-redef]


def compiled_dists(libs: Path) -> list[tuple[str, str]]:
    found = []
    for wheel in libs.glob("*.dist-info/WHEEL"):
        if "Root-Is-Purelib: false" in wheel.read_text():
            name, version = wheel.parent.name[: -len(".dist-info")].rsplit("-", 1)
            found.append((name, version))
    return sorted(found)


def add_version(libs: Path, version: str, dists: list[tuple[str, str]], platforms: list[str]) -> bool:
    tag = "cpython-" + version.replace(".", "")
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
               "--no-deps", "--only-binary=:all:", "--python-version", version, "--dest", tmp,
               *[arg for p in platforms for arg in ("--platform", p)],
               *[f"{name}=={ver}" for name, ver in dists]]
        if subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True).returncode != 0:
            print(f"add_python_abis: no wheels of {', '.join(n for n, _ in dists)} for Python {version}; "
                  "that version is left out", file=sys.stderr)
            return False
        copied = 0
        for wheel in Path(tmp).glob("*.whl"):
            with zipfile.ZipFile(wheel) as zf:
                for member in zf.namelist():
                    if tag in member and member.endswith((".so", ".pyd")):
                        target = libs / member
                        if not target.exists():
                            target.parent.mkdir(parents=True, exist_ok=True)
                            target.write_bytes(zf.read(member))
                            target.chmod(0o755)
                            copied += 1
        print(f"add_python_abis: Python {version}: {copied} extension modules added", file=sys.stderr)
        return copied > 0


def main(argv: list[str]) -> int:
    libs = Path(argv[0])
    base = f"{sys.version_info.major}.{sys.version_info.minor}"
    dists = compiled_dists(libs)
    pythons = [base]
    if dists:
        platforms = list(platform_tags())
        pythons += [v for v in argv[1:] if v != base and add_version(libs, v, dists, platforms)]
    else:
        pythons += [v for v in argv[1:] if v != base]  # pure Python: any version runs it
    manifest = {"pythons": sorted(set(pythons), key=lambda v: tuple(map(int, v.split(".")))),
                "platform": sysconfig.get_platform(), "compiled": [n for n, _ in dists]}
    (libs / "attune_bundle.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"add_python_abis: bundle runs on Python {', '.join(manifest['pythons'])} ({manifest['platform']})",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
