"""What an experiment's counts say: rates, intervals, comparisons with the control, the
sequential rule's verdict, guardrails and whether a winner may be declared.

Pure: counts in (one `Arm` per variant, the `Plan`, the formal `Looks` so far), one
`Analysis` out, whose `as_dict()` is the "arms", "plan" and "decision" parts of the
results document. No database; `results.compute` feeds it and stores what it returns
(including `Analysis.looks` when this computation was a formal look).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


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
    the share of the planned sample seen at each, when, and which arm (if any) crossed
    the boundary there. `planned` is the sample fixed at the first look when the plan
    had none."""

    fractions: tuple[float, ...] = ()
    at: tuple[datetime, ...] = ()
    crossed: tuple[str | None, ...] = ()
    planned: int | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Looks:
        raise NotImplementedError

    def as_json(self) -> dict[str, Any]:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class Comparison:
    """One variant against the control (the results document's "vs_control")."""

    lift: float
    lift_low: float
    lift_high: float
    p_value: float
    p_adjusted: float
    method: str  # "z" | "fisher"
    significant: bool  # the sequential rule has declared this difference
    z: float


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


@dataclass(frozen=True, slots=True)
class Decision:
    state: str  # draft | collecting | winner | no_difference | decided | stopped
    winner: str | None
    reason: str
    can_declare: bool
    declarable: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Analysis:
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
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The "metric", "per", "arms", "plan" and "decision" parts of the results
        document (the caller adds "computed_at" and "allocation")."""
        raise NotImplementedError


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
    raise NotImplementedError


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
    raise NotImplementedError
