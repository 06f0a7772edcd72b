"""A broadcast with a test phase end to end, through the actors, the real pipeline and an
SMTP server: the test group gets its variants, the experiment's rule picks the winner
from the opens, the rest get the winner (or the default when there is none)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from campaigns.broadcasts.progress import progress
from campaigns.broadcasts.store import create_broadcast, experiment_of, schedule_broadcast
from nurture.config import Settings
from nurture.models import (
    Broadcast,
    BroadcastRecipient,
    BroadcastStatus,
    Event,
    ExperimentStatus,
    utcnow,
)
from tests.broadcasts.helpers import contacts, on_smtp, states, with_test
from tests.email.smtpd import Behaviour
from tests.stub_worker import drain, stub_worker
from workers.broadcasts import enqueue_due_broadcasts

AUDIENCE = 300
QUESTION = "Did you read this"


def run_ticks(settings: Settings, monkeypatch: pytest.MonkeyPatch, port: int) -> None:
    with stub_worker(on_smtp(settings, port), monkeypatch) as stub:
        enqueue_due_broadcasts()
        drain(stub)
        enqueue_due_broadcasts()  # the phase moves on once its last batch is in
        drain(stub)


def open_some(db: Session, broadcast_id: int, rates: dict[str, float]) -> None:
    """Human opens for the first `rate` share of each variant's test recipients."""
    rows = db.execute(
        select(
            BroadcastRecipient.contact_id,
            BroadcastRecipient.variant_key,
            BroadcastRecipient.message_id,
        )
        .where(BroadcastRecipient.broadcast_id == broadcast_id, BroadcastRecipient.phase == "test")
        .order_by(BroadcastRecipient.contact_id)
    ).all()
    by_variant: dict[str, list[tuple[int, int]]] = {}
    for cid, key, message_id in rows:
        assert message_id is not None  # every test recipient was sent its variant
        by_variant.setdefault(str(key), []).append((int(cid), int(message_id)))
    now = utcnow()
    for key, members in by_variant.items():
        for cid, message_id in members[: int(len(members) * rates.get(key, 0.0))]:
            db.add(
                Event(
                    contact_id=cid,
                    type="email.opened",
                    occurred_at=now,
                    properties={"message_id": message_id},
                )
            )
    db.commit()


def end_the_test_now(db: Session, broadcast_id: int) -> None:
    db.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id)
        .values(decide_at=utcnow() - timedelta(seconds=1))
    )
    db.commit()


def subjects_by_address(behaviour: Behaviour) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for received in behaviour.received:
        out.setdefault(received.rcpt_tos[0], []).append(str(received.parsed()["Subject"]))
    return out


@pytest.mark.parametrize(
    ("rates", "rest_gets", "ends"),
    [
        ({"a": 0.05, "b": 0.6}, "b", ExperimentStatus.DECIDED.value),
        ({"a": 0.2, "b": 0.2}, "a", ExperimentStatus.STOPPED.value),
    ],
    ids=["winner", "no-difference"],
)
def test_the_test_group_goes_first_then_the_rest_get_what_the_rule_decided(
    db: Session,
    settings: Settings,
    template_id: int,
    smtp: tuple[int, Behaviour],
    monkeypatch: pytest.MonkeyPatch,
    rates: dict[str, float],
    rest_gets: str,
    ends: str,
) -> None:
    port, behaviour = smtp
    ids = contacts(db, AUDIENCE)
    data = with_test(template_id, ids, accept_small_test=False, baseline_rate=0.1, min_effect=2.0)
    broadcast = create_broadcast(db, data, actor="m", now=utcnow())
    schedule_broadcast(db, broadcast.id, actor="m", now=utcnow())
    db.commit()

    run_ticks(settings, monkeypatch, port)
    db.expire_all()
    tested = progress(db, broadcast.id)
    test_size = tested.phases["test"].total
    assert tested.phases["test"].sent == test_size
    assert tested.phases["rest"].pending == AUDIENCE - test_size
    assert len(behaviour.received) == test_size
    assert db.get(Broadcast, broadcast.id).status == BroadcastStatus.TESTING.value  # type: ignore[union-attr]

    open_some(db, broadcast.id, rates)
    run_ticks(settings, monkeypatch, port)  # not yet: the test hours are not over
    assert len(behaviour.received) == test_size
    end_the_test_now(db, broadcast.id)
    run_ticks(settings, monkeypatch, port)

    db.expire_all()
    final = db.get(Broadcast, broadcast.id)
    assert final is not None
    assert final.status == BroadcastStatus.SENT.value
    assert final.rest_variant == rest_gets
    experiment = experiment_of(db, broadcast.id)
    assert experiment is not None
    assert experiment.status == ends
    decided = ends == ExperimentStatus.DECIDED.value
    assert experiment.winner_variant == (rest_gets if decided else None)
    assert experiment.decision_reason
    # Everyone once; the test group by its variant, the rest all with the chosen one.
    by_address = subjects_by_address(behaviour)
    assert len(behaviour.received) == AUDIENCE
    assert all(len(subjects) == 1 for subjects in by_address.values())
    rows = states(db, broadcast.id)
    assert {state for _, state, _ in rows.values()} == {"sent"}
    rest = Counter(variant for phase, _, variant in rows.values() if phase == "rest")
    assert rest == Counter({rest_gets: AUDIENCE - test_size})
    questions = sum(QUESTION in subjects[0] for subjects in by_address.values())
    in_b = sum(1 for _, _, variant in rows.values() if variant == "b")
    assert questions == in_b
