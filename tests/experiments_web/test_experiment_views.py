"""Shaping the results document for the page: rows and chart data from a full document,
dashes (never an error) for a document missing keys, and a posterior that is a density."""

from __future__ import annotations

import math
from itertools import pairwise
from typing import Any

import pytest

from nurture.web.ui import experiment_views as views


def _arm(key: str, trials: int, successes: int, **extra: Any) -> dict[str, Any]:
    rate = successes / trials
    return {
        "key": key,
        "name": f"Arm {key}",
        "exposed": trials,
        "trials": trials,
        "successes": successes,
        "rate": rate,
        "low": rate - 0.01,
        "high": rate + 0.01,
        "unsubscribed": 1,
        "complained": 0,
        "prob_best": 0.5,
        "expected_loss": 0.001,
        "stopped": False,
        "guardrail": None,
        "vs_control": None,
        **extra,
    }


def test_rows_read_the_document_in_percent() -> None:
    versus = {
        "lift": 0.25,
        "lift_low": -0.1,
        "lift_high": 0.6,
        "p_value": 0.04,
        "p_adjusted": 0.0004,
        "significant": True,
    }
    document = {"arms": [_arm("a", 1000, 100), _arm("b", 1000, 125, vs_control=versus)]}
    control, variant = views.rows(document, winner="b")
    assert (control.rate, control.interval, control.lift) == ("10.0 %", "9.0 % … 11.0 %", "—")
    assert control.is_control
    assert not control.winner
    assert (variant.lift, variant.lift_interval) == ("+25.0 %", "-10.0 % … +60.0 %")
    assert (variant.p_value, variant.significant, variant.winner) == ("< 0.001", True, True)
    chart = views.rate_chart(document)
    assert chart == {
        "labels": ["Arm a", "Arm b"],
        "rates": [10.0, 12.5],
        "intervals": [[9.0, 11.0], [11.5, 13.5]],
    }


@pytest.mark.parametrize(
    "document",
    [
        None,
        {},
        {"arms": "none"},
        {"arms": [{"key": "a"}, "junk", {"key": "b", "rate": float("nan"), "trials": "9"}]},
        {"arms": [{"key": "a", "trials": 10, "successes": 50}], "allocation": [{"at": 1}]},
    ],
)
def test_a_partial_document_shows_dashes_not_errors(document: dict[str, Any] | None) -> None:
    for row in views.rows(document, winner=None):
        assert row.rate in ("—", "500.0 %")
    views.rate_chart(document)
    views.posterior_chart(document)
    assert views.allocation_chart(document) is None
    assert views.decision_of(document) == {}
    assert views.plan_of(document) == {}


def test_the_posterior_curves_are_densities_even_for_a_million_sends() -> None:
    document = {"arms": [_arm("a", 1_000_000, 40_000), _arm("b", 1_000_000, 41_000)]}
    chart = views.posterior_chart(document)
    assert chart is not None
    for series in chart["series"]:
        points = series["points"]
        area = sum(
            (right["x"] - left["x"]) * (left["y"] + right["y"]) / 2
            for left, right in pairwise(points)
        )
        assert area == pytest.approx(1.0, abs=0.02)
        assert all(math.isfinite(p["y"]) for p in points)


def test_the_allocation_follows_the_recorded_shares_by_variant_name() -> None:
    document = {
        "arms": [_arm("a", 10, 1), _arm("b", 10, 2)],
        "allocation": [
            {"at": "2026-12-01T10:00:00+00:00", "shares": {"a": 0.5, "b": 0.5}},
            {"at": "2026-12-01T10:05:00+00:00", "shares": {"a": 0.3, "b": 0.7}},
        ],
    }
    assert views.allocation_chart(document) == {
        "labels": ["2026-12-01 10:00", "2026-12-01 10:05"],
        "series": [
            {"label": "Arm a", "data": [50.0, 30.0]},
            {"label": "Arm b", "data": [50.0, 70.0]},
        ],
    }
