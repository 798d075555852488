"""Fixtures of the CLI tests that talk to the fake API or need a tree of real code."""

from __future__ import annotations

import shutil
import sysconfig
from pathlib import Path

import pytest

from support.fake_anthropic import TEST_API_KEY, FakeAnthropic


@pytest.fixture
def api_env(cli_env: dict[str, str], realistic_api: FakeAnthropic) -> dict[str, str]:
    """The CLI's environment with the test key and the realistic fake API's URL."""
    return {**cli_env, "ANTHROPIC_API_KEY": TEST_API_KEY, "ANTHROPIC_BASE_URL": realistic_api.base_url}


@pytest.fixture
def stdlib_tree(tmp_path: Path) -> Path:
    """Twelve modules of the running interpreter's standard library."""
    root = tmp_path / "tree"
    root.mkdir()
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for source in sorted(p for p in stdlib.glob("*.py") if 2_000 <= p.stat().st_size <= 30_000)[:12]:
        shutil.copy(source, root / source.name)
    return root
