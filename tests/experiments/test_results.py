"""results.compute: the document, the formal looks, guardrail stops, the bandit's shares,
and declarations the data must support."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.experiments import decision, results, store
from campaigns.experiments.assign import Member, choose
from campaigns.experiments.store import DeclarationRefused, VariantInput
from nurture.models import AuditEntry, Broadcast, Experiment, ExperimentAllocation
from tests.experiments.expdomain_helpers import (
    bulk_contacts,
    bulk_exposures,
    make_sequence,
    template,
)
from tests.factories import make_contact

START = datetime(2026, 11, 2, 9, tzinfo=UTC)
TWO = [VariantInput("a", "Control"), VariantInput("b", "Question", content={"subject": "Ready?"})]


def _running(db: Session, **fields: Any) -> Experiment:
    settings: dict[str, Any] = {
        "actor": "mia",
        "name": "Subject test",
        "kind": "step",
        "variants": TWO,
        "metric": "clicks",
    }
    settings.update(fields)
    if settings["kind"] == "step":
        settings.update(sequence_id=make_sequence(db, template(db)).id, step_key="intro")
    experiment = store.create_experiment(db, **settings)
    store.start_experiment(db, experiment.id, actor="mia", now=START)
    db.commit()
    return experiment


def _arm(db: Session, experiment: Experiment, key: str, n: int, **outcomes: int) -> None:
    bulk_exposures(db, experiment.id, key, bulk_contacts(db, n), at=START, delivered=n, **outcomes)
    db.commit()


def test_the_document_counts_every_arm_in_the_agreed_shape(db: Session) -> None:
    experiment = _running(db, baseline_rate=0.1)
    _arm(db, experiment, "a", 40, clicked=4, opened=10, unsubscribed=1)
    _arm(db, experiment, "b", 30, clicked=9, opened=12)
    doc = results.compute(db, experiment.id, now=START + timedelta(days=1))
    db.commit()
    assert experiment.results == doc
    assert {"computed_at", "metric", "per", "arms", "plan", "decision", "allocation"} <= set(doc)
    assert (doc["metric"], doc["per"]) == ("clicks", "delivered")
    a, b = doc["arms"]
    assert (a["key"], a["exposed"], a["trials"], a["successes"]) == ("a", 40, 40, 4)
    assert (a["opened"], a["unsubscribed"], a["stopped"]) == (10, 1, False)
    assert (b["key"], b["trials"], b["successes"], b["rate"]) == ("b", 30, 9, pytest.approx(0.3))
    assert b["vs_control"]["method"] in ("z", "fisher")
    assert doc["plan"]["per_variant"] == experiment.planned_per_variant
    assert doc["decision"]["state"] == "collecting"
    assert doc["allocation"] == []


def test_a_formal_look_is_taken_at_most_once_a_day(db: Session) -> None:
    experiment = _running(db, baseline_rate=0.1)
    _arm(db, experiment, "a", 100, clicked=10)
    _arm(db, experiment, "b", 100, clicked=11)
    day_one = START + timedelta(days=1)
    results.compute(db, experiment.id, now=day_one)
    db.commit()
    assert len(experiment.looks["fractions"]) == 1
    _arm(db, experiment, "a", 50, clicked=5)
    _arm(db, experiment, "b", 50, clicked=6)
    results.compute(db, experiment.id, now=day_one + timedelta(hours=3))
    db.commit()
    assert len(experiment.looks["fractions"]) == 1  # the same day: not a formal look
    results.compute(db, experiment.id, now=day_one + timedelta(days=1))
    db.commit()
    assert len(experiment.looks["fractions"]) == 2


def test_declaring_a_winner_the_data_do_not_support_is_refused_with_the_reason(
    db: Session,
) -> None:
    experiment = _running(db, baseline_rate=0.1)
    _arm(db, experiment, "a", 200, clicked=20)
    _arm(db, experiment, "b", 200, clicked=21)
    with pytest.raises(DeclarationRefused) as refused:
        store.declare_winner(db, experiment.id, variant_key="b", actor="mia", now=START)
    assert "more sends per variant" in refused.value.reason
    db.rollback()
    assert experiment.status == "running"


def test_a_clear_winner_at_the_planned_sample_is_declared_and_sent_to_everyone_new(
    db: Session,
) -> None:
    experiment = _running(db, baseline_rate=0.2, min_effect=1.0)
    planned = experiment.planned_per_variant
    assert planned == decision.planned_per_variant(0.2, 1.0)
    _arm(db, experiment, "a", planned + 5, clicked=(planned + 5) // 5)
    _arm(db, experiment, "b", planned + 5, clicked=(planned + 5) // 2)
    with pytest.raises(DeclarationRefused, match="'a' cannot be declared"):
        store.declare_winner(db, experiment.id, variant_key="a", actor="mia", now=START)
    db.rollback()
    store.declare_winner(db, experiment.id, variant_key="b", actor="mia", now=START)
    db.commit()
    assert (experiment.status, experiment.winner_variant, experiment.decided_by) == (
        "decided",
        "b",
        "mia",
    )
    assert experiment.results is not None
    assert experiment.results["decision"]["state"] == "decided"
    newcomer = make_contact(db)
    db.commit()
    assert (
        choose(db, experiment.id, [Member(newcomer.id)], now=START)[newcomer.id].variant_key == "b"
    )
    assert db.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == "experiment.declared")
    )


def test_a_guardrail_stops_a_variant_that_drives_people_away_when_asked(db: Session) -> None:
    experiment = _running(db, baseline_rate=0.1, guardrail_stop=True)
    _arm(db, experiment, "a", 400, clicked=40, unsubscribed=2)
    _arm(db, experiment, "b", 400, clicked=44, unsubscribed=40)
    doc = results.compute(db, experiment.id, now=START + timedelta(hours=1))
    db.commit()
    b = store.variants_of(db, experiment.id)[1]
    assert b.stopped_at == START + timedelta(hours=1)
    assert "unsubscribes" in (b.stopped_reason or "")
    assert doc["arms"][1]["guardrail"]
    entry = db.scalars(
        select(AuditEntry).where(AuditEntry.action == "experiment.variant_stopped")
    ).one()
    assert entry.actor == "guardrail"
    # New contacts only get what is left.
    newcomers = [make_contact(db) for _ in range(10)]
    db.commit()
    chosen = choose(db, experiment.id, [Member(c.id) for c in newcomers], now=START)
    assert {c.variant_key for c in chosen.values()} == {"a"}


def test_without_guardrail_stop_a_flagged_variant_keeps_running(db: Session) -> None:
    experiment = _running(db, baseline_rate=0.1)
    _arm(db, experiment, "a", 400, clicked=40, unsubscribed=2)
    _arm(db, experiment, "b", 400, clicked=44, unsubscribed=40)
    doc = results.compute(db, experiment.id, now=START)
    db.commit()
    assert doc["arms"][1]["guardrail"]
    assert all(v.stopped_at is None for v in store.variants_of(db, experiment.id))


def test_a_bandit_moves_its_shares_at_most_every_five_minutes_and_keeps_the_history(
    db: Session,
) -> None:
    experiment = _running(db, baseline_rate=0.1, mode="bandit", bandit_floor=0.1)
    _arm(db, experiment, "a", 300, clicked=15)
    _arm(db, experiment, "b", 300, clicked=60)
    results.compute(db, experiment.id, now=START)
    db.commit()
    shares = {v.key: v.allocation or 0.0 for v in store.variants_of(db, experiment.id)}
    assert shares["b"] > 0.8
    assert shares["a"] >= 0.1 - 1e-9  # the floor
    assert sum(shares.values()) == pytest.approx(1.0)
    results.compute(db, experiment.id, now=START + timedelta(minutes=4))
    db.commit()
    assert db.scalar(select(func.count()).select_from(ExperimentAllocation)) == 1
    doc = results.compute(db, experiment.id, now=START + timedelta(minutes=5))
    db.commit()
    assert db.scalar(select(func.count()).select_from(ExperimentAllocation)) == 2
    assert [point["shares"].keys() for point in doc["allocation"]] == [{"a", "b"}] * 2


def test_a_broadcast_test_concludes_with_its_winner_or_the_default(db: Session) -> None:
    broadcast = Broadcast(name="December news", template_id=template(db))
    db.add(broadcast)
    db.flush()
    experiment = _running(
        db,
        kind="broadcast",
        broadcast_id=broadcast.id,
        metric="opens",
        baseline_rate=0.2,
        min_effect=1.0,
        default_variant="a",
    )
    _arm(db, experiment, "a", 60, opened=12)
    _arm(db, experiment, "b", 60, opened=30)
    assert store.experiment_of_broadcast(db, broadcast.id) == experiment
    rest = store.conclude(db, experiment.id, actor="broadcast", now=START + timedelta(hours=4))
    db.commit()
    assert (experiment.status, experiment.winner_variant, rest) == ("decided", "b", "b")
    # Concluding again answers the same.
    assert store.conclude(db, experiment.id, actor="broadcast", now=START) == rest


def test_an_aa_broadcast_test_ends_without_a_winner(db: Session) -> None:
    broadcast = Broadcast(name="Same twice", template_id=template(db))
    db.add(broadcast)
    db.flush()
    experiment = _running(
        db,
        kind="broadcast",
        broadcast_id=broadcast.id,
        metric="opens",
        baseline_rate=0.2,
        variants=[VariantInput("a"), VariantInput("b", content={"subject": "Same"})],
    )
    _arm(db, experiment, "a", 300, opened=60)
    _arm(db, experiment, "b", 300, opened=61)
    assert store.conclude(db, experiment.id, actor="broadcast", now=START) == "a"
    db.commit()
    assert (experiment.status, experiment.winner_variant) == ("stopped", None)
    assert experiment.results is not None
    assert experiment.results["decision"]["state"] == "stopped"
