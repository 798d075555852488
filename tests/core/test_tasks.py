"""Tasks are priced pipelines: the four shipped task files, their prompts, their
checks, and estimate_task's prices in each mode."""

from __future__ import annotations

import pytest

from attune.models import TASKS, AuthStrategy, TaskEstimate, estimate_task, get_task, task_names
from attune.models.pricing.pipeline import (
    OutputRule,
    TaskDefinitionError,
    parse_task,
    price_pipeline,
    template_tokens,
)


def strategy(tier: str = "pro", **fields: object) -> AuthStrategy:
    return AuthStrategy(subscription_tier=tier, **fields)


def test_the_four_tasks_load_with_their_stages() -> None:
    assert task_names() == ("document", "review", "explain", "tests")
    assert list(TASKS) == list(task_names()) and len(TASKS) == 4
    assert [s.name for s in get_task("document").stages] == ["outline", "write", "polish", "api_reference"]
    for name in task_names():
        task = TASKS[name]
        assert task.name == name and task.description and task.output_hint
        assert set(task.final) <= {s.name for s in task.stages}
        assert all(s.tier in ("cheap", "capable", "premium") and s.output_ratio > 0 for s in task.stages)
    assert get_task("document").final == ("polish", "api_reference")
    assert get_task("tests").final == ("write_tests",)
    assert "pytest" in get_task("tests").output_hint


def test_an_unknown_task_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown task 'translate'; the tasks are document, review, explain, tests"):
        get_task("translate")
    with pytest.raises(KeyError):
        TASKS["translate"]


@pytest.mark.parametrize("lines", [1, 120, 499, 2500, 60_000])
@pytest.mark.parametrize("mode", ["api", "subscription"])
def test_the_document_task_is_what_estimate_cost_always_priced(lines: int, mode: str) -> None:
    s = strategy()
    old = s.estimate_cost(lines, mode)
    new = estimate_task("document", lines=lines, mode=mode, strategy=s)
    assert [stage.to_dict() for stage in new.stages] == old["breakdown"]
    assert round(new.total_cost, 6) == old["monetary_cost"]
    assert round(new.api_cost, 6) == old["api_equivalent_cost"]
    assert new.quota_tokens == old["quota_cost"] and new.tokens == old["tokens"]
    assert new.fits_in_context == old["fits_in_context"]


def test_the_document_numbers_are_the_documented_ones() -> None:
    prompt = {s.name: s.prompt_overhead for s in get_task("document").stages}
    outline, write, polish, api_reference = price_pipeline(10_000)
    assert (outline.input_tokens, outline.output_tokens) == (10_000 + prompt["outline"], 1_000)
    assert (write.input_tokens, write.output_tokens) == (11_000 + prompt["write"], 5_000)
    assert (polish.input_tokens, polish.output_tokens) == (5_000 + prompt["polish"], 5_000)
    assert (api_reference.input_tokens, api_reference.output_tokens) == (10_000 + prompt["api_reference"], 1_500)
    assert [s.model for s in (outline, write, polish, api_reference)] == [
        "claude-haiku-4-5",
        "claude-sonnet-4-6",
        "claude-opus-4-6",
        "claude-haiku-4-5",
    ]


def test_each_task_reads_the_outputs_it_names() -> None:
    est = estimate_task("review", tokens=10_000, mode="api", strategy=strategy())
    scan, review = est.stages
    prompt = {s.name: s.prompt_overhead for s in get_task("review").stages}
    assert (scan.input_tokens, scan.output_tokens) == (10_000 + prompt["scan"], 1_500)
    assert (review.input_tokens, review.output_tokens) == (10_000 + 1_500 + prompt["review"], 4_000)
    assert (scan.model, review.model) == ("claude-haiku-4-5", "claude-sonnet-4-6")
    assert est.total_cost == pytest.approx(
        scan.input_tokens * 1e-6 + 1_500 * 5e-6 + review.input_tokens * 3e-6 + 4_000 * 15e-6
    )


def test_a_stages_prompt_costs_its_templates_own_tokens_unless_the_file_says() -> None:
    stage = get_task("explain").stage("map")
    # the templates without their placeholders, at 4 bytes a token, plus the message framing
    assert stage.prompt_overhead == template_tokens(stage.system, stage.user)
    assert 50 < stage.prompt_overhead < 300
    explicit = parse_task(
        "x",
        'description = "d"\noutput_hint = "h"\n[[stages]]\nname = "only"\ntier = "cheap"\nreads_module = true\n'
        'output_ratio = 0.5\nprompt_overhead = 42\nsystem = "s"\nuser = "{module}"\n',
    )
    assert explicit.stages[0].prompt_overhead == 42


def test_the_subscription_costs_nothing_and_charges_the_quota() -> None:
    est = estimate_task("tests", lines=1_000, mode="subscription", strategy=strategy())
    assert est.mode == "subscription" and est.total_cost == 0 and est.api_cost > 0
    assert all(s.cost == 0 and s.api_cost > 0 for s in est.stages)
    assert est.quota_tokens == sum(s.input_tokens + s.output_tokens for s in est.stages)
    api = estimate_task("tests", lines=1_000, mode="api", strategy=strategy())
    assert api.total_cost == pytest.approx(est.api_cost) and api.quota_tokens == 0
    doc = est.to_dict()
    assert doc["task"] == "tests" and doc["total_cost"] == 0 and len(doc["stages"]) == 2


@pytest.mark.parametrize("tier", ["free", "api_only"])
def test_a_plan_without_quota_gets_no_subscription_estimate(tier: str) -> None:
    with pytest.raises(ValueError, match="no subscription quota"):
        estimate_task("review", lines=100, mode="subscription", strategy=strategy(tier))
    assert estimate_task("review", lines=100, mode="auto", strategy=strategy(tier)).mode == "api"


def test_lines_use_the_strategys_multiplier_and_tokens_are_taken_as_they_are() -> None:
    s = strategy(loc_to_tokens_multiplier=10.0)
    assert estimate_task("explain", lines=100, mode="api", strategy=s).tokens == 1_000
    assert estimate_task("explain", tokens=777, mode="api", strategy=s).tokens == 777
    both = estimate_task("explain", lines=100, tokens=777, mode="api", strategy=s)
    assert (both.tokens, both.lines) == (777, 100)
    with pytest.raises(ValueError, match="needs lines, tokens or both"):
        estimate_task("explain", mode="api", strategy=s)
    with pytest.raises(ValueError, match="mode 'auto' decides from lines"):
        estimate_task("explain", tokens=10, mode="auto", strategy=s)


def test_the_saved_strategy_is_the_default(attune_home) -> None:
    est = estimate_task("document", lines=100, mode="api")
    assert isinstance(est, TaskEstimate) and est.tokens == 400


def test_a_module_over_the_subscriptions_window_does_not_fit_there() -> None:
    big = estimate_task("review", tokens=300_000, mode="subscription", strategy=strategy())
    assert big.fits_in_context is False and big.context_window == 200_000
    assert estimate_task("review", tokens=300_000, mode="api", strategy=strategy()).fits_in_context is True


def test_prompts_render_the_module_path_language_and_earlier_outputs() -> None:
    write = get_task("document").stage("write")
    module = "def f(x):\n    return {'outline': x}  # {outline} {polish}\n"
    system, user = write.render(module, "pkg/f.py", "Python", {"outline": "# Plan\n- f"})
    assert module in user and "pkg/f.py" in user and "# Plan\n- f" in user
    assert "{outline} {polish}" in user  # text inside the module is not a placeholder
    assert "{" not in system
    with pytest.raises(KeyError, match="outline"):
        write.render(module, "pkg/f.py", "Python", {})
    polish = get_task("document").stage("polish")
    _, user = polish.render(module, "pkg/f.py", "Python", {"write": "DRAFT", "outline": "unused"})
    assert "DRAFT" in user and module not in user


def test_every_stage_prompt_is_complete_once_rendered() -> None:
    for task in TASKS.values():
        earlier: dict[str, str] = {}
        for stage in task.stages:
            system, user = stage.render("print('hi')", "a.py", "Python", earlier)
            for placeholder in ("{module}", "{path}", "{language}", *(f"{{{s.name}}}" for s in task.stages)):
                assert placeholder not in system + user, (task.name, stage.name, placeholder)
            earlier[stage.name] = f"<{stage.name} output>"
        assert task.final_output(earlier) == "\n\n".join(f"<{name} output>" for name in task.final)


GOOD = """
description = "d"
output_hint = "h"
[[stages]]
name = "first"
tier = "cheap"
reads_module = true
output_ratio = 0.5
system = "s"
user = "{module}"
"""


def second(**fields: str) -> str:
    stage = {"name": '"second"', "tier": '"capable"', "reads": '["first"]', "output_ratio": "1.0"}
    stage.update(fields)
    stage.setdefault("system", '"s"')
    stage.setdefault("user", '"{first}"')
    return GOOD + "[[stages]]\n" + "".join(f"{k} = {v}\n" for k, v in stage.items())


def test_a_good_file_parses_and_the_last_stage_is_final_by_default() -> None:
    task = parse_task("mine", second())
    assert [s.name for s in task.stages] == ["first", "second"] and task.final == ("second",)
    assert task.stages[1].reads == ("first",) and task.stages[1].reads_module is False


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (second(reads='["third"]'), "reads 'third', which is not an earlier stage"),
        (second(tier='"huge"'), "tier must be one of cheap, capable, premium"),
        (second(output_ratio="0"), "output_ratio must be a number > 0"),
        (second(output_ratio="-1"), "output_ratio must be a number > 0"),
        (second(user='"{module}"'), "has {module} but reads_module is false"),
        (second(user='"no input"'), "reads 'first' but the user prompt has no {first}"),
        (second(reads="[]", user='"x"'), "reads nothing"),
        (second(name='"first"'), "defined twice"),
        (GOOD.replace('user = "{module}"', 'user = "plain"'), "the user prompt has no {module}"),
        (GOOD + 'final = ["nope"]', "stage 'first': unknown key(s) final"),
        (GOOD.replace('description = "d"', 'description = "d"\nfinal = ["nope"]'), "final must be"),
        (GOOD.replace('tier = "cheap"', 'tier = "cheap"\ncolour = "red"'), "unknown key(s) colour"),
        ("description = ", "not valid TOML"),
    ],
)
def test_a_bad_task_file_is_refused_naming_the_problem(text: str, problem: str) -> None:
    with pytest.raises(TaskDefinitionError) as info:
        parse_task("mine", text)
    assert str(info.value).startswith("task file mine.toml: ") and problem in str(info.value)


def test_calibrated_output_rules_replace_the_task_files_for_the_stages_they_name() -> None:
    s = strategy()
    plain = estimate_task("document", tokens=10_000, mode="api", strategy=s)
    assert plain.tokens_basis is None and plain.calibrated_stages == ()
    rules = {"write": OutputRule(ratio=0.2, base=150), "nope": OutputRule(ratio=9.0)}
    tuned = estimate_task("document", tokens=10_000, mode="api", strategy=s, output_rules=rules, tokens_basis="x")
    by_name = {st.stage: st for st in tuned.stages}
    assert by_name["write"].output_tokens == 2_150
    assert by_name["outline"].output_tokens == {st.stage: st for st in plain.stages}["outline"].output_tokens
    assert tuned.calibrated_stages == ("write",)
    assert tuned.api_cost < plain.api_cost  # write's output is read by polish too
    assert tuned.to_dict()["tokens_basis"] == "x" and tuned.to_dict()["calibrated_stages"] == ["write"]
    from_lines = estimate_task("document", lines=100, mode="api", strategy=s)
    assert from_lines.tokens_basis == "default 4 tokens/line"
