"""The calls the telemetry benchmarks store: a team's month, with a realistic spread of keys.

- 50 workflows x 7 stages x 3 models = 1,050 workflow x stage x model combinations.
  A (workflow, stage) pair's share of the calls follows Zipf's law (s = 1.1): a few
  stages are busy, most are quiet, as in any code base. Each stage's calls go 60 % to
  the cheap model, 30 % to the capable one, 10 % to the premium one.
- 20 users, also Zipf-distributed (a few heavy users).
- 12 task types; tokens log-normal (median 2,000 in, 300 out); 5 % of calls fail.
- Time-ordered, as calls are recorded: evenly spread over ``span``, ending now.

Seeded: the same arguments give the same calls.
"""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

from attune.models.telemetry.records import LLMCallRecord

MODELS = (
    ("cheap", "claude-haiku-4-5", 0.6, 1.0, 5.0),
    ("capable", "claude-sonnet-4-6", 0.3, 3.0, 15.0),
    ("premium", "claude-opus-4-6", 0.1, 5.0, 25.0),
)
WORKFLOWS, STAGES, USERS = 50, 7, 20
TASKS = tuple(f"task{t}" for t in range(12))


def _zipf_weights(n: int, s: float = 1.1) -> list[float]:
    return [1.0 / (rank**s) for rank in range(1, n + 1)]


def team_calls(n: int, *, span: timedelta = timedelta(days=29), seed: int = 1) -> list[LLMCallRecord]:
    rng = random.Random(seed)
    pairs = [(f"wf{w:02d}", f"stage{s}") for w in range(WORKFLOWS) for s in range(STAGES)]
    rng.shuffle(pairs)  # the busy stages are not all in one workflow
    pair_picks = rng.choices(pairs, weights=_zipf_weights(len(pairs)), k=n)
    model_picks = rng.choices(MODELS, weights=[m[2] for m in MODELS], k=n)
    users = [f"dev{u:02d}@team.example" for u in range(USERS)]
    user_picks = rng.choices(users, weights=_zipf_weights(USERS), k=n)
    task_of = {pair: rng.choice(TASKS) for pair in pairs}
    end = datetime.now(UTC) - timedelta(minutes=1)
    step = span / n
    start = end - span
    out = []
    for i, ((workflow, stage), (tier, model, _, price_in, price_out), user) in enumerate(
        zip(pair_picks, model_picks, user_picks, strict=True)
    ):
        tokens_in = min(200_000, int(rng.lognormvariate(7.6, 0.8)))
        tokens_out = min(32_000, int(rng.lognormvariate(5.7, 0.7)))
        ok = rng.random() >= 0.05
        out.append(
            LLMCallRecord(
                workflow=workflow,
                stage=stage,
                task_type=task_of[(workflow, stage)],
                provider="anthropic",
                tier=tier,
                model_id=model,
                success=ok,
                error_type=None if ok else "overloaded",
                latency_ms=rng.uniform(300, 4000),
                tokens_input=tokens_in,
                tokens_output=tokens_out if ok else 0,
                cost=(tokens_in * price_in + (tokens_out if ok else 0) * price_out) / 1e6,
                timestamp=start + step * i,
                user=user,
                machine=f"host-{users.index(user):02d}",
            )
        )
    return out


def combinations(calls: list[LLMCallRecord]) -> int:
    """How many distinct workflow x stage x model combinations ``calls`` hold."""
    return len({(c.workflow, c.stage, c.model_id) for c in calls})


def busiest_and_typical(calls: list[LLMCallRecord]) -> tuple[tuple[str, str], tuple[str, str]]:
    """The (workflow, stage) with the most calls, and the one at the median rank."""
    counts: dict[tuple[str, str], int] = {}
    for c in calls:
        counts[(c.workflow, c.stage)] = counts.get((c.workflow, c.stage), 0) + 1
    ranked = sorted(counts, key=lambda p: -counts[p])
    return ranked[0], ranked[len(ranked) // 2]


def batches(calls: list[LLMCallRecord], size: int) -> list[list[LLMCallRecord]]:
    it = iter(calls)
    return [list(chunk) for chunk in iter(lambda: list(itertools.islice(it, size)), [])]
