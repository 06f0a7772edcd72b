"""The tick's refresh: due experiments are claimed once and refreshed by the actor."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from dramatiq.brokers.stub import StubBroker
from sqlalchemy.orm import Session

from campaigns.experiments import schedule, store
from campaigns.experiments.store import VariantInput
from nurture.config import Settings
from nurture.models import Exposure, utcnow
from tests.experiments.expdomain_helpers import event, expose, make_sequence, message_for, template
from tests.factories import make_contact
from tests.stub_worker import drain, stub_worker
from workers.experiments import enqueue_due_refresh


@pytest.fixture
def worker(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[StubBroker]:
    with stub_worker(settings, monkeypatch) as stub:
        yield stub


def test_the_tick_refreshes_running_experiments_once_per_period(
    db: Session, worker: StubBroker
) -> None:
    start = utcnow() - timedelta(hours=2)
    draft = store.create_experiment(
        db,
        actor="mia",
        name="Not started",
        kind="step",
        variants=[VariantInput("a"), VariantInput("b", content={"subject": "B"})],
        sequence_id=make_sequence(db, template(db)).id,
        step_key="intro",
    )
    running = store.create_experiment(
        db,
        actor="mia",
        name="Running",
        kind="step",
        variants=[VariantInput("a"), VariantInput("b", content={"subject": "B"})],
        sequence_id=make_sequence(db, template(db)).id,
        step_key="intro",
    )
    store.start_experiment(db, running.id, actor="mia", now=start)
    person = make_contact(db)
    exposure = expose(db, running.id, [person.id], now=start)[person.id]
    message = message_for(db, exposure)
    event(db, "email.sent", person.id, start, message_id=message.id)
    event(db, "email.clicked", person.id, start, message_id=message.id)
    db.commit()

    assert enqueue_due_refresh() == [running.id]
    assert enqueue_due_refresh() == []  # claimed: a second ticker sends nothing
    drain(worker)

    db.expire_all()
    stamped = db.get(Exposure, exposure.id)
    assert stamped is not None
    assert stamped.clicked_at == start
    fresh = store.get_experiment(db, running.id)
    assert fresh.results is not None
    (arm_a, arm_b) = fresh.results["arms"]
    assert arm_a["clicked"] + arm_b["clicked"] == 1
    assert store.get_experiment(db, draft.id).results is None
    # Once the period has passed it is due again.
    later = utcnow() + schedule.EVERY + timedelta(seconds=1)
    assert schedule.claim_due(db, now=later) == [running.id]
