"""What the results page shows, shaped from the stored results document (see
docs/experiments.md for its keys): the table rows, the decision in words and the data of
the three charts. No session here; a key the document lacks shows as a dash, never
as an error, since a document stored by an older version may lack newer keys."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nurture.models import ExperimentVariant

# Points per posterior curve: smooth at the chart's width, small in the page.
CURVE_POINTS = 121
# How far beyond the outermost 95 % intervals the posterior chart reaches, in widths.
CURVE_MARGIN = 0.6
# The posterior of an arm with no trials is flat: not worth a curve.
DASH = "—"


@dataclass(frozen=True, slots=True)
class ArmRow:
    key: str
    name: str
    is_control: bool
    exposed: int
    trials: int
    successes: int
    rate: str
    interval: str
    lift: str
    lift_interval: str
    p_value: str
    significant: bool | None
    prob_best: str
    expected_loss: str
    unsubscribed: int
    complained: int
    guardrail: str | None
    stopped: bool
    winner: bool


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _count(value: object) -> int:
    number = _number(value)
    return int(number) if number is not None else 0


def percent(value: object, digits: int = 1) -> str:
    """0.1234 -> "12.3 %"; a dash for a missing value."""
    number = _number(value)
    return DASH if number is None else f"{number * 100:.{digits}f} %"


def signed_percent(value: object) -> str:
    number = _number(value)
    return DASH if number is None else f"{number * 100:+.1f} %"


def _interval(low: object, high: object, signed: bool = False) -> str:
    shown = signed_percent if signed else percent
    if _number(low) is None or _number(high) is None:
        return DASH
    return f"{shown(low)} … {shown(high)}"


def _p_value(value: object) -> str:
    number = _number(value)
    if number is None:
        return DASH
    return "< 0.001" if number < 0.001 else f"{number:.3f}"


def arms_of(results: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    arms = (results or {}).get("arms")
    return [arm for arm in arms if isinstance(arm, Mapping)] if isinstance(arms, list) else []


def decision_of(results: Mapping[str, Any] | None) -> Mapping[str, Any]:
    decision = (results or {}).get("decision")
    return decision if isinstance(decision, Mapping) else {}


def plan_of(results: Mapping[str, Any] | None) -> Mapping[str, Any]:
    plan = (results or {}).get("plan")
    return plan if isinstance(plan, Mapping) else {}


def rows(results: Mapping[str, Any] | None, winner: str | None) -> list[ArmRow]:
    """One row per arm, in the document's order (the control first)."""
    out = []
    for index, arm in enumerate(arms_of(results)):
        versus = arm.get("vs_control")
        versus = versus if isinstance(versus, Mapping) else {}
        p_value = versus.get("p_adjusted", versus.get("p_value"))
        significant = versus.get("significant")
        key = str(arm.get("key", index))
        out.append(
            ArmRow(
                key=key,
                name=str(arm.get("name") or key),
                is_control=index == 0,
                exposed=_count(arm.get("exposed")),
                trials=_count(arm.get("trials")),
                successes=_count(arm.get("successes")),
                rate=percent(arm.get("rate")),
                interval=_interval(arm.get("low"), arm.get("high")),
                lift=signed_percent(versus.get("lift")),
                lift_interval=_interval(versus.get("lift_low"), versus.get("lift_high"), True),
                p_value=_p_value(p_value),
                significant=significant if isinstance(significant, bool) else None,
                prob_best=percent(arm.get("prob_best"), 0),
                expected_loss=percent(arm.get("expected_loss"), 2),
                unsubscribed=_count(arm.get("unsubscribed")),
                complained=_count(arm.get("complained")),
                guardrail=str(arm["guardrail"]) if arm.get("guardrail") else None,
                stopped=bool(arm.get("stopped")),
                winner=winner is not None and key == winner,
            )
        )
    return out


def rate_chart(results: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Per arm the rate and its interval in percent (floating bars plus a point)."""
    arms = [a for a in arms_of(results) if _number(a.get("rate")) is not None]
    if not arms:
        return None

    def pct(value: object) -> float | None:
        number = _number(value)
        return None if number is None else round(number * 100, 3)

    return {
        "labels": [str(a.get("name") or a.get("key")) for a in arms],
        "rates": [pct(a.get("rate")) for a in arms],
        "intervals": [
            [pct(a.get("low")), pct(a.get("high"))]
            if _number(a.get("low")) is not None and _number(a.get("high")) is not None
            else None
            for a in arms
        ],
    }


def beta_density(x: float, a: float, b: float) -> float:
    """The Beta(a, b) density at x in (0, 1), through logarithms so that a million
    trials neither overflow nor underflow before the exponent."""
    if not 0.0 < x < 1.0:
        return 0.0
    log_norm = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    return math.exp(log_norm + (a - 1) * math.log(x) + (b - 1) * math.log1p(-x))


def posterior_chart(results: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Each arm's Beta(1 + successes, 1 + failures) density over the rates that matter:
    the union of the 95 % intervals with a margin, in percent."""
    arms = [a for a in arms_of(results) if _count(a.get("trials")) > 0]
    if not arms:
        return None
    params = []
    for arm in arms:
        trials = _count(arm.get("trials"))
        successes = min(_count(arm.get("successes")), trials)
        params.append((1.0 + successes, 1.0 + trials - successes))
    # Mean ± 4 standard deviations covers the mass of every curve.
    lows, highs = [], []
    for a, b in params:
        mean = a / (a + b)
        sd = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
        lows.append(mean - 4 * sd)
        highs.append(mean + 4 * sd)
    span = max(highs) - min(lows)
    start = max(min(lows) - CURVE_MARGIN * span / 4, 0.0)
    stop = min(max(highs) + CURVE_MARGIN * span / 4, 1.0)
    step = (stop - start) / (CURVE_POINTS - 1)
    grid = [start + i * step for i in range(CURVE_POINTS)]
    return {
        "series": [
            {
                "label": str(arm.get("name") or arm.get("key")),
                # Density per percentage point, so that the y axis reads with the x axis.
                "points": [
                    {"x": round(x * 100, 4), "y": round(beta_density(x, a, b) / 100, 6)}
                    for x in grid
                ],
            }
            for arm, (a, b) in zip(arms, params, strict=True)
        ]
    }


def allocation_chart(results: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The bandit's shares over time, per variant, in percent."""
    history = (results or {}).get("allocation")
    if not isinstance(history, list):
        return None
    moments = [
        m for m in history if isinstance(m, Mapping) and isinstance(m.get("shares"), Mapping)
    ]
    if not moments:
        return None
    keys = list(dict.fromkeys(str(k) for m in moments for k in m["shares"]))
    names = {str(a.get("key")): str(a.get("name") or a.get("key")) for a in arms_of(results)}
    return {
        "labels": [str(m.get("at", ""))[:16].replace("T", " ") for m in moments],
        "series": [
            {
                "label": names.get(key, key),
                "data": [
                    round(share * 100, 2)
                    if (share := _number(m["shares"].get(key))) is not None
                    else None
                    for m in moments
                ],
            }
            for key in keys
        ],
    }


def variant_choices(variants: Sequence[ExperimentVariant]) -> list[tuple[str, str]]:
    """(key, "b — Shorter subject") for the declare form: the arms not stopped."""
    return [
        (v.key, f"{v.key} — {v.name}" if v.name else v.key)
        for v in variants
        if v.stopped_at is None
    ]
