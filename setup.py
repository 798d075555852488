"""What pyproject.toml cannot say:

- the optional C accelerator of the Python line counter (``attune.models.loc._pycount``).
  Without a C compiler the build skips it (``optional=True``) and
  ``attune.models.loc.counter`` counts with its regular expressions instead: same
  numbers, about 8x slower.
- the shell completion scripts (``attune.cli/completions/attune.{bash,zsh,fish}``),
  written again from the parser into every built wheel by ``scripts/gen_completions.py``
  (shtab is a build requirement), so `attune completion SHELL` only reads a file.
"""

import importlib.util
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildPyWithCompletions(build_py):
    def run(self) -> None:
        super().run()
        generator = HERE / "scripts" / "gen_completions.py"
        if getattr(self, "editable_mode", False) or not generator.exists():
            return  # editable: the committed scripts are used in place; an sdist ships them as built
        spec = importlib.util.spec_from_file_location("gen_completions", generator)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for path in module.generate(Path(self.build_lib) / "attune" / "cli" / "completions"):
            self.announce(f"wrote {path}", level=2)


setup(
    ext_modules=[
        Extension(
            "attune.models.loc._pycount",
            ["core/attune/models/loc/_pycount.c"],
            optional=True,
            py_limited_api=True,  # one binary for every CPython >= 3.11
            define_macros=[("Py_LIMITED_API", "0x030B0000")],
        )
    ],
    options={"bdist_wheel": {"py_limited_api": "cp311"}},  # a cp311-abi3 wheel
    cmdclass={"build_py": BuildPyWithCompletions},
)
