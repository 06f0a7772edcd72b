"""The bandit's allocation: Thompson sampling with a floor per variant.

Thompson sampling gives each new contact the variant whose draw from its Beta
posterior is highest. We update in batches (every few minutes), so instead of drawing
per contact we draw many times once and use how often each variant won as its share;
then every variant keeps at least `floor`, so a variant that started unlucky still
collects data and the test can still reach a decision.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DRAWS = 10_000


def thompson_shares(
    posteriors: Sequence[tuple[float, float]], *, floor: float = 0.1, seed: int = 0
) -> list[float]:
    """The share of new contacts for each Beta(a, b) posterior, adding up to 1, each at
    least `floor` (capped at an equal split when the floors alone would exceed 1)."""
    k = len(posteriors)
    if k == 0:
        return []
    if k == 1:
        return [1.0]
    floor = min(max(floor, 0.0), 1.0 / k)
    rng = np.random.default_rng(seed)
    draws = np.array([rng.beta(a, b, DRAWS) for a, b in posteriors])
    wins = np.bincount(np.argmax(draws, axis=0), minlength=k) / DRAWS
    shares = floor + (1 - k * floor) * wins
    return [float(s) for s in shares / shares.sum()]
