"""Installs the project and its dependencies into bundled/libs for several Python
versions at once (run by bundle-python.mjs).

pip resolves and installs for the OLDEST version (``--python-version``, wheels
only), so every release picked honours the oldest ``Requires-Python`` and has its
wheels. Two things pip leaves out, which this script then adds for each version:

* Dependencies behind an environment marker (``async-timeout;
  python_full_version < "3.11.3"``, which redis needs on Debian 12's 3.11.2): pip
  evaluates markers for the interpreter running it, not for ``--python-version``. They are
  found by walking the installed metadata from the project with each version's
  markers (``python_full_version`` is taken as ``X.Y.0``, the earliest patch
  release) and installed with ``--no-deps`` until nothing is missing.
* The compiled modules (pydantic-core, jiter) of the other versions: extension
  module names carry their ABI tag (``_pydantic_core.cpython-312-x86_64-linux-gnu.so``),
  so the same release's binaries for several versions sit side by side.

Every version asked for must be bundled: one for which a compiled wheel is
missing, or whose ``Requires-Python`` a bundled release excludes, fails the build
with the reason. Writes ``attune_bundle.json`` ({"pythons": [...], "platform": ...,
"compiled": [...]}) so the extension can tell which interpreters the bundle runs on.

Usage: python bundle_libs.py <libs dir> <project dir> <3.11 3.12 ...>
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from email.parser import HeaderParser
from pathlib import Path

try:
    from packaging.markers import default_environment
    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet
    from packaging.tags import platform_tags
    from packaging.utils import canonicalize_name
except ImportError:  # pip always vendors packaging
    from pip._vendor.packaging.markers import default_environment  # type: ignore[no-redef]
    from pip._vendor.packaging.requirements import Requirement  # type: ignore[no-redef]
    from pip._vendor.packaging.specifiers import SpecifierSet  # type: ignore[no-redef]
    from pip._vendor.packaging.tags import platform_tags  # type: ignore[no-redef]
    from pip._vendor.packaging.utils import canonicalize_name  # type: ignore[no-redef]


class BundleError(Exception):
    pass


def installed(libs: Path) -> dict[str, tuple[str, Path]]:
    """Canonical name -> (version, .dist-info folder) of what bundled/libs holds."""
    found: dict[str, tuple[str, Path]] = {}
    for meta in libs.glob("*.dist-info/METADATA"):
        headers = HeaderParser().parsestr(meta.read_text(encoding="utf-8"))
        found[canonicalize_name(headers["Name"])] = (headers["Version"], meta.parent)
    return found


def _metadata(dist_info: Path):
    return HeaderParser().parsestr((dist_info / "METADATA").read_text(encoding="utf-8"))


def marker_environment(version: str) -> dict[str, str]:
    env = dict(default_environment())
    env.update(
        python_version=version,
        python_full_version=f"{version}.0",
        implementation_name="cpython",
        platform_python_implementation="CPython",
    )
    return env


def missing_requirements(
    libs: Path, project: str, version: str, extras: frozenset[str] = frozenset()
) -> list[Requirement]:
    """Requirements that apply on ``version`` (from the project down, with the extras
    each parent asked for) but are not installed. Raises when an installed release
    does not satisfy a requirement or excludes ``version`` by Requires-Python."""
    have = installed(libs)
    env = marker_environment(version)
    missing: dict[str, Requirement] = {}
    seen: set[tuple[str, frozenset[str]]] = set()
    todo: list[tuple[str, frozenset[str]]] = [(canonicalize_name(project), extras)]
    while todo:
        name, extras = todo.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        dist_version, dist_info = have[name]
        meta = _metadata(dist_info)
        requires_python = meta.get("Requires-Python")
        if requires_python and not SpecifierSet(requires_python).contains(f"{version}.0", prereleases=True):
            raise BundleError(f"{meta['Name']} {dist_version} requires Python {requires_python}")
        for line in meta.get_all("Requires-Dist") or []:
            req = Requirement(line)
            if req.marker is not None and not any(
                req.marker.evaluate({**env, "extra": extra}) for extra in ("", *extras)
            ):
                continue
            dep = canonicalize_name(req.name)
            if dep not in have:
                missing.setdefault(dep, req)
                continue
            if not req.specifier.contains(have[dep][0], prereleases=True):
                raise BundleError(f"{meta['Name']} needs {req}, the bundle has {have[dep][0]}")
            todo.append((dep, frozenset(req.extras)))
    return list(missing.values())


def _pip_target_args(version: str, platforms: list[str]) -> list[str]:
    return [
        "--only-binary=:all:",
        "--python-version",
        version,
        "--implementation",
        "cp",
        *[arg for p in platforms for arg in ("--platform", p)],
    ]


def add_marker_dependencies(
    libs: Path, project: str, version: str, platforms: list[str], extras: frozenset[str] = frozenset()
) -> list[str]:
    """Installs (``--no-deps``, repeatedly) what ``version`` needs and the bundle lacks."""
    added: list[str] = []
    while reqs := missing_requirements(libs, project, version, extras):
        # Markers dropped: they were evaluated here, pip would evaluate them for its own Python.
        specs = [f"{r.name}{r.specifier}" for r in reqs]
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",
            "--no-deps",
            "--no-warn-script-location",
            "--target",
            str(libs),
            *_pip_target_args(version, platforms),
            *specs,
        ]
        proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if proc.returncode != 0:
            raise BundleError(f"cannot install {', '.join(specs)}: {proc.stderr.strip()[-400:]}")
        added += specs
    return added


def compiled_dists(libs: Path) -> list[tuple[str, str]]:
    """Releases with version-specific binaries. abi3 ones (our own line
    counter) run on every version as they are."""
    found = []
    for wheel in libs.glob("*.dist-info/WHEEL"):
        text = wheel.read_text()
        if "Root-Is-Purelib: false" in text and "-abi3-" not in text:
            name, version = wheel.parent.name[: -len(".dist-info")].rsplit("-", 1)
            found.append((name, version))
    return sorted(found)


def add_compiled_modules(libs: Path, version: str, dists: list[tuple[str, str]], platforms: list[str]) -> int:
    """Copies ``version``'s extension modules of the bundled compiled releases into libs."""
    tag = "cpython-" + version.replace(".", "")
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--dest",
            tmp,
            *_pip_target_args(version, platforms),
            *[f"{name}=={ver}" for name, ver in dists],
        ]
        proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if proc.returncode != 0:
            raise BundleError(f"no wheels of {', '.join(f'{n} {v}' for n, v in dists)} for this platform")
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
        return copied


def _pip(*args: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pip", *args, "--quiet", "--disable-pip-version-check"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"bundle_libs: pip {args[0]} failed:\n{proc.stderr.strip()}")


# Optional extras of the project that the extension ships too: redis, for the
# breakers' shared Redis store (an extra of attune-companion, always in the .vsix).
BUNDLED_EXTRAS = ("redis",)


def _wheel_extras(wheel: Path) -> set[str]:
    """The extras a wheel declares (Provides-Extra)."""
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        meta = HeaderParser().parsestr(zf.read(name).decode("utf-8"))
    return set(meta.get_all("Provides-Extra") or [])


def install_project(libs: Path, project_dir: str, oldest: str, platforms: list[str]) -> tuple[str, frozenset[str]]:
    """Builds the project's wheel, installs it with its dependencies (and the
    BUNDLED_EXTRAS it declares) for ``oldest``; returns its name and those extras."""
    with tempfile.TemporaryDirectory() as tmp:
        _pip("wheel", "--no-deps", "--wheel-dir", tmp, project_dir)
        wheel = next(Path(tmp).glob("*.whl"))
        extras = frozenset(e for e in BUNDLED_EXTRAS if e in _wheel_extras(wheel))
        spec = f"{wheel}[{','.join(sorted(extras))}]" if extras else str(wheel)
        # --python-version needs --only-binary=:all:, hence the wheel built above.
        _pip(
            "install",
            "--no-compile",
            "--no-warn-script-location",
            "--target",
            str(libs),
            *_pip_target_args(oldest, platforms),
            spec,
        )
    return wheel.name.split("-")[0], extras


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print("usage: bundle_libs.py <libs> <project dir> <version> [more versions]", file=sys.stderr)
        return 2
    libs, project_dir = Path(argv[0]), argv[1]
    versions = sorted(set(argv[2:]), key=lambda v: tuple(map(int, v.split("."))))
    platforms = list(platform_tags())
    project, extras = install_project(libs, project_dir, versions[0], platforms)
    supported: list[str] = []
    for i, version in enumerate(versions):
        try:
            added = add_marker_dependencies(libs, project, version, platforms, extras)
            dists = compiled_dists(libs)
            # The first version's binaries are what pip installed; the others are copied in.
            copied = add_compiled_modules(libs, version, dists, platforms) if i and dists else 0
        except BundleError as exc:
            raise SystemExit(f"bundle_libs: cannot bundle for Python {version}: {exc}") from None
        supported.append(version)
        print(
            f"bundle_libs: Python {version}: {len(added)} marker-only dependencies added "
            f"({', '.join(added) or 'none'}), {copied} extension modules added",
            file=sys.stderr,
        )
    # The marker-only dependencies (backports) are pure Python and unused on the
    # versions that do not need them.
    manifest = {
        "pythons": supported,
        "platform": sysconfig.get_platform(),
        "compiled": [n for n, _ in compiled_dists(libs)],
    }
    (libs / "attune_bundle.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"bundle_libs: bundle runs on Python {', '.join(supported)} ({manifest['platform']})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
