"""AuthStrategy: validation, the recommendation rules, estimates and persistence."""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import stat

import pytest

from attune.models import (
    AuthMode,
    AuthStrategy,
    StrategyFileError,
    SubscriptionTier,
    get_module_size_category,
)
from attune.models._internal import paths
from attune.models.strategy.backups import list_backups, reset_strategy, restore_strategy, save_with_backup

DEFAULT_KEYS = {
    "subscription_tier",
    "default_mode",
    "small_module_threshold",
    "medium_module_threshold",
    "loc_to_tokens_multiplier",
    "subscription_block_budget_tokens",
    "setup_completed",
    "prefer_subscription",
    "cost_optimization",
    "metadata",
}


def test_defaults_and_to_dict_keys():
    data = AuthStrategy().to_dict()
    assert set(data) == DEFAULT_KEYS
    assert data == {
        "subscription_tier": "api_only",
        "default_mode": "auto",
        "small_module_threshold": 500,
        "medium_module_threshold": 2000,
        "loc_to_tokens_multiplier": 4.0,
        "subscription_block_budget_tokens": None,
        "setup_completed": False,
        "prefer_subscription": True,
        "cost_optimization": True,
        "metadata": {},
    }
    assert AuthStrategy.from_dict(data) == AuthStrategy()


def test_enum_values():
    assert [t.value for t in SubscriptionTier] == ["free", "pro", "max", "team", "enterprise", "api_only"]
    assert {m.value for m in AuthMode} == {"subscription", "api", "auto"}


@pytest.mark.parametrize(
    "bad, field",
    [
        ({"small_module_threshold": 0}, "small_module_threshold"),
        ({"small_module_threshold": -5}, "small_module_threshold"),
        ({"medium_module_threshold": 0}, "medium_module_threshold"),
        ({"small_module_threshold": 2000}, "small_module_threshold"),  # small == medium
        ({"small_module_threshold": 3000}, "medium_module_threshold"),  # small > medium names both
        ({"loc_to_tokens_multiplier": math.nan}, "loc_to_tokens_multiplier"),
        ({"loc_to_tokens_multiplier": math.inf}, "loc_to_tokens_multiplier"),
        ({"loc_to_tokens_multiplier": 0}, "loc_to_tokens_multiplier"),
        ({"loc_to_tokens_multiplier": -1.0}, "loc_to_tokens_multiplier"),
        ({"loc_to_tokens_multiplier": True}, "loc_to_tokens_multiplier"),
        ({"subscription_tier": "gold"}, "subscription_tier"),
        ({"default_mode": "sometimes"}, "default_mode"),
        ({"unknown_key": 1}, "unknown_key"),
    ],
)
def test_invalid_values_are_refused_naming_the_field(bad, field):
    with pytest.raises(ValueError, match=field):
        AuthStrategy.from_dict({**AuthStrategy().to_dict(), **bad})


@pytest.mark.parametrize(
    "lines, expected",
    [(0, "small"), (499, "small"), (500, "medium"), (1999, "medium"), (2000, "large"), (10**6, "large")],
)
def test_size_category_boundaries(lines, expected):
    assert get_module_size_category(lines) == expected
    assert AuthStrategy().get_module_size_category(lines) == expected


def test_size_category_uses_the_strategys_thresholds():
    s = AuthStrategy(small_module_threshold=100, medium_module_threshold=300)
    assert [s.get_module_size_category(n) for n in (99, 100, 299, 300)] == ["small", "medium", "medium", "large"]
    assert get_module_size_category(150, small=100, medium=300) == "medium"


def test_estimate_tokens_is_int_of_lines_times_multiplier():
    assert AuthStrategy().estimate_tokens(1234) == 4936
    assert AuthStrategy(loc_to_tokens_multiplier=3.3).estimate_tokens(10) == 33


# ---- the five rules, in order ----------------------------------------------------


def pro(**kw) -> AuthStrategy:
    return AuthStrategy(subscription_tier="pro", **kw)


@pytest.mark.parametrize("mode", [AuthMode.SUBSCRIPTION, AuthMode.API])
def test_rule1_explicit_mode_wins_over_everything(mode):
    s = pro(default_mode=mode)
    for lines in (10, 1000, 100_000):
        rec = s.recommend(lines)
        assert rec.mode is mode and rec.rule == "explicit_mode"
    api_only = AuthStrategy(subscription_tier="api_only", default_mode=AuthMode.API)
    assert (api_only.recommend(5000).mode, api_only.recommend(5000).rule) == (AuthMode.API, "explicit_mode")


@pytest.mark.parametrize("tier", ["api_only", "free"])
def test_rule2_no_subscription_means_api(tier):
    rec = AuthStrategy(subscription_tier=tier).recommend(5000)
    assert rec.mode is AuthMode.API and rec.rule == "no_subscription"
    assert "API" in rec.reason


@pytest.mark.parametrize("tier", ["api_only", "free"])
def test_a_default_mode_of_subscription_without_quota_still_runs_on_the_api(tier):
    s = AuthStrategy(subscription_tier=tier, default_mode=AuthMode.SUBSCRIPTION)
    for lines in (10, 1000, 5000):
        rec = s.recommend(lines)
        assert (rec.mode, rec.rule) == (AuthMode.API, "no_subscription")
        assert "needs a plan with subscription quota" in rec.reason
        assert s.estimate_cost(lines)["mode"] == "api" and s.estimate_cost(lines)["monetary_cost"] > 0


# ---- which modes a plan offers ----------------------------------------------------


@pytest.mark.parametrize("tier", list(SubscriptionTier))
def test_only_plans_with_quota_offer_the_subscription(tier):
    s = AuthStrategy(subscription_tier=tier)
    expected = (AuthMode.SUBSCRIPTION, AuthMode.API) if tier.has_subscription_quota else (AuthMode.API,)
    assert s.offered_modes == expected
    assert s.offers(AuthMode.API) and s.offers("subscription") is tier.has_subscription_quota
    assert (tier in (SubscriptionTier.FREE, SubscriptionTier.API_ONLY)) is not tier.has_subscription_quota


@pytest.mark.parametrize("tier", ["api_only", "free"])
def test_a_plan_without_quota_is_never_priced_a_subscription(tier):
    s = AuthStrategy(subscription_tier=tier)
    with pytest.raises(ValueError, match="no subscription quota"):
        s.estimate_cost(3000, AuthMode.SUBSCRIPTION)
    with pytest.raises(ValueError, match="no subscription quota"):
        s.estimate_cost_for_tokens(12_000, "subscription")
    pc = s.get_pros_cons(3000)
    assert pc["subscription"]["offered"] is False
    assert pc["subscription"]["estimate"] is None and pc["subscription"]["pros"] == []
    assert pc["auto"]["recommended_mode"] == "api" and pc["auto"]["estimate"]["mode"] == "api"
    offered = json.dumps([pc["api"], pc["auto"]])
    assert "subscription" not in offered.lower() and 'quota_cost": 0' in offered
    assert "$0 " not in json.dumps(pc["subscription"])


def test_a_plan_with_quota_is_offered_both_with_their_prices():
    pc = pro().get_pros_cons(3000)
    assert [pc[k]["offered"] for k in ("subscription", "api", "auto")] == [True, True, True]
    assert pc["subscription"]["estimate"]["monetary_cost"] == 0 < pc["subscription"]["estimate"]["quota_cost"]
    assert pc["api"]["estimate"]["monetary_cost"] > 0


def test_rule3_over_subscription_context_goes_to_api():
    s = pro()
    assert s.recommend(50_000).rule == "prefer_subscription"  # 200,000 tokens: exactly fits
    rec = s.recommend(50_001)  # 200,004 tokens
    assert rec.mode is AuthMode.API and rec.rule == "exceeds_subscription_context"
    assert "200K" in rec.reason and "1M" in rec.reason


def test_rule4_small_goes_to_api_and_rule5_prefers_subscription():
    s = pro()
    assert (s.recommend(499).mode, s.recommend(499).rule) == (AuthMode.API, "small_module")
    assert (s.recommend(500).mode, s.recommend(500).rule) == (AuthMode.SUBSCRIPTION, "prefer_subscription")
    assert s.get_recommended_mode(2500) is AuthMode.SUBSCRIPTION
    no_pref = pro(prefer_subscription=False)
    assert (no_pref.recommend(2500).mode, no_pref.recommend(2500).rule) == (AuthMode.API, "prefer_api")


def test_reason_is_one_human_line_with_size_and_cost():
    rec = pro().recommend(1234)
    assert "\n" not in rec.reason
    assert "Medium module (1,234 lines)" in rec.reason and "$" in rec.reason


# ---- cost ------------------------------------------------------------------------


def test_estimate_cost_shape_and_modes():
    s = pro()
    api = s.estimate_cost(1000, AuthMode.API)
    sub = s.estimate_cost(1000, "subscription")
    for est in (api, sub):
        assert {"mode", "monetary_cost", "quota_cost", "tokens_used", "fits_in_context", "breakdown"} <= set(est)
        assert [b["stage"] for b in est["breakdown"]] == ["outline", "write", "polish", "api_reference"]
    assert api["mode"] == "api" and api["monetary_cost"] > 0 and api["quota_cost"] == 0
    assert sub["mode"] == "subscription" and sub["monetary_cost"] == 0 and sub["quota_cost"] == sub["tokens_used"] > 0
    assert api["monetary_cost"] == pytest.approx(sum(b["cost"] for b in api["breakdown"]), abs=1e-5)
    # mode None resolves to the recommendation
    assert s.estimate_cost(100)["mode"] == "api" and s.estimate_cost(1000)["mode"] == "subscription"


def test_api_cost_is_priced_from_the_registry():
    est = AuthStrategy().estimate_cost(1000, "api")
    outline = est["breakdown"][0]
    assert outline["model"] == "claude-haiku-4-5"
    assert outline["cost"] == pytest.approx((outline["input_tokens"] * 1 + outline["output_tokens"] * 5) / 1e6)
    write = est["breakdown"][1]
    assert write["model"] == "claude-sonnet-4-6"
    assert write["cost"] == pytest.approx((write["input_tokens"] * 3 + write["output_tokens"] * 15) / 1e6)


def test_double_the_lines_about_double_the_cost():
    s = AuthStrategy()
    one, two = s.estimate_cost(2000, "api")["monetary_cost"], s.estimate_cost(4000, "api")["monetary_cost"]
    assert 1.9 < two / one <= 2.0


def test_fits_in_context_per_mode():
    s = pro()
    assert s.estimate_cost(60_000, "subscription")["fits_in_context"] is False  # 240K > 200K
    assert s.estimate_cost(60_000, "api")["fits_in_context"] is True
    assert s.estimate_cost(300_000, "api")["fits_in_context"] is False  # 1.2M > 1M


def test_pricing_json_override_changes_the_estimate(attune_home):
    before = AuthStrategy().estimate_cost(1000, "api")["monetary_cost"]
    (attune_home / "pricing.json").write_text(
        json.dumps({"as_of": "2026-11-01", "models": {"claude-opus-4-6": {"input": 50, "output": 250}}})
    )
    after = AuthStrategy().estimate_cost(1000, "api")
    assert after["monetary_cost"] > before
    assert after["breakdown"][2]["model"] == "claude-opus-4-6"


def test_invalid_pricing_json_is_an_error_naming_the_file(attune_home):
    from attune.models.pricing.registry import PricingFileError

    path = attune_home / "pricing.json"
    path.write_text(json.dumps({"models": {"claude-opus-4-6": {"input": -1, "output": 2}}}))
    with pytest.raises(PricingFileError, match=r"pricing\.json.*input"):
        AuthStrategy().estimate_cost(10, "api")
    path.write_text(json.dumps({"models": {"gpt-9": {"input": 1, "output": 2}}}))
    with pytest.raises(PricingFileError, match=r"unknown model id.*gpt-9"):
        AuthStrategy().estimate_cost(10, "api")


def test_pros_cons_has_three_options_with_estimates():
    pc = pro().get_pros_cons(1200)
    assert set(pc) == {"subscription", "api", "auto"}
    for option in pc.values():
        assert option["pros"] and option["cons"] and "estimate" in option
    assert pc["auto"]["recommended_mode"] == "subscription"
    assert pc["api"]["estimate"]["monetary_cost"] > 0 == pc["subscription"]["estimate"]["monetary_cost"]
    api_only = AuthStrategy().get_pros_cons(1200)
    assert any("no subscription quota" in c for c in api_only["subscription"]["cons"])
    assert api_only["subscription"]["estimate"] is None


# ---- persistence -----------------------------------------------------------------


def test_load_missing_file_gives_defaults(attune_home):
    assert not paths.auth_strategy_path().exists()
    assert AuthStrategy.load() == AuthStrategy()


def test_save_is_0600_and_round_trips(attune_home):
    s = pro(default_mode="api", metadata={"team": "x"})
    path = s.save()
    assert path == attune_home / "auth_strategy.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert AuthStrategy.load() == s
    assert json.loads(path.read_text()) == s.to_dict()
    assert not [p for p in attune_home.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize(
    "content, problem",
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b"[1, 2]", "JSON object"),
        (json.dumps({"small_module_threshold": 0}).encode(), "small_module_threshold"),
    ],
)
def test_corrupt_or_invalid_file_raises_and_is_left_alone(attune_home, content, problem):
    path = attune_home / "auth_strategy.json"
    path.write_bytes(content)
    with pytest.raises(StrategyFileError, match=problem) as info:
        AuthStrategy.load()
    assert str(path) in str(info.value)
    assert path.read_bytes() == content  # never silently replaced


def _save_many(args):
    home, tier, n = args
    os.environ["ATTUNE_HOME"] = home
    for i in range(n):
        AuthStrategy(subscription_tier=tier, metadata={"writer": tier, "i": i, "pad": "x" * 2000}).save()


def test_concurrent_writers_leave_one_whole_file(attune_home):
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        pool.map(_save_many, [(str(attune_home), t, 40) for t in ("pro", "max", "team", "enterprise")])
    loaded = AuthStrategy.load()  # parses and validates: one whole file
    assert loaded.metadata["writer"] == loaded.subscription_tier.value


# ---- backups, reset, restore -----------------------------------------------------


def test_overwrite_backs_up_the_previous_strategy(attune_home):
    first = pro()
    first.save()
    result = save_with_backup(pro(default_mode="api"))
    assert result.backup is not None and json.loads(result.backup.read_text()) == first.to_dict()
    assert AuthStrategy.load().default_mode is AuthMode.API


def test_reset_backs_up_then_clears_and_restore_brings_it_back(attune_home):
    original = pro(small_module_threshold=300, setup_completed=True)
    original.save()
    result = reset_strategy()
    assert json.loads(result.backup.read_text()) == original.to_dict()
    assert result.previous == original.to_dict()
    assert not paths.auth_strategy_path().exists()
    assert AuthStrategy.load() == AuthStrategy()
    restore_strategy()
    assert AuthStrategy.load() == original


def test_reset_of_a_corrupt_file_moves_it_aside(attune_home):
    path = attune_home / "auth_strategy.json"
    path.write_text("{broken")
    result = reset_strategy()
    assert result.corrupt_moved_to is not None and result.corrupt_moved_to.read_text() == "{broken"
    assert ".corrupt-" in result.corrupt_moved_to.name
    assert not path.exists()


def test_restore_a_named_backup_and_a_bad_backup(attune_home):
    pro().save()
    reset_strategy()
    AuthStrategy(subscription_tier="max").save()
    reset_strategy()
    backups = list_backups()
    assert len(backups) == 2 and backups[0].name > backups[1].name  # newest first
    restore_strategy(backups[1].name)
    assert AuthStrategy.load().subscription_tier is SubscriptionTier.PRO
    bad = attune_home / "backups" / "auth_strategy-29990101T000000.000000Z.json"
    bad.write_text("nope")
    with pytest.raises(StrategyFileError, match=bad.name) as info:
        restore_strategy(bad.name)
    assert "attune auth restore --list" in str(info.value) and "auth reset" not in str(info.value)
    assert AuthStrategy.load().subscription_tier is SubscriptionTier.PRO  # unchanged


def test_a_plain_restore_skips_invalid_newer_backups_and_says_why(attune_home):
    AuthStrategy(subscription_tier="max").save()
    reset_strategy()
    good = list_backups()[0]
    bad = attune_home / "backups" / "auth_strategy-29990101T000000.000000Z.json"
    bad.write_text("nope")
    result = restore_strategy()
    assert AuthStrategy.load().subscription_tier is SubscriptionTier.MAX
    assert result.restored_from == good
    assert [(path, "not valid JSON" in problem) for path, problem in result.skipped_backups] == [(bad, True)]
    assert result.to_dict()["skipped_backups"][0]["backup"] == str(bad)


def test_a_plain_restore_with_no_valid_backup_names_each_and_changes_nothing(attune_home):
    pro().save()
    backups = attune_home / "backups"
    backups.mkdir()
    (backups / "auth_strategy-29990101T000000.000000Z.json").write_text("nope")
    (backups / "auth_strategy-29980101T000000.000000Z.json").write_text('{"small_module_threshold": 0}')
    with pytest.raises(StrategyFileError) as info:
        restore_strategy()
    message = str(info.value)
    assert "29990101" in message and "not valid JSON" in message
    assert "29980101" in message and "small_module_threshold" in message
    assert AuthStrategy.load() == pro()


def test_get_auth_strategy_never_blocks_without_a_terminal(attune_home, monkeypatch):
    import io

    from attune.models import get_auth_strategy

    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # not a tty
    assert get_auth_strategy() == AuthStrategy()
    pro(setup_completed=True).save()
    assert get_auth_strategy().subscription_tier is SubscriptionTier.PRO


def test_strategy_file_location_honours_attune_home_and_platformdirs(tmp_path):
    import subprocess
    import sys

    code = "from attune.models import AUTH_STRATEGY_FILE; print(AUTH_STRATEGY_FILE)"
    env = {k: v for k, v in os.environ.items() if k != "ATTUNE_HOME"}
    with_home = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "ATTUNE_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert with_home == str(tmp_path / "auth_strategy.json")
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
    default = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert default == str(tmp_path / "xdg" / "attune" / "auth_strategy.json")


def test_estimate_cost_for_exact_tokens_matches_the_line_estimate():
    s = pro()
    by_lines = s.estimate_cost(1000, "api")
    by_tokens = s.estimate_cost_for_tokens(4000, "api")
    assert by_tokens["monetary_cost"] == by_lines["monetary_cost"]
    assert s.estimate_cost_for_tokens(4000, "subscription")["quota_cost"] == by_lines["tokens_used"]
    with pytest.raises(ValueError, match="api' or 'subscription"):
        s.estimate_cost_for_tokens(4000, "auto")


def test_reason_says_line_or_lines_correctly():
    assert "(1 line)" in pro().recommend(1).reason
    assert "(0 lines)" in pro().recommend(0).reason
    assert "(2 lines)" in pro().recommend(2).reason
