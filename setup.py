"""What pyproject.toml cannot say: the optional C accelerator of the Python
line counter (``attune.models.loc._pycount``). Without a C compiler the build
skips it (``optional=True``) and ``attune.models.loc.counter`` counts with its
regular expressions instead: same numbers, about 8x slower."""

from setuptools import Extension, setup

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
)
