"""A worker SIGKILLed mid-broadcast: a real Dramatiq worker process on PostgreSQL and Redis
sends a 2,000-recipient broadcast to an SMTP sink, is killed with batches in flight and
started again; every recipient gets exactly one e-mail (one Message-ID per key).

This test process plays the scheduler tick (`enqueue_due_broadcasts`, and the e-mail
tick that resumes sends interrupted by the kill) until the lead wires the broadcast
actors into `nurture worker`; the worker is `dramatiq` with the same set-up function.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from campaigns.broadcasts.definition import BroadcastInput
from campaigns.broadcasts.store import create_broadcast, schedule_broadcast
from nurture.config import Settings
from nurture.db import session_scope
from nurture.models import (
    BroadcastRecipient,
    Contact,
    EmailMessage,
    RecipientState,
    utcnow,
)
from tests.email.conftest import make_template
from tests.faults.processes import REPO, RedisServer, Worker
from tests.faults.smtp_sink import Sink, smtp_sink
from tests.faults.test_sequence_faults import pg_url, redis_server  # noqa: F401 (fixtures)
from workers import broker, context
from workers.broadcasts import enqueue_due_broadcasts
from workers.email import email_tick

pytestmark = pytest.mark.redis

RECIPIENTS = 2_000
# Leases short enough for the killed worker's batches and sends to come back within the
# deadline (production keeps 600 s and 300 s).
STEP_LEASE_S = 15
SEND_LEASE_S = 10
DEADLINE_S = float(os.environ.get("NURTURE_FAULT_DEADLINE_S") or 300)


class BroadcastWorker(Worker):
    """`dramatiq` with the set-up `nurture worker` uses, plus the broadcast actors."""

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "dramatiq",
                    "workers.runtime:install_for_worker",
                    "workers.broadcasts",
                    "--processes",
                    "1",
                    "--threads",
                    str(self.threads),
                ],
                env={**os.environ, **self.env},
                cwd=REPO,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )


def audience(url: str) -> tuple[int, list[int]]:
    with session_scope(url) as db:
        template_id = make_template(db, name="News")
        now = utcnow()
        db.execute(
            insert(Contact),
            [
                {
                    "email": f"reader{n}@firm{n % 50}.example.com",
                    "first_name": f"Reader{n}",
                    "locale": "en",
                    "attributes": {},
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(RECIPIENTS)
            ],
        )
        ids = list(db.scalars(select(Contact.id)))
        data = BroadcastInput(name="Monthly news", template_id=template_id, contact_ids=ids)
        broadcast = create_broadcast(db, data, actor="test", now=now)
        schedule_broadcast(db, broadcast.id, actor="test", now=now)
        return broadcast.id, ids


@contextmanager
def ticking(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(context, "_settings", settings)
    installed = broker.install(broker.build_broker(settings))
    try:
        yield
    finally:
        installed.close()


def pending(url: str, broadcast_id: int) -> int:
    with session_scope(url) as db:
        return int(
            db.scalar(
                select(func.count())
                .select_from(BroadcastRecipient)
                .where(
                    BroadcastRecipient.broadcast_id == broadcast_id,
                    BroadcastRecipient.state == RecipientState.PENDING.value,
                )
            )
            or 0
        )


def unfinished_messages(url: str) -> int:
    with session_scope(url) as db:
        return int(
            db.scalar(
                select(func.count())
                .select_from(EmailMessage)
                .where(EmailMessage.status.in_(("queued", "sending", "deferred")))
            )
            or 0
        )


def tick_until(what: str, done: object, sink: Sink, deadline: float) -> None:
    assert callable(done)
    last = time.monotonic()
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}: {sink.count()} delivered")
        enqueue_due_broadcasts()
        email_tick.send()
        if time.monotonic() - last > 5:
            last = time.monotonic()
            print(f"  {sink.count()} delivered, waiting for {what}", flush=True)
        time.sleep(0.5)


def test_a_worker_killed_mid_broadcast_sends_each_recipient_exactly_once(
    pg_url: str,  # noqa: F811
    redis_server: RedisServer,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    logs = Path(tempfile.mkdtemp(prefix="nurture-bc-faults-"))
    print(f"worker log in {logs}")
    broadcast_id, ids = audience(pg_url)
    with smtp_sink() as sink:
        env = {
            "NURTURE_DATABASE_URL": pg_url,
            "NURTURE_REDIS_URL": redis_server.url,
            "NURTURE_SMTP_URL": f"smtp://127.0.0.1:{sink.port}",
            "NURTURE_SEND_LEASE_SECONDS": str(SEND_LEASE_S),
            "NURTURE_STEP_LEASE_SECONDS": str(STEP_LEASE_S),
            "NURTURE_DATA_DIR": str(tmp_path / "data"),
            "NURTURE_SECRET_KEY": "fault-test-secret-" + "x" * 32,
        }
        settings = Settings(
            data_dir=tmp_path / "tick",
            database_url=pg_url,
            redis_url=redis_server.url,
            smtp_url=env["NURTURE_SMTP_URL"],
            secret_key=env["NURTURE_SECRET_KEY"],
            send_lease_seconds=SEND_LEASE_S,
            step_lease_seconds=STEP_LEASE_S,
        )
        worker = BroadcastWorker(env, logs / "worker.log", threads=4)
        deadline = time.monotonic() + DEADLINE_S
        with ticking(settings, monkeypatch):
            worker.start()
            try:
                tick_until("the first deliveries", lambda: sink.count() >= 300, sink, deadline)
                worker.kill()
                killed_at = sink.count()
                print(f"  {killed_at} delivered, worker killed", flush=True)
                assert killed_at < RECIPIENTS  # the kill came mid-broadcast
                worker.start()
                tick_until(
                    "every recipient",
                    lambda: pending(pg_url, broadcast_id) == 0 and unfinished_messages(pg_url) == 0,
                    sink,
                    deadline,
                )
            finally:
                worker.stop()
        accepted = sink.snapshot()

    with session_scope(pg_url) as db:
        keys = {i: k for i, k in db.execute(select(EmailMessage.id, EmailMessage.idempotency_key))}
        states = dict(
            (int(c), str(s))
            for c, s in db.execute(
                select(BroadcastRecipient.contact_id, BroadcastRecipient.state).where(
                    BroadcastRecipient.broadcast_id == broadcast_id
                )
            )
        )
    ids_per_key: dict[str, set[str]] = {}
    for message in accepted:
        ids_per_key.setdefault(keys[int(message.nurture_id)], set()).add(message.message_id)
    expected = {f"bc:{broadcast_id}:{cid}" for cid in ids}
    doubled = sorted(key for key, found in ids_per_key.items() if len(found) > 1)
    assert not doubled, f"{len(doubled)} recipients got two e-mails, e.g. {doubled[:5]}"
    assert set(ids_per_key) == expected
    assert set(states.values()) == {RecipientState.SENT.value}
    assert len(states) == RECIPIENTS
