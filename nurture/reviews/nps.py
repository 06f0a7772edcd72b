"""NPS from counts, with its confidence interval (pure arithmetic).

NPS = % promoters - % detractors, in points from -100 to 100. Its sampling error is
that of a difference of two shares of one multinomial sample:

    var(pP - pD) = (pP + pD - (pP - pD)²) / n

and the 95 % interval is NPS ± z·√var, clamped to [-100, 100] (z ≈ 1.96).

That normal ("Wald") interval collapses to zero width when every answer falls in one
category and is too narrow for a handful of answers, so below `SMALL_SAMPLE` answers,
or when the answers are all of one kind, the interval is the adjusted Wald one: the
same formula after adding three pseudo-answers (¾ promoter, ¾ detractor, 1½ passive),
which keeps coverage near 95 % for small samples (Rocks, 2016, The American
Statistician 70(4)). The NPS itself is always the plain one from the real counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

# Fewer answers than this: the interval is adjusted, and pages warn the figure is shaky.
SMALL_SAMPLE = 30
CONFIDENCE = 0.95
# ¾ promoter + ¾ detractor + 1½ passive.
_ADD_EACH_SIDE = 0.75
_ADD_TOTAL = 3.0


@dataclass(frozen=True, slots=True)
class NpsCounts:
    """How many answers fell in each category."""

    promoters: int
    passives: int
    detractors: int

    def __post_init__(self) -> None:
        for name in ("promoters", "passives", "detractors"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a whole number, 0 or more")

    @property
    def answers(self) -> int:
        return self.promoters + self.passives + self.detractors

    def __add__(self, other: NpsCounts) -> NpsCounts:
        return NpsCounts(
            self.promoters + other.promoters,
            self.passives + other.passives,
            self.detractors + other.detractors,
        )


@dataclass(frozen=True, slots=True)
class Nps:
    """The NPS of some counts (None without answers) and its interval, in points."""

    counts: NpsCounts
    score: float | None
    low: float | None
    high: float | None
    # "wald", or "adjusted" for small or one-sided samples; "" without answers.
    method: str

    @property
    def answers(self) -> int:
        return self.counts.answers

    @property
    def small(self) -> bool:
        """Too few answers to read much into (pages say so beside the figure)."""
        return self.counts.answers < SMALL_SAMPLE

    def share(self, category: str) -> float | None:
        """The share (0..1) of answers in `category` (promoter, passive, detractor)."""
        n = self.counts.answers
        if not n:
            return None
        value = {
            "promoter": self.counts.promoters,
            "passive": self.counts.passives,
            "detractor": self.counts.detractors,
        }[category]
        return value / n


def nps(counts: NpsCounts, *, confidence: float = CONFIDENCE) -> Nps:
    """The NPS of `counts` with its `confidence` interval (see the module's note)."""
    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1")
    n = counts.answers
    if n == 0:
        return Nps(counts, None, None, None, "")
    score = 100 * (counts.promoters - counts.detractors) / n
    one_sided = max(counts.promoters, counts.passives, counts.detractors) == n
    if n < SMALL_SAMPLE or one_sided:
        method = "adjusted"
        size = n + _ADD_TOTAL
        promoters = (counts.promoters + _ADD_EACH_SIDE) / size
        detractors = (counts.detractors + _ADD_EACH_SIDE) / size
    else:
        method = "wald"
        size = float(n)
        promoters = counts.promoters / n
        detractors = counts.detractors / n
    centre = promoters - detractors
    # Never below zero in exact arithmetic; max() guards against rounding.
    variance = max(0.0, promoters + detractors - centre**2) / size
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    half = z * math.sqrt(variance)
    low = max(-100.0, 100 * (centre - half))
    high = min(100.0, 100 * (centre + half))
    return Nps(counts, score, low, high, method)
