"""What an experiment's counts say: rates, intervals, comparisons with the control, the
sequential rule's verdict, guardrails and whether a winner may be declared.

Pure: counts in (one `Arm` per variant, the `Plan`, the formal `Looks` so far), one
`Analysis` out, whose `as_dict()` is the "arms", "plan" and "decision" parts of the
results document. No database; `results.compute` feeds it and stores what it returns
(including `Analysis.looks` when this computation was a formal look).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from campaigns.experiments import bandit, sequential, stats


@dataclass(frozen=True, slots=True)
class Arm:
    """One variant's counts. Mail metrics count per delivered message, conversion and
    goal per exposed contact (`converted` holds goals reached for the goal metric)."""

    key: str
    name: str = ""
    exposed: int = 0
    delivered: int = 0
    opened: int = 0
    clicked: int = 0
    replied: int = 0
    unsubscribed: int = 0
    complained: int = 0
    converted: int = 0
    # Stopped (by hand or by a guardrail): shown, but out of the comparisons.
    stopped: bool = False

    def __post_init__(self) -> None:
        for name in (
            "exposed",
            "delivered",
            "opened",
            "clicked",
            "replied",
            "unsubscribed",
            "complained",
            "converted",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"{self.key}.{name} cannot be negative")


@dataclass(frozen=True, slots=True)
class Plan:
    """What the test was set up to detect. `per_variant` is the planned sample per
    variant (`planned_per_variant(...)` at start); None lets the first formal look fix it
    from the pooled rate when there is no baseline."""

    metric: str = "clicks"
    baseline: float | None = None
    min_effect: float = 0.2
    alpha: float = 0.05
    power: float = 0.8
    per_variant: int | None = None
    control: str = "a"
    guardrail_stop: bool = False

    def __post_init__(self) -> None:
        if self.baseline is not None and not 0 < self.baseline < 1:
            raise ValueError("baseline must be between 0 and 1")
        if self.min_effect <= 0:
            raise ValueError("min_effect must be positive")
        if not 0 < self.alpha < 1 or not 0 < self.power < 1:
            raise ValueError("alpha and power must be between 0 and 1")


@dataclass(frozen=True, slots=True)
class Looks:
    """The formal looks of the sequential rule so far (`Experiment.looks` as JSON):
    the share of the planned sample seen at each, when, and which arm (if any) the rule
    chose there. `planned` is the sample per variant the looks were measured against
    (fixed at the first look when the plan had none); `final`: the last look was the
    test's last (at the planned sample, or a broadcast's test phase ending)."""

    fractions: tuple[float, ...] = ()
    at: tuple[datetime, ...] = ()
    crossed: tuple[str | None, ...] = ()
    planned: int | None = None
    final: bool = False

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Looks:
        data = data or {}
        fractions = tuple(float(f) for f in data.get("fractions", ()))
        at = tuple(_instant(a) for a in data.get("at", ()))
        crossed = tuple(data.get("crossed", ())) or (None,) * len(fractions)
        planned = data.get("planned")
        return cls(
            fractions=fractions,
            at=at,
            crossed=tuple(None if c is None else str(c) for c in crossed),
            planned=None if planned is None else int(planned),
            final=bool(data.get("final", False)),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "fractions": list(self.fractions),
            "at": [a.isoformat() for a in self.at],
            "crossed": list(self.crossed),
            "planned": self.planned,
            "final": self.final,
        }

    @property
    def winner(self) -> str | None:
        return next((c for c in self.crossed if c is not None), None)


def _instant(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Comparison:
    """One variant against the control (the results document's "vs_control").
    p-values are the fixed-sample ones, for reading; `significant` is the sequential
    rule's verdict, which is what decides."""

    lift: float
    lift_low: float
    lift_high: float
    p_value: float
    p_adjusted: float
    method: str  # "z" | "fisher"
    significant: bool
    z: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "lift": self.lift,
            "lift_low": self.lift_low,
            "lift_high": self.lift_high,
            "p_value": self.p_value,
            "p_adjusted": self.p_adjusted,
            "method": self.method,
            "significant": self.significant,
            "z": self.z,
        }


@dataclass(frozen=True, slots=True)
class ArmResult:
    arm: Arm
    trials: int
    successes: int
    rate: float | None
    low: float | None
    high: float | None
    prob_best: float | None
    expected_loss: float | None
    guardrail: str | None
    vs_control: Comparison | None

    def as_dict(self) -> dict[str, Any]:
        arm = self.arm
        return {
            "key": arm.key,
            "name": arm.name,
            "exposed": arm.exposed,
            "trials": self.trials,
            "successes": self.successes,
            "rate": self.rate,
            "low": self.low,
            "high": self.high,
            "delivered": arm.delivered,
            "opened": arm.opened,
            "clicked": arm.clicked,
            "replied": arm.replied,
            "unsubscribed": arm.unsubscribed,
            "complained": arm.complained,
            "converted": arm.converted,
            "prob_best": self.prob_best,
            "expected_loss": self.expected_loss,
            "stopped": arm.stopped,
            "guardrail": self.guardrail,
            "vs_control": None if self.vs_control is None else self.vs_control.as_dict(),
        }


@dataclass(frozen=True, slots=True)
class Decision:
    state: str  # draft | collecting | winner | no_difference | decided | stopped
    winner: str | None
    reason: str
    can_declare: bool
    declarable: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "winner": self.winner,
            "reason": self.reason,
            "can_declare": self.can_declare,
            "declarable": list(self.declarable),
        }


@dataclass(frozen=True, slots=True)
class Analysis:
    metric: str
    per: str  # "delivered" | "exposed"
    arms: tuple[ArmResult, ...]
    plan: dict[str, Any]
    decision: Decision
    # The looks to store: with this computation's look appended when `looked`.
    looks: Looks
    looked: bool
    # Keys of variants a guardrail says to stop (only when the plan's guardrail_stop).
    stop: tuple[str, ...] = ()
    # Bandit mode: the Thompson-sampling shares for new contacts (key -> share).
    allocation: dict[str, float] | None = None

    def as_dict(self) -> dict[str, Any]:
        """The "metric", "per", "arms", "plan" and "decision" parts of the results
        document (the caller adds "computed_at" and "allocation")."""
        return {
            "metric": self.metric,
            "per": self.per,
            "arms": [arm.as_dict() for arm in self.arms],
            "plan": dict(self.plan),
            "decision": self.decision.as_dict(),
        }


# The count that is a success for each metric; the first three are per delivered message.
_SUCCESS = {
    "opens": "opened",
    "clicks": "clicked",
    "replies": "replied",
    "conversion": "converted",
    "goal": "converted",
}
_PER_DELIVERED = {"opens", "clicks", "replies"}
# A look needs the previous one to be about a day old; the hour of slack lets a daily
# refresh that runs a little early still look.
_LOOK_GAP = timedelta(hours=23)


def planned_per_variant(
    baseline: float,
    min_effect: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    variants: int = 2,
) -> int:
    """The sample per variant to plan for: the fixed-sample size for the relative lift
    `min_effect` over `baseline` (alpha split over the comparisons with the control),
    inflated for the sequential rule's early looks."""
    comparisons = max(1, variants - 1)
    fixed = stats.sample_size(baseline, min_effect, alpha=alpha / comparisons, power=power)
    return math.ceil(fixed * sequential.inflation(alpha / comparisons, power))


def _counts(arm: Arm, metric: str) -> tuple[int, int]:
    trials = arm.delivered if metric in _PER_DELIVERED else arm.exposed
    successes = getattr(arm, _SUCCESS[metric])
    return min(successes, trials), trials


def _pct(rate: float) -> str:
    return f"{rate:.2%}"


def _guardrail(arm: Arm, control: Arm, alpha: float) -> str | None:
    """Plain words when the arm's unsubscribe or complaint rate per delivered message is
    significantly above the control's (two-sided test at alpha, worse direction only)."""
    if arm.key == control.key:
        return None
    problems = []
    for label, field_name in (("unsubscribes", "unsubscribed"), ("complaints", "complained")):
        x1 = min(getattr(control, field_name), control.delivered)
        x2 = min(getattr(arm, field_name), arm.delivered)
        if arm.delivered == 0 or control.delivered == 0:
            continue
        test = stats.compare(x1, control.delivered, x2, arm.delivered)
        if test.z > 0 and test.p_value < alpha:
            problems.append(
                f"{label} {_pct(x2 / arm.delivered)} against {_pct(x1 / control.delivered)} "
                f"for the control (p = {test.p_value:.3g})"
            )
    return "; ".join(problems) or None


def analyse(
    arms: Sequence[Arm],
    plan: Plan,
    looks: Looks,
    *,
    now: datetime,
    mode: str = "fixed",
    seed: int = 0,
    status: str = "running",
    declared: str | None = None,
    final: bool = False,
    floor: float = 0.1,
) -> Analysis:
    """Analyse the counts at `now`. A formal look is taken when the last one is at least
    a day old (or at the planned sample, or when `final`: a broadcast's test phase ends)
    and there are more data than at the last one. `status`/`declared` are the
    experiment's status and declared winner; `mode`/`seed`/`floor` drive the bandit's
    allocation."""
    if plan.metric not in _SUCCESS:
        raise ValueError(f"unknown metric {plan.metric!r}")
    if not arms:
        raise ValueError("an analysis needs at least one arm")
    control = next((a for a in arms if a.key == plan.control), arms[0])
    counts = {a.key: _counts(a, plan.metric) for a in arms}
    live = [a for a in arms if not a.stopped]
    challengers = [a for a in arms if a.key != control.key]
    x0, n0 = counts[control.key]

    tests = {a.key: stats.compare(x0, n0, *counts[a.key]) for a in challengers}
    adjusted = dict(zip(tests, stats.holm([t.p_value for t in tests.values()]), strict=True))

    # The sequential rule: measure against the planned sample and maybe look.
    planned = plan.per_variant or looks.planned
    if planned is None and plan.baseline is not None:
        planned = planned_per_variant(
            plan.baseline, plan.min_effect, alpha=plan.alpha, power=plan.power, variants=len(arms)
        )
    live_challengers = [a for a in live if a.key != control.key]
    in_test = not control.stopped and bool(live_challengers)
    smallest = min(counts[a.key][1] for a in live) if live else 0
    if planned is None and status == "running" and in_test and smallest > 0:
        pooled = sum(counts[a.key][0] for a in live) / sum(counts[a.key][1] for a in live)
        if 0 < pooled < 1 / (1 + plan.min_effect):
            planned = planned_per_variant(
                pooled, plan.min_effect, alpha=plan.alpha, power=plan.power, variants=len(arms)
            )
    fraction = smallest / planned if planned else None
    new_looks, looked, boundary = _look(
        looks,
        fraction,
        planned,
        now=now,
        final=final,
        alpha=plan.alpha,
        running=status == "running" and in_test,
        tests={a.key: tests[a.key] for a in live_challengers},
        rates={
            a.key: counts[a.key][0] / counts[a.key][1] if counts[a.key][1] else 0.0 for a in live
        },
        control=control.key,
    )

    winner = new_looks.winner
    posteriors = [stats.posterior(*counts[a.key]) for a in live]
    summary = stats.beta_summary(posteriors) if posteriors else ([], [])
    best = dict(zip((a.key for a in live), summary[0], strict=True))
    loss = dict(zip((a.key for a in live), summary[1], strict=True))
    results = []
    stop = []
    for arm in arms:
        x, n = counts[arm.key]
        interval = stats.wilson(x, n, alpha=plan.alpha)
        guardrail = _guardrail(arm, control, plan.alpha)
        if guardrail and plan.guardrail_stop and not arm.stopped:
            stop.append(arm.key)
        comparison = None
        test = tests.get(arm.key)
        lift = stats.lift_interval(x0, n0, x, n, alpha=plan.alpha)
        if test is not None and lift is not None:
            significant = (
                not arm.stopped
                and winner is not None
                and (winner == arm.key or winner == control.key)
            )
            comparison = Comparison(
                lift=lift[0],
                lift_low=lift[1],
                lift_high=lift[2],
                p_value=test.p_value,
                p_adjusted=adjusted[arm.key],
                method=test.method,
                significant=significant,
                z=test.z,
            )
        results.append(
            ArmResult(
                arm=arm,
                trials=n,
                successes=x,
                rate=x / n if n else None,
                low=None if interval is None else interval[0],
                high=None if interval is None else interval[1],
                prob_best=best.get(arm.key),
                expected_loss=loss.get(arm.key),
                guardrail=guardrail,
                vs_control=comparison,
            )
        )

    more = max(0, planned - smallest) if planned else None
    plan_doc = {
        "per_variant": planned,
        "baseline": plan.baseline,
        "min_effect": plan.min_effect,
        "alpha": plan.alpha,
        "power": plan.power,
        "fraction": fraction,
        "more_needed": more,
        "rule": "obrien_fleming",
        "looks": len(new_looks.fractions),
        "boundary": boundary,
    }
    decision = _decide(
        status=status,
        declared=declared,
        looks=new_looks,
        in_test=in_test,
        planned=planned,
        more=more,
        control=control.key,
        results={r.arm.key: r for r in results},
        metric=plan.metric,
    )
    allocation = None
    if mode == "bandit" and live:
        shares = bandit.thompson_shares(posteriors, floor=floor, seed=seed)
        allocation = {a.key: 0.0 for a in arms} | dict(
            zip((a.key for a in live), shares, strict=True)
        )
    return Analysis(
        metric=plan.metric,
        per="delivered" if plan.metric in _PER_DELIVERED else "exposed",
        arms=tuple(results),
        plan=plan_doc,
        decision=decision,
        looks=new_looks,
        looked=looked,
        stop=tuple(stop),
        allocation=allocation,
    )


def _look(
    looks: Looks,
    fraction: float | None,
    planned: int | None,
    *,
    now: datetime,
    final: bool,
    alpha: float,
    running: bool,
    tests: Mapping[str, stats.Test],
    rates: Mapping[str, float],
    control: str,
) -> tuple[Looks, bool, float | None]:
    """The looks after this computation, whether it was a formal look, and the boundary
    of the last look (the z a difference must reach, for two variants)."""
    last = looks.fractions[-1] if looks.fractions else 0.0
    spread = alpha / max(1, len(tests))
    previous = (
        sequential.boundaries(looks.fractions, spread, looks.final)[-1] if looks.fractions else None
    )
    if fraction is None or not running or looks.final or looks.winner is not None:
        return looks, False, previous
    if final and looks.fractions and fraction <= last:
        # The test ends with no data since the last look: that look becomes the final
        # one. Still within alpha: the same looks with the last spending all of it.
        base = Looks(
            fractions=looks.fractions[:-1],
            at=looks.at[:-1],
            crossed=looks.crossed[:-1],
            planned=looks.planned,
        )
        fraction = last
    elif fraction > last and (
        not looks.at or now - looks.at[-1] >= _LOOK_GAP or fraction >= 1 or final
    ):
        base = looks
    else:
        return looks, False, previous
    fractions = (*base.fractions, fraction)
    ending = final or fraction >= 1
    # Holm step-down with a boundary per step: the largest |z| is held to the boundary
    # for alpha/m, the next to alpha/(m-1)...; the first that falls short stops it.
    ranked = sorted(tests.items(), key=lambda kv: -abs(kv[1].z))
    rejected: list[str] = []
    first: float | None = None
    for step, (key, test) in enumerate(ranked):
        c = sequential.boundaries(fractions, alpha / (len(ranked) - step), ending)[-1]
        first = c if first is None else first
        if abs(test.z) < c:
            break
        rejected.append(key)
    better = [k for k in rejected if tests[k].z > 0]
    crossed: str | None = None
    if better:
        crossed = max(better, key=lambda k: rates[k])
    elif rejected and len(rejected) == len(ranked):
        crossed = control  # every variant is worse than the control
    updated = Looks(
        fractions=fractions,
        at=(*base.at, now),
        crossed=(*base.crossed, crossed),
        planned=planned,
        final=ending,
    )
    return updated, True, first


def _decide(
    *,
    status: str,
    declared: str | None,
    looks: Looks,
    in_test: bool,
    planned: int | None,
    more: int | None,
    control: str,
    results: Mapping[str, ArmResult],
    metric: str,
) -> Decision:
    if status == "draft":
        return Decision("draft", None, "The test has not started.", False)
    if status == "decided":
        said = (
            f"Variant {declared} was declared the winner." if declared else "A winner was declared."
        )
        return Decision("decided", declared, said, False)
    if status == "stopped":
        return Decision("stopped", None, "The test was stopped without a winner.", False)
    winner = looks.winner
    if winner is not None:
        look = looks.crossed.index(winner) + 1
        rate = results[winner].rate or 0.0
        if winner == control:
            why = (
                f"Every variant's {metric} rate is below the control's "
                f"({_pct(rate)}) beyond the early-stopping boundary at look {look}."
            )
        else:
            comparison = results[winner].vs_control
            lift = (
                f" (lift {comparison.lift:+.1%}, 95 % interval {comparison.lift_low:+.1%} "
                f"to {comparison.lift_high:+.1%})"
                if comparison
                else ""
            )
            why = (
                f"Variant {winner}'s {metric} rate {_pct(rate)} beats the control's"
                f"{lift} beyond the early-stopping boundary at look {look}."
            )
        return Decision("winner", winner, why, True, (winner,))
    refusal = " A winner cannot be declared: the data do not support one."
    if not in_test:
        return Decision(
            "collecting",
            None,
            "Fewer than two variants are still in the test, so nothing is compared." + refusal,
            False,
        )
    if looks.final:
        return Decision(
            "no_difference",
            None,
            f"At the planned sample ({planned} per variant) no variant's {metric} rate "
            "differs from the control's by more than chance explains; stop the test to "
            "send everyone the default." + refusal,
            False,
        )
    if planned is None:
        return Decision(
            "collecting",
            None,
            f"No {metric} yet to plan the sample by; collecting." + refusal,
            False,
        )
    return Decision(
        "collecting",
        None,
        f"{more} more sends per variant reach the planned sample of {planned}; no "
        "difference has crossed the early-stopping boundary so far." + refusal,
        False,
    )
