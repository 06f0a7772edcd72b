"""The early-stopping rule: O'Brien-Fleming-type alpha spending (Lan and DeMets).

At information fraction t (the share of the planned sample seen) each side of the
two-sided rule may have spent 2 - 2 Phi(z_{1-alpha/4} / sqrt(t)) of its alpha/2. Each
formal look's two-sided boundary c_k is the z that spends exactly what is new since the
previous look, given that no earlier look crossed; the probabilities come from the
z-statistic's Brownian-motion form, integrated numerically look after look
(Armitage, McPherson and Rowe's recursion). Because the boundaries depend only on the
fractions actually looked at, looks can come whenever the data arrive (at most daily,
in our use), and a look at or past the planned sample spends whatever is left.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from scipy import special

_POINTS = 301  # odd: Simpson's rule on the continuation region
_WIDTH = 10.0  # the score's grid never reaches past 10 standard deviations
_MAX_Z = 40.0  # "never crosses": a boundary no statistic reaches
_ROOT_TAU = math.sqrt(2 * math.pi)


def spent(t: float, alpha: float) -> float:
    """The two-sided alpha spent by fraction t: each side spends O'Brien-Fleming-type
    2 - 2 Phi(z_{1-alpha/4} / sqrt(t)) of its alpha/2 (all of it from t = 1 on)."""
    # Imported here: scipy.stats and scipy.optimize take about a fifth of a web process's
    # start, and only the experiment maths needs them.
    from scipy import stats as sps

    if t <= 0:
        return 0.0
    t = min(t, 1.0)
    return float(4 * sps.norm.sf(sps.norm.isf(alpha / 4) / math.sqrt(t)))


def _simpson(n: int) -> np.ndarray:
    w = np.ones(n)
    w[1:-1:2] = 4
    w[2:-1:2] = 2
    return w / 3


_WEIGHTS = _simpson(_POINTS)


class _Walk:
    """The sub-density of the score S(t) = Z(t) sqrt(t) (Brownian motion with `drift`)
    over the paths that have not crossed any boundary yet."""

    def __init__(self, drift: float) -> None:
        self.drift = drift
        self.t = 0.0
        self.points = np.zeros(1)
        self.mass = np.ones(1)  # density x quadrature weight at each point

    def crossing(self, t: float, c: float) -> tuple[float, float]:
        """P(no earlier crossing and S(t) above c sqrt(t)), and below -c sqrt(t)."""
        sd = math.sqrt(t - self.t)
        mean = self.points + self.drift * (t - self.t)
        edge = c * math.sqrt(t)
        up = float(np.dot(self.mass, special.ndtr((mean - edge) / sd)))
        down = float(np.dot(self.mass, special.ndtr((-edge - mean) / sd)))
        return up, down

    def advance(self, t: float, c: float) -> None:
        """Move to fraction t, keeping only the paths inside (-c, c)."""
        sd = math.sqrt(t - self.t)
        half = min(c * math.sqrt(t), _WIDTH * math.sqrt(t) + abs(self.drift) * t)
        y = np.linspace(-half, half, _POINTS)
        step = y[1] - y[0]
        mean = self.points + self.drift * (t - self.t)
        gap = (y[:, None] - mean[None, :]) / sd
        density = (np.exp(-0.5 * gap * gap) / (_ROOT_TAU * sd)) @ self.mass
        self.points = y
        self.mass = density * _WEIGHTS * step
        self.t = t


@lru_cache(maxsize=4096)
def boundaries(
    fractions: tuple[float, ...], alpha: float, final: bool = False
) -> tuple[float, ...]:
    """The two-sided z boundary at each look (fractions increasing). `final`: the last
    look is the test's last, which spends all the alpha left."""
    from scipy import optimize  # as in spent()

    walk = _Walk(0.0)
    out: list[float] = []
    before = 0.0
    for k, t in enumerate(fractions):
        if t <= walk.t:
            raise ValueError("look fractions must increase")
        total = alpha if final and k == len(fractions) - 1 else spent(t, alpha)
        new = total - before
        if new <= 1e-12:
            c = _MAX_Z
        else:

            def excess(c: float, t: float = t, new: float = new) -> float:
                up, down = walk.crossing(t, c)
                return up + down - new

            c = _MAX_Z if excess(_MAX_Z) >= 0 else float(optimize.brentq(excess, 0.0, _MAX_Z))
        out.append(c)
        walk.advance(t, c)
        before = total
    return tuple(out)


def power(fractions: Sequence[float], bounds: Sequence[float], drift: float) -> float:
    """P(crossing the upper boundary at some look) when the z-statistic's drift at t = 1
    is `drift` (the standardised true difference times sqrt of the sample)."""
    walk = _Walk(drift)
    total = 0.0
    for t, c in zip(fractions, bounds, strict=True):
        up, _ = walk.crossing(t, c)
        total += up
        walk.advance(t, c)
    return total


@lru_cache(maxsize=64)
def inflation(alpha: float, target: float, looks: int = 20) -> float:
    """How much larger than the fixed-sample size the sample must be for the rule to keep
    `target` power with `looks` equally spaced looks (the last at the planned sample).
    More looks need more; 20 covers a test that looks daily for about three weeks."""
    from scipy import optimize
    from scipy import stats as sps  # as in spent()

    fractions = tuple((k + 1) / looks for k in range(looks))
    bounds = boundaries(fractions, alpha, True)
    fixed = float(sps.norm.isf(alpha / 2) + sps.norm.isf(1 - target))
    drift = float(
        optimize.brentq(lambda d: power(fractions, bounds, d) - target, fixed * 0.9, fixed * 1.5)
    )
    return (drift / fixed) ** 2
