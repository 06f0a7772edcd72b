"""A sequence run end to end on Redis: a real Dramatiq worker, the SMTP pipeline, a real sink.

email -> wait four days -> email for three contacts. Time is moved, not slept:
once the wait has started, its start and due time are set four days back in
the database and the scheduler tick finds the step due.
"""

from __future__ import annotations

import os
import secrets
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import dramatiq
import pytest
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.sequences.scheduler import claim_due
from nurture.config import Settings
from nurture.db import session_scope
from nurture.models import EmailMessage, EnrolmentState, StepRun, utcnow
from tests.email.conftest import make_template
from tests.factories import make_contact
from tests.faults.processes import free_port
from tests.faults.smtp_sink import Sink, smtp_sink
from tests.sequences.helpers import enrol, make_sequence, reload
from workers import broker, context
from workers.sequences import enqueue_due_steps, run_enrolment_step, sequence_tick

pytestmark = pytest.mark.redis

QUEUES = ("ticks", "sequences", "email")
WAIT = timedelta(days=4)


@pytest.fixture
def sink() -> Iterator[Sink]:
    with smtp_sink() as running:
        yield running


@pytest.fixture
def redis_worker(settings: Settings, sink: Sink) -> Iterator[RedisBroker]:
    """A Redis broker in a namespace of its own, a worker on it, mail to the sink."""
    url = os.environ.get("NURTURE_TEST_REDIS_URL")
    if not url:
        pytest.fail("NURTURE_TEST_REDIS_URL is not set: run the suite with `make test`")
    separator = "&" if "?" in url else "?"
    namespaced = f"{url}{separator}namespace=nurture-seq-{secrets.token_hex(6)}"
    configured = replace(settings, redis_url=namespaced, smtp_url=f"smtp://127.0.0.1:{sink.port}")
    context.configure(configured)
    installed = broker.install(broker.build_broker(configured))
    assert isinstance(installed, RedisBroker)
    worker = dramatiq.Worker(installed, worker_threads=2, worker_timeout=100)
    worker.start()
    try:
        yield installed
    finally:
        worker.stop(timeout=10_000)
        for key in installed.client.scan_iter(f"{installed.namespace}:*"):
            installed.client.delete(key)
        installed.close()
        context.configure(settings)
        broker.install(StubBroker())  # later tests must not enqueue into this namespace


def drain(redis_broker: RedisBroker) -> None:
    """Wait until the queues are empty; a message may enqueue others, so look again."""
    for _ in range(3):
        for queue in QUEUES:
            redis_broker.join(queue, timeout=30_000)


def move_wait_back(db: Session, enrolment_ids: list[int], by: timedelta) -> None:
    """Make the wait step `by` older: its start and the enrolment's due time move back."""
    runs = db.scalars(
        select(StepRun).where(StepRun.enrolment_id.in_(enrolment_ids), StepRun.step_key == "pause")
    ).all()
    for run in runs:
        run.started_at = run.started_at - by
    for enrolment_id in enrolment_ids:
        enrolment = reload(db, enrolment_id)
        assert enrolment.next_run_at is not None
        enrolment.next_run_at = enrolment.next_run_at - by
    db.commit()


def test_email_wait_email_sequence_delivers_each_step_once_through_redis(
    db: Session, redis_worker: RedisBroker, sink: Sink
) -> None:
    welcome = make_template(db, name="Welcome")
    guide = make_template(db, name="Guide")
    sequence = make_sequence(
        db,
        [
            {"key": "hello", "type": "email", "template_id": welcome},
            {"key": "pause", "type": "wait", "duration": {"days": 4}},
            {"key": "guide", "type": "email", "template_id": guide},
        ],
    )
    contacts = [make_contact(db) for _ in range(3)]
    db.commit()
    enrolments = [enrol(db, sequence, contact.id, utcnow()) for contact in contacts]

    sequence_tick.send()
    drain(redis_worker)
    after_first = sink.count()
    waiting = [(e.step_key, e.state, e.next_run_at) for e in (reload(db, i) for i in enrolments)]
    move_wait_back(db, enrolments, WAIT)
    sequence_tick.send()
    drain(redis_worker)
    run_enrolment_step.send(enrolments[0], "hello")  # a late duplicate of a finished step
    sequence_tick.send()
    drain(redis_worker)

    assert after_first == 3
    assert {(key, state) for key, state, _ in waiting} == {("pause", EnrolmentState.ACTIVE.value)}
    assert all(due is not None and due > utcnow() + WAIT / 2 for _, _, due in waiting)
    finished = [reload(db, enrolment_id) for enrolment_id in enrolments]
    assert {e.state for e in finished} == {EnrolmentState.COMPLETED.value}
    accepted = sink.snapshot()
    assert len(accepted) == 6
    assert len({a.message_id for a in accepted}) == 6
    keys = {i: k for i, k in db.execute(select(EmailMessage.id, EmailMessage.idempotency_key))}
    delivered = sorted(keys[int(a.nurture_id)] for a in accepted)
    assert delivered == sorted(f"seq:{e}:{step}" for e in enrolments for step in ("hello", "guide"))
    per_address = Counter(a.recipients for a in accepted)
    assert per_address == {(contact.email,): 2 for contact in contacts}


def test_steps_claimed_while_redis_is_down_are_released_for_the_next_tick(
    db: Session, settings: Settings
) -> None:
    template = make_template(db, name="Welcome")
    sequence = make_sequence(db, [{"key": "hello", "type": "email", "template_id": template}])
    enrolment = enrol(db, sequence, make_contact(db).id, utcnow())
    # Nothing listens on this port: every enqueue fails as it does while Redis restarts.
    down = replace(settings, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    context.configure(down)
    installed = broker.install(broker.build_broker(down))
    try:
        with pytest.raises(redis.ConnectionError):
            enqueue_due_steps()
    finally:
        installed.close()
        context.configure(settings)
        broker.install(StubBroker())

    after = reload(db, enrolment)
    assert (after.claim_token, after.claimed_until) == (None, None)
    assert after.step_key == "hello"
    with session_scope(settings.database_url) as other:
        assert claim_due(other, now=utcnow()) == [(enrolment, "hello")]
