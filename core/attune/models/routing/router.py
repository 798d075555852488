"""The adaptive router: which model a workflow stage should call, from real telemetry.

How ``explain`` decides (``get_best_model`` is ``explain(...).model_id``):

1. Candidates are the models with calls in this workflow and stage in the window
   (default the last 7 days). A model needs ``min_samples`` (10) calls to be ranked.
2. A ranked model is excluded, with the cause recorded, when it is not in the model
   registry, when its ``provider:tier`` breaker is OPEN (``peek_state``: no probe
   permit is taken), or when it misses a constraint: ``success_rate <
   min_success_rate``, ``avg_latency_ms > max_latency_ms``, ``avg_cost > max_cost``
   (dollars per call). Realtime tasks (``tasks.is_realtime`` on the task type, the
   workflow or the stage) ignore ``max_cost`` and weigh latency first.
3. The highest ``quality_score`` wins (ties: cheaper, then model id).
4. With no ranked model (no history, or too little), the registry's default for the
   task's tier (``get_tier_for_task(task_type or stage)``) is returned and the reason
   logged at DEBUG. When ranked models exist but every one is excluded, the same
   default is returned and a WARNING names the constraints and each model's cause.

quality_score, for the ranked models of one decision (each term in [0, 1]):

    base    = w_s * wilson_lower_95(successes, calls)
            + w_l * fastest_avg_latency / avg_latency
            + w_c * (cheapest_avg_cost + 1e-6) / (avg_cost + 1e-6)
    quality = base * (1 - 0.5 * recent_failures / recent_calls)

Weights (w_s, w_l, w_c): (0.6, 0.2, 0.2) normally, (0.4, 0.6, 0.0) for realtime tasks.
The Wilson lower bound makes sample size count (9/10 ranks below 900/1000), and
``recent_failures`` (failures among the model's newest 10 calls here) pulls down a
model that is failing now even if its week looks good.

Exploration (off by default): with ``exploration_rate`` > 0, that share of decisions
goes to a registry model with fewer than ``min_samples`` calls here (breaker not
open), chosen at random (``seed`` makes it repeatable), so a new model can earn the
samples it needs to be ranked. It may pick a model of any tier.
"""

from __future__ import annotations

import logging
import math
import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from attune.models.pricing import registry as _registry
from attune.models.pricing.registry import ModelInfo
from attune.models.pricing.tasks import TIERS, get_tier_for_task, is_realtime
from attune.models.telemetry.records import MAX_COST, MAX_LATENCY_MS, ModelAggregate, TelemetryBackend

logger = logging.getLogger(__name__)

DEFAULT_WINDOW_DAYS = 7.0
MAX_WINDOW_DAYS = 36_500.0  # a century: every call since 1970, and far from datetime's year 1
MIN_SAMPLES = 10
RECENT_CALLS = 10
RECENT_FAILURE_PENALTY = 0.5
WEIGHTS_STANDARD = (0.6, 0.2, 0.2)  # success, latency, cost
WEIGHTS_REALTIME = (0.4, 0.6, 0.0)
COST_EPSILON = 1e-6  # dollars: keeps the cost ratio defined when calls are free
WILSON_Z = 1.96
UPGRADE_WINDOW_CALLS = 20
UPGRADE_FAILURE_THRESHOLD = 0.2  # strictly more than this share of failures -> upgrade
BREAKER_OPEN = "open"


class BreakerView(Protocol):
    """The one breaker method the router uses: a state read with no side effect."""

    def peek_state(self, provider: str, tier: str | None = None) -> str: ...


@dataclass
class ModelPerformance:
    """One model's record in a workflow stage over the router's window."""

    model_id: str
    provider: str
    tier: str
    sample_size: int
    success_rate: float
    avg_latency_ms: float
    avg_cost: float
    recent_failures: int = 0
    quality_score: float | None = None  # None: too few samples to rank


@dataclass
class RoutingDecision:
    """What the router chose and why; ``attune routing best`` prints it."""

    model_id: str
    reason: str
    fallback: bool
    tier: str
    realtime: bool
    candidates: list[ModelPerformance] = field(default_factory=list)
    excluded: list[dict[str, str]] = field(default_factory=list)
    constraints: dict[str, Any] = field(default_factory=dict)
    explored: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def wilson_lower_bound(successes: int, n: int, z: float = WILSON_Z) -> float:
    """Lower end of the 95% Wilson interval of a success rate: cautious with few calls."""
    if n <= 0:
        return 0.0
    p = successes / n
    z2 = z * z
    centre = p + z2 / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, (centre - spread) / (1 + z2 / n))


def score(
    perfs: list[ModelPerformance], successes: Mapping[int, int], recent_counts: Mapping[int, int], *, realtime: bool
) -> None:
    """Set ``quality_score`` on each of ``perfs`` (normalised within them; formula in
    the module doc). ``successes``/``recent_counts`` are keyed by ``id(perf)``."""
    if not perfs:
        return
    w_s, w_l, w_c = WEIGHTS_REALTIME if realtime else WEIGHTS_STANDARD
    fastest = min(p.avg_latency_ms for p in perfs)
    cheapest = min(p.avg_cost for p in perfs)
    for p in perfs:
        latency_term = fastest / p.avg_latency_ms if p.avg_latency_ms > 0 else 1.0
        cost_term = (cheapest + COST_EPSILON) / (p.avg_cost + COST_EPSILON)
        base = w_s * wilson_lower_bound(successes[id(p)], p.sample_size) + w_l * latency_term + w_c * cost_term
        recent = recent_counts.get(id(p), 0)
        penalty = RECENT_FAILURE_PENALTY * p.recent_failures / recent if recent else 0.0
        p.quality_score = round(base * (1 - penalty), 6)


def _fmt_constraints(constraints: Mapping[str, Any]) -> str:
    parts = [f"min_success_rate={constraints['min_success_rate']}"]
    for name in ("max_latency_ms", "max_cost"):
        value = constraints.get(name)
        if value is not None:
            ignored = name == "max_cost" and not constraints.get("max_cost_applied", True)
            parts.append(f"{name}={value}" + (" (ignored: realtime task)" if ignored else ""))
    return ", ".join(parts)


def _describe(p: ModelPerformance) -> str:
    return f"success {p.success_rate:.0%}, {p.avg_latency_ms:.0f} ms, ${p.avg_cost:.4f}/call over {p.sample_size} calls"


def check_days(name: str, days: Any) -> float:
    """A window in days: a number > 0 and at most ``MAX_WINDOW_DAYS``; ValueError naming it."""
    if isinstance(days, bool) or not isinstance(days, (int, float)) or not math.isfinite(days):
        raise ValueError(f"{name} must be a number of days, got {days!r}")
    if not 0 < days <= MAX_WINDOW_DAYS:
        raise ValueError(f"{name} must be > 0 and at most {MAX_WINDOW_DAYS:,.0f} days, got {days!r}")
    return float(days)


class AdaptiveModelRouter:
    """Picks a model per workflow stage from telemetry (rules in the module doc)."""

    def __init__(
        self,
        telemetry: TelemetryBackend,
        breaker: BreakerView | None = None,
        registry: Mapping[str, Mapping[str, ModelInfo]] | None = None,
        *,
        window_days: float = DEFAULT_WINDOW_DAYS,
        min_samples: int = MIN_SAMPLES,
        exploration_rate: float = 0.0,
        seed: int | None = None,
    ) -> None:
        check_days("window_days", window_days)
        if isinstance(min_samples, bool) or not isinstance(min_samples, int) or min_samples < 1:
            raise ValueError(f"min_samples must be an integer >= 1, got {min_samples!r}")
        if not (0.0 <= exploration_rate <= 1.0):
            raise ValueError(f"exploration_rate must be in [0, 1], got {exploration_rate!r}")
        self.telemetry = telemetry
        self.breaker = breaker
        self._registry = registry
        self.window_days = window_days
        self.min_samples = min_samples
        self.exploration_rate = exploration_rate
        self._rng = random.Random(seed)

    # --- helpers -----------------------------------------------------------------

    @property
    def registry(self) -> Mapping[str, Mapping[str, ModelInfo]]:
        # None -> read each time: effective_registry() is cached by pricing.json mtime
        return self._registry if self._registry is not None else _registry.effective_registry()

    def _since(self, days: float | None = None) -> datetime:
        return datetime.now(UTC) - timedelta(days=self.window_days if days is None else days)

    def _window_text(self, days: float | None = None) -> str:
        days = self.window_days if days is None else days
        return f"the last {days:g} day{'s' if days != 1 else ''}"

    def default_model(self, tier: str) -> ModelInfo:
        """The registry's model for a tier: the default provider's, else the first."""
        reg = self.registry
        preferred = reg.get(_registry.DEFAULT_PROVIDER, {}).get(tier)
        if preferred is not None:
            return preferred
        for tiers in reg.values():
            if tier in tiers:
                return tiers[tier]
        raise LookupError(f"the model registry has no model for the {tier!r} tier")

    def _breaker_open(self, provider: str, tier: str, cache: dict[tuple[str, str], bool]) -> bool:
        if self.breaker is None:
            return False
        key = (provider, tier)
        if key not in cache:
            cache[key] = self.breaker.peek_state(provider, tier) == BREAKER_OPEN
        return cache[key]

    def _performances(
        self, workflow: str, stage: str | None, aggregates: list[ModelAggregate], since: datetime, *, realtime: bool
    ) -> list[ModelPerformance]:
        """ModelPerformance per aggregate; the ones with enough samples get scores."""
        perfs: list[ModelPerformance] = []
        successes: dict[int, int] = {}
        recent_counts: dict[int, int] = {}
        for agg in aggregates:
            perf = ModelPerformance(
                model_id=agg.model_id,
                provider=agg.provider,
                tier=agg.tier,
                sample_size=agg.calls,
                success_rate=agg.success_rate,
                avg_latency_ms=agg.avg_latency_ms,
                avg_cost=agg.avg_cost,
            )
            if agg.calls >= self.min_samples:
                recent = [
                    c
                    for c in self.telemetry.recent_calls(
                        workflow, stage, model_id=agg.model_id, since=since, limit=RECENT_CALLS * 2
                    )
                    if c.provider == agg.provider and c.tier == agg.tier
                ][:RECENT_CALLS]
                perf.recent_failures = sum(1 for c in recent if not c.success)
                recent_counts[id(perf)] = len(recent)
                successes[id(perf)] = agg.successes
            perfs.append(perf)
        score([p for p in perfs if id(p) in successes], successes, recent_counts, realtime=realtime)
        return perfs

    @staticmethod
    def _check_constraints(max_cost: float | None, max_latency_ms: float | None, min_success_rate: float) -> None:
        if max_cost is not None and not (math.isfinite(max_cost) and 0 <= max_cost <= MAX_COST):
            raise ValueError(f"max_cost must be a number of dollars from 0 to {MAX_COST:,.0f}, got {max_cost!r}")
        if max_latency_ms is not None and not (math.isfinite(max_latency_ms) and 0 < max_latency_ms <= MAX_LATENCY_MS):
            raise ValueError(
                f"max_latency_ms must be a number > 0 and at most {MAX_LATENCY_MS:,.0f} (a day), got {max_latency_ms!r}"
            )
        if not (isinstance(min_success_rate, (int, float)) and 0.0 <= min_success_rate <= 1.0):
            raise ValueError(f"min_success_rate must be between 0 and 1, got {min_success_rate!r}")

    # --- decisions ---------------------------------------------------------------

    def explain(
        self,
        workflow: str,
        stage: str,
        max_cost: float | None = None,
        max_latency_ms: float | None = None,
        min_success_rate: float = 0.8,
        task_type: str | None = None,
    ) -> RoutingDecision:
        """The routing decision with its reason and every excluded model's cause."""
        self._check_constraints(max_cost, max_latency_ms, min_success_rate)
        realtime = is_realtime(task_type, workflow, stage)
        tier = get_tier_for_task(task_type or stage)
        default = self.default_model(tier)
        constraints: dict[str, Any] = {
            "max_cost": max_cost,
            "max_cost_applied": max_cost is not None and not realtime,
            "max_latency_ms": max_latency_ms,
            "min_success_rate": min_success_rate,
            "min_samples": self.min_samples,
            "window_days": self.window_days,
        }
        since = self._since()
        where = f"{workflow}/{stage}"
        perfs = self._performances(
            workflow, stage, self.telemetry.aggregate_by_model(workflow, stage, since=since), since, realtime=realtime
        )
        known_ids = {info.id for tiers in self.registry.values() for info in tiers.values()}
        breakers: dict[tuple[str, str], bool] = {}

        ranked: list[ModelPerformance] = []
        eligible: list[ModelPerformance] = []
        excluded: list[dict[str, str]] = []
        for p in perfs:
            causes = []
            if p.sample_size < self.min_samples:
                causes.append(f"only {p.sample_size} calls in {self._window_text()} (needs {self.min_samples})")
            else:
                ranked.append(p)
                if p.model_id not in known_ids:
                    causes.append("not in the model registry")
                if self._breaker_open(p.provider, p.tier, breakers):
                    causes.append(f"circuit breaker {p.provider}:{p.tier} is open")
                if p.success_rate < min_success_rate:
                    causes.append(f"success rate {p.success_rate:.1%} < min_success_rate {min_success_rate:.1%}")
                if max_latency_ms is not None and p.avg_latency_ms > max_latency_ms:
                    causes.append(f"avg latency {p.avg_latency_ms:.0f} ms > max_latency_ms {max_latency_ms:g}")
                if constraints["max_cost_applied"] and p.avg_cost > max_cost:  # type: ignore[operator]
                    causes.append(f"avg cost ${p.avg_cost:.6f}/call > max_cost ${max_cost:g}")
            if causes:
                excluded.append(
                    {"model_id": p.model_id, "provider": p.provider, "tier": p.tier, "cause": "; ".join(causes)}
                )
            else:
                eligible.append(p)

        decision = RoutingDecision(
            model_id=default.id,
            reason="",
            fallback=True,
            tier=tier,
            realtime=realtime,
            candidates=perfs,
            excluded=excluded,
            constraints=constraints,
        )
        explored = self._explore(perfs, breakers)
        if explored is not None:
            decision.model_id, decision.fallback, decision.explored = explored.id, False, True
            samples = next((p.sample_size for p in perfs if p.model_id == explored.id), 0)
            decision.reason = (
                f"exploring: {explored.id} has {samples} of the {self.min_samples} "
                f"calls it needs to be ranked (exploration_rate "
                f"{self.exploration_rate:g})"
            )
            logger.debug("routing %s: %s", where, decision.reason)
            return decision

        if eligible:
            best = min(eligible, key=lambda p: (-(p.quality_score or 0.0), p.avg_cost, p.model_id))
            decision.model_id, decision.fallback = best.model_id, False
            decision.reason = (
                f"{best.model_id} has the best quality score {best.quality_score:.3f} of "
                f"{len(eligible)} eligible model{'s' if len(eligible) != 1 else ''} "
                f"({_describe(best)} in {self._window_text()}"
                + (", realtime: latency first, no cost limit" if realtime else "")
                + ")"
            )
            logger.debug("routing %s: %s", where, decision.reason)
            return decision

        default_note = f"using the {tier} tier default {default.id}"
        if self._breaker_open(default.provider, default.tier, breakers):
            default_note += f" (its breaker {default.provider}:{default.tier} is open too)"
        if not ranked:
            decision.reason = (
                f"no model has {self.min_samples} calls in {where} in {self._window_text()}; {default_note}"
            )
            logger.debug("routing %s: %s", where, decision.reason)
            return decision

        details = "; ".join(f"{e['model_id']}: {e['cause']}" for e in excluded)
        decision.reason = f"no model meets the constraints ({_fmt_constraints(constraints)}); {default_note}"
        logger.warning(
            "routing %s: no model meets the constraints (%s); falling back to %s, the %s tier default. Excluded: %s",
            where,
            _fmt_constraints(constraints),
            default.id,
            tier,
            details,
        )
        return decision

    def _explore(self, perfs: list[ModelPerformance], breakers: dict[tuple[str, str], bool]) -> ModelInfo | None:
        if self.exploration_rate <= 0 or self._rng.random() >= self.exploration_rate:
            return None
        samples = {p.model_id: p.sample_size for p in perfs}
        pool = [
            info
            for tiers in self.registry.values()
            for info in tiers.values()
            if samples.get(info.id, 0) < self.min_samples and not self._breaker_open(info.provider, info.tier, breakers)
        ]
        pool.sort(key=lambda m: m.id)
        return self._rng.choice(pool) if pool else None

    def get_best_model(
        self,
        workflow: str,
        stage: str,
        max_cost: float | None = None,
        max_latency_ms: float | None = None,
        min_success_rate: float = 0.8,
        task_type: str | None = None,
    ) -> str:
        """The model id to call for this stage (see ``explain`` for the why)."""
        return self.explain(
            workflow,
            stage,
            max_cost=max_cost,
            max_latency_ms=max_latency_ms,
            min_success_rate=min_success_rate,
            task_type=task_type,
        ).model_id

    def recommend_tier_upgrade(self, workflow: str, stage: str) -> tuple[bool, str]:
        """From the newest 20 calls in the window: more than 20% failures -> upgrade
        to the next tier. Needs ``min_samples`` calls to judge."""
        calls = self.telemetry.recent_calls(workflow, stage, since=self._since(), limit=UPGRADE_WINDOW_CALLS)
        n = len(calls)
        where = f"{workflow}/{stage}"
        if n < self.min_samples:
            return False, (
                f"only {n} calls to {where} in {self._window_text()}; {self.min_samples} are needed to judge"
            )
        failures = [c for c in calls if not c.success]
        rate = len(failures) / n
        summary = f"{len(failures)} of the newest {n} calls to {where} failed ({rate:.0%})"
        if rate <= UPGRADE_FAILURE_THRESHOLD:
            return False, f"{summary}, not more than {UPGRADE_FAILURE_THRESHOLD:.0%}: keep the tier"
        errors = Counter(c.error_type or "unknown" for c in failures).most_common(3)
        error_text = ", ".join(f"{kind} x{count}" for kind, count in errors)
        tier = calls[0].tier  # the tier the stage runs on now
        if tier not in TIERS:
            return True, (
                f"{summary}, more than {UPGRADE_FAILURE_THRESHOLD:.0%} ({error_text}); "
                f"move to a more capable tier than {tier!r}"
            )
        index = TIERS.index(tier)
        if index == len(TIERS) - 1:
            return False, (
                f"{summary} ({error_text}), but it already runs on {tier}, the highest "
                "tier: the failures are not a tier problem"
            )
        next_tier = TIERS[index + 1]
        try:
            target = f" ({self.default_model(next_tier).id})"
        except LookupError:
            target = ""
        return True, (
            f"{summary}, more than {UPGRADE_FAILURE_THRESHOLD:.0%} ({error_text}): "
            f"upgrade from {tier} to {next_tier}{target}"
        )

    def get_routing_stats(
        self, workflow: str, stage: str | None = None, days: float = DEFAULT_WINDOW_DAYS
    ) -> dict[str, Any]:
        """What the router knows about a workflow (or one stage) over ``days``.

        ``avg_cost`` is dollars per call and ``avg_success_rate`` is successes / calls
        over all models; both are None when there were no calls."""
        check_days("days", days)
        since = self._since(days)
        aggregates = self.telemetry.aggregate_by_model(workflow, stage, since=since)
        perfs = self._performances(workflow, stage, aggregates, since, realtime=is_realtime(workflow, stage))
        by_model: dict[str, dict[str, Any]] = {}
        for agg, perf in zip(aggregates, perfs, strict=True):
            entry = asdict(perf)
            entry["total_cost"] = agg.cost_sum
            entry["tokens_input"] = agg.tokens_input_sum
            entry["tokens_output"] = agg.tokens_output_sum
            key = perf.model_id if perf.model_id not in by_model else f"{perf.model_id} ({perf.provider}:{perf.tier})"
            by_model[key] = entry
        total_calls = sum(a.calls for a in aggregates)
        total_cost = sum(a.cost_sum for a in aggregates)
        successes = sum(a.successes for a in aggregates)
        return {
            "workflow": workflow,
            "stage": stage,
            "days": days,
            "since": since.isoformat(timespec="seconds"),
            "models_used": list(by_model),
            "performance_by_model": by_model,
            "total_calls": total_calls,
            "avg_cost": total_cost / total_calls if total_calls else None,
            "avg_success_rate": successes / total_calls if total_calls else None,
        }
