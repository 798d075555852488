"""A plan with no subscription quota (free, api_only) is never shown a subscription
price: not by `attune auth recommend` (text or --json), not by `attune scan`, not by
the terminal wizard. A plan with quota (pro) is shown both."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pexpect
import pytest

NO_QUOTA = ["api_only", "free"]
ZERO_DOLLARS = re.compile(r"\$0(?![.\d])")  # "$0", the subscription's price; not "$0.14"


def run(cmd: list[str], env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*cmd, *args], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)


def setup(cmd: list[str], env: dict[str, str], *flags: str) -> None:
    result = run(cmd, env, "auth", "setup", *flags)
    assert result.returncode == 0, result.stderr


@pytest.fixture
def big(tmp_path: Path) -> Path:
    """3,000 lines: on Pro it runs on the subscription, at $0."""
    path = tmp_path / "big.py"
    path.write_text("".join(f"value_{i} = {i}\n" for i in range(3_000)))
    return path


@pytest.mark.parametrize("tier", NO_QUOTA)
@pytest.mark.parametrize("mode", ["auto", "subscription"])
def test_recommend_offers_no_subscription_figure(attune_cmd, cli_env, big, tier, mode):
    setup(attune_cmd, cli_env, "--tier", tier, "--mode", mode)

    text = run(attune_cmd, cli_env, "auth", "recommend", str(big))
    data = json.loads(run(attune_cmd, cli_env, "auth", "recommend", str(big), "--json").stdout)

    assert text.returncode == 0, text.stderr
    assert "Recommended:   api" in text.stdout and not ZERO_DOLLARS.search(text.stdout)
    assert data["mode"] == "api" and data["monetary_cost"] > 0
    if mode == "auto":
        assert "subscription" not in text.stdout.lower() and "subscription" not in json.dumps(data).lower()


def test_recommend_on_pro_offers_the_subscription_and_the_api_price(attune_cmd, cli_env, big):
    setup(attune_cmd, cli_env, "--tier", "pro")

    text = run(attune_cmd, cli_env, "auth", "recommend", str(big)).stdout
    data = json.loads(run(attune_cmd, cli_env, "auth", "recommend", str(big), "--json").stdout)

    assert "Recommended:   subscription" in text and "$0 (API would be ≈$" in text
    assert data["mode"] == "subscription" and data["monetary_cost"] == 0


@pytest.mark.parametrize("tier", NO_QUOTA)
def test_scan_has_no_subscription_rows_or_totals(attune_cmd, cli_env, big, tier):
    (big.parent / "small.py").write_text("x = 1\n")
    setup(attune_cmd, cli_env, "--tier", tier)

    doc = json.loads(run(attune_cmd, cli_env, "scan", str(big.parent), "--json").stdout)
    table = run(attune_cmd, cli_env, "scan", str(big.parent)).stdout

    assert {row["mode"] for row in doc["files"]} == {"api"}
    assert list(doc["totals"]["by_mode"]) == ["api"]
    assert "subscription" not in table


def test_scan_on_pro_totals_both_modes(attune_cmd, cli_env, big):
    setup(attune_cmd, cli_env, "--tier", "pro")
    doc = json.loads(run(attune_cmd, cli_env, "scan", str(big.parent), "--json").stdout)
    assert list(doc["totals"]["by_mode"]) == ["subscription", "api"]
    assert doc["totals"]["by_mode"]["subscription"]["files"] == 1


def wizard(attune_cmd: list[str], cli_env: dict[str, str], tier_choice: str) -> tuple[str, str]:
    """Runs `attune auth setup` on a pseudo-terminal: the plan, then Enter for the mode.
    Returns what it showed between the two questions, and the mode question's choices."""
    child = pexpect.spawn(attune_cmd[0], [*attune_cmd[1:], "auth", "setup"], env=cli_env, encoding="utf-8", timeout=30)
    child.expect(r"Choice \[\d\]: ")
    child.sendline(tier_choice)
    child.expect("How should Attune choose\\?")
    tradeoffs = child.before
    child.expect(r"Choice \[\d\]: ")
    choices = child.before
    child.sendline("")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    return tradeoffs, choices


@pytest.mark.parametrize("tier_choice, tier", [("6", "api_only"), ("1", "free")])
def test_the_wizard_offers_a_plan_without_quota_no_subscription(attune_cmd, cli_env, attune_home, tier_choice, tier):
    tradeoffs, choices = wizard(attune_cmd, cli_env, tier_choice)

    assert "Subscription: not on your plan" in tradeoffs and "no subscription quota" in tradeoffs
    assert not ZERO_DOLLARS.search(tradeoffs) and "Charged to your plan's quota" not in tradeoffs
    assert "subscription " not in tradeoffs.split("With Auto, your plan would run:")[1]
    assert "Subscription" not in choices and "Auto" in choices and "API" in choices
    saved = json.loads((attune_home / "auth_strategy.json").read_text())
    assert (saved["subscription_tier"], saved["default_mode"]) == (tier, "auto")


def test_the_wizard_offers_pro_both(attune_cmd, cli_env):
    tradeoffs, choices = wizard(attune_cmd, cli_env, "2")
    assert "No per-token charge: $0" in tradeoffs and "tokens for this module" in tradeoffs
    assert "Subscription" in choices
