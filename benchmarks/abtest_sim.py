"""Does the decision code keep its promises? Simulated tests through `decision.analyse`.

1. 2,000 A/A tests (both variants click 5 %), results refreshed twice a simulated day
   (the rule takes at most one formal look a day; the other refresh is a peek that must
   not count), until the rule names a winner or the planned sample is reached. Any
   winner is a false positive: the rate must be at most 0.05.
2. 2,000 A/B tests, the variant 20 % better (6 % against 5 %), analysed at the planned
   sample: the share that name the variant the winner is the power, at least 0.8. The
   same 2,000 are also run with daily looks (one computation a day: between looks
   nothing can decide), and the share that name the variant by the planned sample is
   printed too; by design it is 0.80 (the plan's inflation for early looks), so it is
   shown, not held to the target.
3. A bandit (Thompson sampling, 10 % floor, reallocated every 250 contacts from
   `analyse(mode="bandit")`) against a fixed 50/50 split over 10,000 contacts, 6 % against
   5 %, averaged over 100 runs: the regret (expected clicks lost against always sending
   the better variant) must be lower for the bandit.

Daily traffic per variant is 500, 800 or 1,200 sends (one per test in turn); the
planned sample is `decision.planned_per_variant(0.05, 0.2)`. The seed is fixed, so a run
is repeatable; the printed 95 % intervals show what 2,000 tests can tell.

    .venv/bin/python benchmarks/abtest_sim.py [--tests N] [--bandit-runs N] [--seed N]

Last line: `RESULT fpr=... power=... bandit_regret=... fixed_regret=...`; exits 1 on a miss.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from campaigns.experiments.decision import Arm, Looks, Plan, analyse, planned_per_variant

BASELINE = 0.05
LIFT = 0.2
DAILY = (500, 800, 1200)
REFRESHES_PER_DAY = 2
CONTACTS = 10_000
BATCH = 250
FLOOR = 0.1
START = datetime(2026, 1, 5, 9, tzinfo=UTC)


@dataclass(frozen=True)
class Outcome:
    winner: str | None
    looks: int
    sample: int  # per variant when the test ended


def _arms(clicks: tuple[int, int], sends: tuple[int, int]) -> list[Arm]:
    return [
        Arm("a", delivered=sends[0], clicked=clicks[0], exposed=sends[0]),
        Arm("b", delivered=sends[1], clicked=clicks[1], exposed=sends[1]),
    ]


def one_test(
    rates: tuple[float, float], daily: int, plan: Plan, rng: np.random.Generator, refreshes: int
) -> Outcome:
    """Run one test, `refreshes` computations a day, until the rule names a winner or
    ends it (daily = 0: one computation, at the planned sample)."""
    planned = plan.per_variant or 0
    looks = Looks()
    clicks = [0, 0]
    sent = 0
    step = daily // refreshes if daily else planned
    refresh = 0
    while True:
        batch = min(step, planned - sent) if sent < planned else step
        sent += batch
        clicks[0] += int(rng.binomial(batch, rates[0]))
        clicks[1] += int(rng.binomial(batch, rates[1]))
        now = START + timedelta(hours=24 * refresh / refreshes)
        refresh += 1
        analysis = analyse(_arms((clicks[0], clicks[1]), (sent, sent)), plan, looks, now=now)
        looks = analysis.looks
        state = analysis.decision.state
        if state == "winner":
            return Outcome(analysis.decision.winner, len(looks.fractions), sent)
        if state == "no_difference":
            return Outcome(None, len(looks.fractions), sent)


def many(
    rates: tuple[float, float], tests: int, plan: Plan, seed: int, *, daily: bool, refreshes: int
) -> list[Outcome]:
    rng = np.random.default_rng(seed)
    return [
        one_test(rates, DAILY[i % len(DAILY)] if daily else 0, plan, rng, refreshes)
        for i in range(tests)
    ]


def interval(share: float, n: int) -> str:
    half = 1.96 * math.sqrt(share * (1 - share) / n)
    return f"{share:.4f} (95 % interval {share - half:.4f} to {share + half:.4f})"


def bandit_run(rates: tuple[float, float], plan: Plan, seed: int) -> float:
    """Expected clicks lost by the bandit over CONTACTS contacts against always the best."""
    rng = np.random.default_rng(seed)
    best = max(rates)
    shares = [0.5, 0.5]
    sends = [0, 0]
    clicks = [0, 0]
    regret = 0.0
    looks = Looks()
    for batch in range(CONTACTS // BATCH):
        to_b = int((rng.random(BATCH) < shares[1]).sum())
        counts = (BATCH - to_b, to_b)
        for arm in (0, 1):
            sends[arm] += counts[arm]
            clicks[arm] += int(rng.binomial(counts[arm], rates[arm]))
            regret += counts[arm] * (best - rates[arm])
        analysis = analyse(
            _arms((clicks[0], clicks[1]), (sends[0], sends[1])),
            plan,
            looks,
            now=START + timedelta(minutes=5 * batch),
            mode="bandit",
            seed=seed * 1000 + batch,
            floor=FLOOR,
        )
        looks = analysis.looks
        allocation = analysis.allocation or {"a": 0.5, "b": 0.5}
        shares = [allocation["a"], allocation["b"]]
    return regret


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=2000)
    parser.add_argument("--bandit-runs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()

    planned = planned_per_variant(BASELINE, LIFT)
    plan = Plan(metric="clicks", baseline=BASELINE, min_effect=LIFT, per_variant=planned)
    print(f"planned sample: {planned} per variant (baseline {BASELINE:.0%}, lift {LIFT:.0%})")

    started = time.perf_counter()
    null = many(
        (BASELINE, BASELINE), args.tests, plan, args.seed, daily=True, refreshes=REFRESHES_PER_DAY
    )
    fpr = sum(o.winner is not None for o in null) / len(null)
    print(f"A/A: {len(null)} tests, false-positive rate {interval(fpr, len(null))}")
    print(
        f"     looks per test {np.mean([o.looks for o in null]):.1f}, "
        f"{time.perf_counter() - started:.1f} s"
    )

    started = time.perf_counter()
    lifted = BASELINE * (1 + LIFT)
    alt = many((BASELINE, lifted), args.tests, plan, args.seed + 1, daily=False, refreshes=1)
    power = sum(o.winner == "b" for o in alt) / len(alt)
    print(f"A/B: {len(alt)} tests at the planned sample, power {interval(power, len(alt))}")
    looked = many((BASELINE, lifted), args.tests, plan, args.seed + 1, daily=True, refreshes=1)
    daily_power = sum(o.winner == "b" for o in looked) / len(looked)
    early = [o for o in looked if o.winner == "b" and o.sample < planned]
    wrong = sum(o.winner == "a" for o in looked) + sum(o.winner == "a" for o in alt)
    print(
        f"     with daily looks: power {interval(daily_power, len(looked))} (design 0.80), "
        f"{len(early)} stopped early, mean sample of those "
        f"{np.mean([o.sample for o in early]) if early else 0:.0f} per variant"
    )
    print(f"     {wrong} named the control, {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    regrets = [
        bandit_run((BASELINE, lifted), plan, args.seed + 2 + r) for r in range(args.bandit_runs)
    ]
    bandit_regret = float(np.mean(regrets))
    spread = float(np.std(regrets, ddof=1) / math.sqrt(len(regrets)))
    fixed_regret = CONTACTS * 0.5 * (lifted - BASELINE)
    print(
        f"bandit: {len(regrets)} runs of {CONTACTS} contacts, regret {bandit_regret:.2f} "
        f"(standard error {spread:.2f}) against {fixed_regret:.2f} for a fixed 50/50 split, "
        f"{time.perf_counter() - started:.1f} s"
    )

    misses = []
    if fpr > 0.05:
        misses.append(f"fpr {fpr:.4f} > 0.05")
    if power < 0.8:
        misses.append(f"power {power:.4f} < 0.8")
    if bandit_regret >= fixed_regret:
        misses.append("the bandit's regret is not lower")
    for miss in misses:
        print(f"MISS: {miss}")
    print(
        f"RESULT fpr={fpr:.4f} power={power:.4f} bandit_regret={bandit_regret:.2f} "
        f"fixed_regret={fixed_regret:.2f}"
    )
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
