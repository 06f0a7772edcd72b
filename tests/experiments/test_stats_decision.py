"""decision.analyse: the results document, the sequential rule's looks, what may be declared."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from campaigns.experiments import stats
from campaigns.experiments.decision import Arm, Looks, Plan, analyse, planned_per_variant

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
PLAN = Plan(metric="clicks", baseline=0.05, min_effect=0.2, per_variant=8000)

ARM_KEYS = {
    "key", "name", "exposed", "trials", "successes", "rate", "low", "high", "delivered",
    "opened", "clicked", "replied", "unsubscribed", "complained", "converted", "prob_best",
    "expected_loss", "stopped", "guardrail", "vs_control",
}  # fmt: skip
COMPARISON_KEYS = {
    "lift", "lift_low", "lift_high", "p_value", "p_adjusted", "method", "significant",
}  # fmt: skip
PLAN_KEYS = {"per_variant", "baseline", "min_effect", "alpha", "power", "fraction", "more_needed"}
DECISION_KEYS = {"state", "winner", "reason", "can_declare", "declarable"}


def _arms(*counts: tuple[int, int]) -> list[Arm]:
    return [
        Arm(key, name=f"Variant {key}", delivered=n, exposed=n, clicked=x)
        for key, (x, n) in zip("abc", counts, strict=False)
    ]


def test_the_results_document_has_every_part_the_pages_read() -> None:
    analysis = analyse(_arms((200, 4000), (260, 4000)), PLAN, Looks(), now=NOW)
    doc = analysis.as_dict()
    assert (doc["metric"], doc["per"]) == ("clicks", "delivered")
    assert [set(arm) >= ARM_KEYS for arm in doc["arms"]] == [True, True]
    assert doc["arms"][0]["vs_control"] is None
    assert set(doc["arms"][1]["vs_control"]) >= COMPARISON_KEYS
    assert set(doc["plan"]) >= PLAN_KEYS
    assert set(doc["decision"]) >= DECISION_KEYS
    b = doc["arms"][1]
    assert (b["trials"], b["successes"], b["rate"]) == (4000, 260, 0.065)
    assert (b["low"], b["high"]) == pytest.approx(stats.wilson(260, 4000))
    assert b["vs_control"]["p_value"] == pytest.approx(0.003956786600976492)
    assert doc["plan"]["more_needed"] == 4000
    assert doc["plan"]["fraction"] == pytest.approx(0.5)


def test_an_aa_test_at_the_planned_sample_names_no_winner_and_refuses_a_declaration() -> None:
    analysis = analyse(_arms((400, 8000), (410, 8000)), PLAN, Looks(), now=NOW)
    assert analysis.looked
    assert analysis.looks.final
    decision = analysis.decision
    assert decision.state == "no_difference"
    assert decision.winner is None
    assert not decision.can_declare
    assert decision.declarable == ()
    assert "cannot be declared" in decision.reason


def test_a_clear_difference_crosses_the_boundary_early_and_may_be_declared() -> None:
    analysis = analyse(_arms((200, 4000), (300, 4000)), PLAN, Looks(), now=NOW)
    assert analysis.looked
    assert analysis.decision.state == "winner"
    assert analysis.decision.winner == "b"
    assert analysis.decision.can_declare
    assert analysis.decision.declarable == ("b",)
    comparison = analysis.arms[1].vs_control
    assert comparison is not None
    assert comparison.significant
    assert analysis.looks.crossed == ("b",)
    assert analysis.plan["boundary"] > 1.96  # an early look demands more than 1.96
    # The verdict stands at later computations, which take no more looks.
    later = analyse(
        _arms((300, 6000), (440, 6000)), PLAN, analysis.looks, now=NOW + timedelta(days=2)
    )
    assert not later.looked
    assert later.decision.winner == "b"


def test_a_fixed_sample_significance_seen_early_is_not_a_winner() -> None:
    # z = 2.88 at half the planned sample: p < 0.05, but the first look's boundary is higher.
    analysis = analyse(_arms((200, 4000), (260, 4000)), PLAN, Looks(), now=NOW)
    comparison = analysis.arms[1].vs_control
    assert comparison is not None
    assert comparison.p_value < 0.05
    assert not comparison.significant
    assert analysis.decision.state == "collecting"
    assert not analysis.decision.can_declare
    assert "4000 more sends per variant" in analysis.decision.reason


def test_formal_looks_come_at_most_once_a_day() -> None:
    first = analyse(_arms((50, 1000), (52, 1000)), PLAN, Looks(), now=NOW)
    assert first.looked
    peek = analyse(_arms((100, 2000), (104, 2000)), PLAN, first.looks, now=NOW + timedelta(hours=5))
    assert not peek.looked
    assert peek.looks == first.looks
    # Even a difference that would cross now waits for the next formal look.
    strong = analyse(
        _arms((100, 2000), (190, 2000)), PLAN, first.looks, now=NOW + timedelta(hours=6)
    )
    assert not strong.looked
    assert strong.decision.state == "collecting"
    day = analyse(_arms((100, 2000), (190, 2000)), PLAN, first.looks, now=NOW + timedelta(days=1))
    assert day.looked
    assert day.looks.fractions == pytest.approx((0.125, 0.25))
    assert day.decision.state == "winner"


def test_reaching_the_planned_sample_looks_at_once() -> None:
    first = analyse(_arms((350, 7000), (360, 7000)), PLAN, Looks(), now=NOW)
    last = analyse(_arms((400, 8000), (411, 8000)), PLAN, first.looks, now=NOW + timedelta(hours=1))
    assert last.looked
    assert last.looks.fractions == pytest.approx((0.875, 1.0))
    assert last.decision.state == "no_difference"
    after = analyse(_arms((450, 9000), (470, 9000)), PLAN, last.looks, now=NOW + timedelta(days=3))
    assert not after.looked
    assert after.decision.state == "no_difference"


def test_a_broadcasts_test_phase_ends_with_a_final_look_below_the_plan() -> None:
    analysis = analyse(_arms((20, 1000), (24, 1000)), PLAN, Looks(), now=NOW, final=True)
    assert analysis.looked
    assert analysis.looks.final
    assert analysis.decision.state == "no_difference"
    # At the final look the boundary is the fixed-sample one when no look came before.
    assert analysis.plan["boundary"] == pytest.approx(1.959964, abs=1e-5)


def test_looks_survive_their_json() -> None:
    analysis = analyse(_arms((200, 4000), (300, 4000)), PLAN, Looks(), now=NOW)
    assert Looks.from_json(analysis.looks.as_json()) == analysis.looks
    assert Looks.from_json({}) == Looks()
    assert Looks.from_json({"fractions": [0.5], "at": ["2026-12-01T09:00:00"]}).crossed == (None,)


def test_without_a_baseline_the_first_look_fixes_the_plan_from_the_pooled_rate() -> None:
    plan = Plan(metric="clicks", min_effect=0.2)
    analysis = analyse(_arms((50, 1000), (50, 1000)), plan, Looks(), now=NOW)
    assert analysis.looks.planned == planned_per_variant(0.05, 0.2)
    later = analyse(
        _arms((80, 2000), (120, 2000)), plan, analysis.looks, now=NOW + timedelta(hours=2)
    )
    assert later.plan["per_variant"] == analysis.looks.planned


def test_three_variants_are_compared_with_holm_and_the_best_significant_one_wins() -> None:
    plan = Plan(metric="clicks", baseline=0.05, per_variant=8000)
    arms = _arms((400, 8000), (560, 8000), (430, 8000))
    analysis = analyse(arms, plan, Looks(), now=NOW)
    b, c = analysis.arms[1].vs_control, analysis.arms[2].vs_control
    assert b is not None
    assert c is not None
    assert (b.p_adjusted, c.p_adjusted) == pytest.approx(tuple(stats.holm([b.p_value, c.p_value])))
    assert analysis.decision.winner == "b"
    assert b.significant
    assert not c.significant


def test_when_every_variant_is_worse_the_control_wins() -> None:
    analysis = analyse(_arms((500, 8000), (380, 8000)), PLAN, Looks(), now=NOW)
    assert analysis.decision.state == "winner"
    assert analysis.decision.winner == "a"


def test_a_worse_unsubscribe_rate_is_flagged_and_stopped_when_the_plan_says_so() -> None:
    arms = [
        Arm("a", delivered=3000, clicked=150, unsubscribed=3),
        Arm("b", delivered=3000, clicked=170, unsubscribed=25),
    ]
    flagged = analyse(arms, PLAN, Looks(), now=NOW)
    assert flagged.arms[1].guardrail is not None
    assert flagged.arms[1].guardrail.startswith("unsubscribes 0.83% against 0.10%")
    assert flagged.stop == ()
    plan = Plan(metric="clicks", baseline=0.05, per_variant=8000, guardrail_stop=True)
    assert analyse(arms, plan, Looks(), now=NOW).stop == ("b",)


def test_a_stopped_variant_is_shown_but_out_of_the_test() -> None:
    arms = [
        Arm("a", delivered=8000, clicked=400),
        Arm("b", delivered=8000, clicked=700, stopped=True),
        Arm("c", delivered=8000, clicked=410),
    ]
    analysis = analyse(arms, PLAN, Looks(), now=NOW, mode="bandit")
    assert analysis.decision.winner is None
    assert analysis.arms[1].prob_best is None
    assert analysis.allocation is not None
    assert analysis.allocation["b"] == 0.0
    assert sum(analysis.allocation.values()) == pytest.approx(1.0)


def test_conversion_counts_per_exposed_contact() -> None:
    arms = [
        Arm("a", exposed=1000, delivered=900, converted=30),
        Arm("b", exposed=1000, delivered=950, converted=45),
    ]
    analysis = analyse(arms, Plan(metric="conversion", baseline=0.03), Looks(), now=NOW)
    assert analysis.per == "exposed"
    assert (analysis.arms[1].trials, analysis.arms[1].successes) == (1000, 45)


@pytest.mark.parametrize(
    ("status", "state"), [("draft", "draft"), ("decided", "decided"), ("stopped", "stopped")]
)
def test_a_test_that_is_not_running_takes_no_look_and_cannot_be_declared(
    status: str, state: str
) -> None:
    analysis = analyse(
        _arms((200, 4000), (300, 4000)), PLAN, Looks(), now=NOW, status=status, declared="b"
    )
    assert not analysis.looked
    assert analysis.decision.state == state
    assert not analysis.decision.can_declare


def test_the_planned_sample_allows_for_the_early_looks_and_more_variants() -> None:
    fixed = stats.sample_size(0.05, 0.2)
    two = planned_per_variant(0.05, 0.2)
    assert fixed < two < fixed * 1.1
    assert planned_per_variant(0.05, 0.2, variants=3) > two


def test_bad_counts_and_plans_are_refused() -> None:
    with pytest.raises(ValueError, match=r"b\.clicked"):
        Arm("b", clicked=-1)
    with pytest.raises(ValueError, match="baseline"):
        Plan(baseline=1.5)
    with pytest.raises(ValueError, match="metric"):
        analyse(_arms((1, 10)), Plan(metric="likes"), Looks(), now=NOW)


def test_a_test_phase_ending_without_new_data_makes_the_last_look_final() -> None:
    # z = 2.3 at 40 % of the plan: short of that look's boundary, past the final one.
    arms = _arms((160, 3200), (208, 3200))
    first = analyse(arms, PLAN, Looks(), now=NOW)
    assert first.looked
    assert first.decision.state == "collecting"
    end = analyse(arms, PLAN, first.looks, now=NOW + timedelta(hours=2), final=True)
    assert end.looked
    assert end.looks.fractions == first.looks.fractions
    assert end.looks.final
    assert end.decision.state == "winner"
    assert end.decision.winner == "b"


@pytest.mark.parametrize(
    "counts",
    [
        [(0, 0), (0, 0)],
        [(0, 10), (0, 10)],
        [(10, 10), (10, 10)],
        [(0, 0), (5, 10)],
        [(3, 10), (0, 0)],
        [(1, 1), (0, 1), (1, 1)],
    ],
)
@pytest.mark.parametrize("mode", ["fixed", "bandit"])
def test_edge_counts_give_a_document_postgresql_can_store(
    counts: list[tuple[int, int]], mode: str
) -> None:
    arms = [
        Arm(key, delivered=n, exposed=n, clicked=x, unsubscribed=x, complained=x)
        for key, (x, n) in zip("abc", counts, strict=False)
    ]
    for plan in (Plan(), PLAN):
        analysis = analyse(arms, plan, Looks(), now=NOW, mode=mode, final=True)
        json.dumps(analysis.as_dict(), allow_nan=False)  # NaN or infinity would raise
        json.dumps(analysis.looks.as_json(), allow_nan=False)
