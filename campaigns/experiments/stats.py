"""The statistics of a two-arm comparison of rates, pure and with SciPy.

Each formula is written out in docs/experiments.md ("Statistics"). Counts in, plain
numbers or small frozen results out; nothing here knows about experiments.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import special

# Below this expected count in any cell of the 2x2 table the normal approximation is
# poor, and Fisher's exact test is used instead (the usual rule of thumb).
SMALL_EXPECTED = 5.0
_GRID = 1025


@dataclass(frozen=True, slots=True)
class Test:
    """A two-sided comparison of arm 2 against arm 1. `z` is signed (positive: arm 2's
    rate is higher); for Fisher's test it is the normal quantile of the same p-value."""

    z: float
    p_value: float
    method: str  # "z" | "fisher"


@lru_cache(maxsize=64)
def _z(alpha: float) -> float:
    """The two-sided normal quantile z_{1 - alpha/2}."""
    return float(special.ndtri(1 - alpha / 2))


def _two_sided(z: float) -> float:
    return float(2 * special.ndtr(-abs(z)))


def _check(successes: int, trials: int) -> None:
    if trials < 0 or successes < 0 or successes > trials:
        raise ValueError(f"need 0 <= successes <= trials, got {successes}/{trials}")


def wilson(successes: int, trials: int, *, alpha: float = 0.05) -> tuple[float, float] | None:
    """The Wilson score interval for a rate (None without trials)."""
    _check(successes, trials)
    if trials == 0:
        return None
    z = _z(alpha)
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z / (1 + z * z / trials) * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials**2))
    return max(0.0, centre - half), min(1.0, centre + half)


def z_test(x1: int, n1: int, x2: int, n2: int) -> Test:
    """The pooled two-proportion z-test of x2/n2 against x1/n1."""
    _check(x1, n1)
    _check(x2, n2)
    if n1 == 0 or n2 == 0:
        return Test(0.0, 1.0, "z")
    pooled = (x1 + x2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance <= 0:  # both rates 0 or both 1: no evidence of any difference
        return Test(0.0, 1.0, "z")
    z = (x2 / n2 - x1 / n1) / math.sqrt(variance)
    return Test(z, _two_sided(z), "z")


def fisher(x1: int, n1: int, x2: int, n2: int) -> Test:
    """Fisher's exact test (two-sided: tables no more likely than the one seen)."""
    # Imported here: scipy.stats and scipy.optimize take about a fifth of a web process's
    # start, and only the experiment maths needs them.
    from scipy import stats as sps

    _check(x1, n1)
    _check(x2, n2)
    result = sps.fisher_exact([[x2, n2 - x2], [x1, n1 - x1]], alternative="two-sided")
    p = min(1.0, float(result.pvalue))
    diff = (x2 / n2 if n2 else 0.0) - (x1 / n1 if n1 else 0.0)
    z = float(sps.norm.isf(p / 2)) if p < 1 else 0.0
    return Test(math.copysign(z, diff) if diff else 0.0, p, "fisher")


def smallest_expected(x1: int, n1: int, x2: int, n2: int) -> float:
    """The smallest expected cell count of the 2x2 table under no difference."""
    total = n1 + n2
    if total == 0:
        return 0.0
    yes = x1 + x2
    no = total - yes
    return min(n * k / total for n in (n1, n2) for k in (yes, no))


def compare(x1: int, n1: int, x2: int, n2: int) -> Test:
    """The z-test, or Fisher's exact test when an expected count is below 5."""
    if n1 == 0 or n2 == 0:
        return Test(0.0, 1.0, "z")
    if smallest_expected(x1, n1, x2, n2) < SMALL_EXPECTED:
        return fisher(x1, n1, x2, n2)
    return z_test(x1, n1, x2, n2)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the order given."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def lift_interval(
    x1: int, n1: int, x2: int, n2: int, *, alpha: float = 0.05
) -> tuple[float, float, float] | None:
    """The relative lift of arm 2 over arm 1 (rate ratio - 1) with its interval from the
    log rate ratio's normal approximation. A zero count gets 0.5 added to each count
    (Haldane) so the ratio and its variance stay finite. None without trials."""
    _check(x1, n1)
    _check(x2, n2)
    if n1 == 0 or n2 == 0:
        return None
    if x1 == 0 or x2 == 0:
        a, b, m, n = x1 + 0.5, x2 + 0.5, n1 + 0.5, n2 + 0.5
    else:
        a, b, m, n = float(x1), float(x2), float(n1), float(n2)
    log_ratio = math.log((b / n) / (a / m))
    se = math.sqrt(1 / a - 1 / m + 1 / b - 1 / n)
    z = _z(alpha)
    return (
        math.exp(log_ratio) - 1,
        math.exp(log_ratio - z * se) - 1,
        math.exp(log_ratio + z * se) - 1,
    )


def sample_size(
    baseline: float, min_effect: float, *, alpha: float = 0.05, power: float = 0.8
) -> int:
    """Per arm, for a two-sided pooled z-test to detect the relative lift `min_effect`
    over `baseline` with the given power (the classic normal-approximation formula)."""
    p1 = baseline
    p2 = baseline * (1 + min_effect)
    if not 0 < p1 < 1 or not 0 < p2 < 1:
        raise ValueError("baseline and baseline x (1 + min_effect) must be between 0 and 1")
    from scipy import stats as sps  # as in fisher()

    mean = (p1 + p2) / 2
    z_a = float(sps.norm.isf(alpha / 2))
    z_b = float(sps.norm.isf(1 - power))
    top = z_a * math.sqrt(2 * mean * (1 - mean)) + z_b * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    return math.ceil((top / (p2 - p1)) ** 2)


def _grid(posteriors: Sequence[tuple[float, float]]) -> np.ndarray:
    """Points covering where any of the Beta posteriors has mass: each one's mean plus or
    minus 12 standard deviations, within [0, 1] (uniform priors make posteriors narrow
    once counts grow, so an even grid over [0, 1] would miss them)."""
    low, high = 1.0, 0.0
    for a, b in posteriors:
        mean = a / (a + b)
        sd = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
        low = min(low, mean - 12 * sd)
        high = max(high, mean + 12 * sd)
    return np.linspace(max(0.0, low), min(1.0, high), _GRID)


def _pdf(x: np.ndarray, a: float, b: float) -> np.ndarray:
    return np.asarray(
        np.exp(special.xlogy(a - 1, x) + special.xlog1py(b - 1, -x) - special.betaln(a, b))
    )


def beta_summary(posteriors: Sequence[tuple[float, float]]) -> tuple[list[float], list[float]]:
    """For independent Beta(a, b) posteriors, each arm's probability to have the highest
    rate, the integral of f_i(x) prod_{j != i} F_j(x) dx, and its expected loss
    E[max_j p_j - p_i] = E[max] - a_i / (a_i + b_i), where
    E[max] = low + the integral over [low, high] of 1 - prod_j F_j(x) (trapezoid rule)."""
    k = len(posteriors)
    if k == 1:
        return [1.0], [0.0]
    x = _grid(posteriors)
    pdf = np.array([_pdf(x, a, b) for a, b in posteriors])
    cdf = np.array([special.betainc(a, b, x) for a, b in posteriors])
    best = []
    for i in range(k):
        others = np.prod(np.delete(cdf, i, axis=0), axis=0)
        best.append(float(np.trapezoid(pdf[i] * others, x)))
    total = sum(best)
    best = [p / total for p in best] if total > 0 else [1 / k] * k
    expected_max = float(x[0] + np.trapezoid(1 - np.prod(cdf, axis=0), x))
    loss = [max(0.0, expected_max - a / (a + b)) for a, b in posteriors]
    return best, loss


def prob_best(posteriors: Sequence[tuple[float, float]]) -> list[float]:
    """P(arm i has the highest rate) for independent Beta(a, b) posteriors."""
    return beta_summary(posteriors)[0]


def expected_loss(posteriors: Sequence[tuple[float, float]]) -> list[float]:
    """E[max_j p_j - p_i]: the rate given up, on average, by choosing arm i."""
    return beta_summary(posteriors)[1]


def posterior(successes: int, trials: int) -> tuple[float, float]:
    """The Beta posterior of a rate after a uniform Beta(1, 1) prior."""
    _check(successes, trials)
    return 1.0 + successes, 1.0 + trials - successes
