"""Broadcasts sent by the actors through the real pipeline to an SMTP server on loopback:
suppression and topic opt-outs skip, a second tick sends nothing again, the frequency
cap postpones (or not, when overridden), and a cancel stops a batch being sent."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.broadcasts.progress import progress
from campaigns.broadcasts.sending import advance, claim, send_claimed, start
from campaigns.broadcasts.store import cancel_broadcast, create_broadcast, schedule_broadcast
from campaigns.delivery.factory import build_transport
from campaigns.delivery.transport import Delivery, Envelope, Transport
from campaigns.email.mailconfig import MailConfig
from campaigns.email.pipeline import send_keyed
from campaigns.sequences.caps import FrequencyCap
from nurture.config import Settings
from nurture.contacts.erasure import suppress
from nurture.db import session_scope
from nurture.models import (
    Broadcast,
    BroadcastStatus,
    Contact,
    EmailMessage,
    SuppressionReason,
    TopicOptOut,
    utcnow,
)
from tests.broadcasts.helpers import contacts, on_smtp, plain, states, with_test
from tests.email.smtpd import Behaviour
from tests.stub_worker import drain, stub_worker
from workers.broadcasts import enqueue_due_broadcasts


def test_a_broadcast_reaches_its_audience_once_skipping_suppressed_and_opted_out(
    db: Session,
    settings: Settings,
    template_id: int,
    smtp: tuple[int, Behaviour],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port, behaviour = smtp
    ids = contacts(db, 12)
    suppressed, opted_out = ids[0], ids[1]
    address = db.scalar(select(Contact.email).where(Contact.id == suppressed))
    assert address is not None
    suppress(db, address, reason=SuppressionReason.COMPLAINT)
    db.add(TopicOptOut(contact_id=opted_out, topic="newsletters"))
    broadcast = create_broadcast(db, plain(template_id, ids), actor="m", now=utcnow())
    schedule_broadcast(db, broadcast.id, actor="m", now=utcnow())
    db.commit()

    with stub_worker(on_smtp(settings, port), monkeypatch) as stub:
        enqueue_due_broadcasts()
        drain(stub)
        enqueue_due_broadcasts()  # finds it done: nothing claimed, the status moves on
        drain(stub)

    addresses = sorted(r.rcpt_tos[0] for r in behaviour.received)
    assert len(addresses) == 10
    assert len(set(addresses)) == 10
    counts = progress(db, broadcast.id)
    assert (counts.all.sent, counts.all.skipped, counts.all.pending) == (10, 2, 0)
    rows = states(db, broadcast.id)
    assert rows[suppressed][1] == rows[opted_out][1] == "skipped"
    db.expire_all()
    assert db.get(Broadcast, broadcast.id).status == BroadcastStatus.SENT.value  # type: ignore[union-attr]
    keys = set(db.scalars(select(EmailMessage.idempotency_key)))
    assert keys == {f"bc:{broadcast.id}:{cid}" for cid in ids}


def test_the_frequency_cap_postpones_unless_the_broadcast_overrides_it(
    db: Session, settings: Settings, template_id: int, smtp: tuple[int, Behaviour]
) -> None:
    port, behaviour = smtp
    settings = on_smtp(settings, port)
    config = MailConfig.from_settings(settings)
    transport = build_transport(settings)
    ids = contacts(db, 3)
    busy = ids[0]
    # One marketing e-mail this week already: a cap of one holds the contact back.
    send_keyed(db, template_id, [("earlier:1", busy)], transport=transport, config=config)
    cap = FrequencyCap(limit=1)
    now = utcnow()
    outcomes: dict[str, dict[int, str]] = {}
    for policy in ("respect", "override"):
        broadcast = create_broadcast(
            db, plain(template_id, ids, cap_policy=policy), actor="m", now=now
        )
        schedule_broadcast(db, broadcast.id, actor="m", now=now)
        assert start(db, broadcast.id, now=now)
        claimed = claim(db, broadcast.id, now=now)
        db.commit()
        assert claimed is not None
        result = send_claimed(
            db, broadcast.id, claimed.token, now=now, transport=transport, config=config, cap=cap
        )
        assert result.postponed == (1 if policy == "respect" else 0)
        outcomes[policy] = {cid: state for cid, (_, state, _) in states(db, broadcast.id).items()}
        if policy == "respect":
            held = db.get(Broadcast, broadcast.id)
            assert held is not None
            assert claim(db, broadcast.id, now=now) is None  # not due again this week
            assert claim(db, broadcast.id, now=now + timedelta(days=7, seconds=2)) is not None
            db.rollback()
    transport.close()
    assert outcomes["respect"][busy] == "pending"
    assert outcomes["override"][busy] == "sent"
    # Two in the first broadcast, three in the second, plus the earlier e-mail.
    assert len(behaviour.received) == 6


class CancelAfter:
    """A transport that cancels the broadcast (from another session) after `n` sends."""

    def __init__(self, inner: Transport, url: str, broadcast_id: int, n: int) -> None:
        self.inner, self.url, self.broadcast_id, self.n = inner, url, broadcast_id, n
        self.sent = 0

    def send(self, envelope: Envelope) -> Delivery:
        delivery = self.inner.send(envelope)
        self.sent += 1
        if self.sent == self.n:
            with session_scope(self.url) as other:
                cancel_broadcast(other, self.broadcast_id, actor="m", now=utcnow())
        return delivery

    def close(self) -> None:
        self.inner.close()


def test_cancel_mid_send_stops_the_batch_between_chunks(
    db: Session, db_url: str, settings: Settings, template_id: int, smtp: tuple[int, Behaviour]
) -> None:
    port, behaviour = smtp
    settings = dataclasses.replace(on_smtp(settings, port), smtp_concurrency=1)
    ids = contacts(db, 30)
    now = utcnow()
    broadcast = create_broadcast(db, plain(template_id, ids), actor="m", now=now)
    schedule_broadcast(db, broadcast.id, actor="m", now=now)
    start(db, broadcast.id, now=now)
    claimed = claim(db, broadcast.id, now=now)
    db.commit()
    assert claimed is not None
    assert claimed.size == 30
    transport = CancelAfter(build_transport(settings), db_url, broadcast.id, n=3)
    result = send_claimed(
        db,
        broadcast.id,
        claimed.token,
        now=now,
        transport=transport,
        config=MailConfig.from_settings(settings),
        cap=FrequencyCap(limit=0),
        chunk=10,
    )
    transport.close()
    assert result.stopped
    # The chunk in flight when the cancel came finishes; nothing after it goes.
    assert result.sent == 10
    counts = progress(db, broadcast.id)
    assert (counts.all.sent, counts.all.cancelled, counts.all.pending) == (10, 20, 0)
    assert len(behaviour.received) == 10
    db.expire_all()
    assert claim(db, broadcast.id, now=now + timedelta(hours=1)) is None


def test_the_decision_does_not_wait_for_test_recipients_the_cap_held_back(
    db: Session, settings: Settings, template_id: int, smtp: tuple[int, Behaviour]
) -> None:
    port, _ = smtp
    settings = on_smtp(settings, port)
    config = MailConfig.from_settings(settings)
    transport = build_transport(settings)
    ids = contacts(db, 20)
    busy = ids[:10]
    earlier = [(f"earlier:{cid}", cid) for cid in busy]
    send_keyed(db, template_id, earlier, transport=transport, config=config)
    now = utcnow()
    broadcast = create_broadcast(db, with_test(template_id, ids), actor="m", now=now)
    schedule_broadcast(db, broadcast.id, actor="m", now=now)
    assert start(db, broadcast.id, now=now)
    claimed = claim(db, broadcast.id, now=now)
    db.commit()
    assert claimed is not None
    result = send_claimed(
        db,
        broadcast.id,
        claimed.token,
        now=now,
        transport=transport,
        config=config,
        cap=FrequencyCap(limit=1),
    )
    transport.close()
    held = [
        cid for cid, (phase, state, _) in states(db, broadcast.id).items() if state == "pending"
    ]
    tested = [cid for cid, (phase, _, _) in states(db, broadcast.id).items() if phase == "test"]
    assert result.postponed == len(set(tested) & set(busy)) > 0
    assert set(held) == (set(tested) & set(busy)) | {
        cid for cid, (phase, _, _) in states(db, broadcast.id).items() if phase == "rest"
    }
    assert advance(db, broadcast.id, now=now) == BroadcastStatus.TESTING.value
