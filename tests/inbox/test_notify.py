"""Hand-off e-mails: the rep told once per hand-off, the team lead once per escalation."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

import workers.actors  # noqa: F401 - declares process_events, which the sweep feeds
from campaigns.delivery.capture import CaptureTransport
from campaigns.delivery.smtp import SmtpPool
from campaigns.delivery.smtp_url import parse_smtp_url
from campaigns.email.mailconfig import MailConfig
from nurture.config import Settings
from nurture.db import session_scope
from nurture.models import CapturedEmail, Handoff, SalesTeam, utcnow
from nurture.qualification import notify
from tests.factories import make_user
from tests.faults.smtp_sink import smtp_sink
from tests.inbox.helpers import NOW, make_handoff
from tests.stub_worker import drain, stub_worker
from workers import handoffs


def _captured(db: Session) -> list[CapturedEmail]:
    db.expire_all()
    return list(db.scalars(select(CapturedEmail).order_by(CapturedEmail.id)))


def _text(raw: bytes) -> str:
    parsed = message_from_bytes(raw, policy=policy.default)
    part = parsed.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def test_the_rep_is_told_once_even_when_the_notice_is_retried(
    db: Session, settings: Settings
) -> None:
    rep = make_user(db, role="sales", email="rita@nurture.test")
    handoff = make_handoff(db, rep, due_at=NOW + timedelta(hours=8))
    db.commit()
    transport, config = CaptureTransport(settings.database_url), MailConfig.from_settings(settings)

    sent = notify.notify_handoffs(db, [handoff.id], now=NOW, transport=transport, config=config)
    # A retry that lost the `notified_at` write finds the message's key done.
    db.execute(update(Handoff).values(notified_at=None))
    db.commit()
    again = notify.notify_handoffs(db, [handoff.id], now=NOW, transport=transport, config=config)

    assert sent == again == [handoff.id]
    mails = _captured(db)
    assert [m.recipients for m in mails] == ["rita@nurture.test"]
    assert mails[0].subject is not None
    assert "Harbor Freight Logistics" in mails[0].subject
    body = _text(mails[0].raw)
    assert "Webinar attended (+15)" in body
    assert "Accept lead (http" in body
    db.refresh(handoff)
    assert handoff.notified_at == NOW


def test_the_notice_reaches_a_real_smtp_server(db: Session, settings: Settings) -> None:
    rep = make_user(db, role="sales", email="sam@nurture.test")
    handoff = make_handoff(db, rep)
    db.commit()
    with smtp_sink() as sink:
        pool = SmtpPool(parse_smtp_url(f"smtp://127.0.0.1:{sink.port}"), size=1)
        try:
            config = MailConfig.from_settings(settings)
            for _ in range(2):
                notify.notify_handoffs(db, [handoff.id], now=NOW, transport=pool, config=config)
        finally:
            pool.close()
        accepted = sink.snapshot()
    assert [a.recipients for a in accepted] == [("sam@nurture.test",)]
    assert "New qualified lead" in accepted[0].subject


def test_the_team_lead_is_alerted_once_per_escalation(db: Session, settings: Settings) -> None:
    rep = make_user(db, role="sales")
    lead = make_user(db, role="sales", email="lena@nurture.test")
    team = SalesTeam(name="Nordics", lead_id=lead.id)
    db.add(team)
    db.flush()
    handoff = make_handoff(db, rep, team_id=team.id, escalated_at=NOW, escalated_to_id=lead.id)
    db.commit()
    transport, config = CaptureTransport(settings.database_url), MailConfig.from_settings(settings)

    for _ in range(2):
        notify.notify_escalations(db, [handoff.id], transport=transport, config=config)

    mails = _captured(db)
    assert [m.recipients for m in mails] == ["lena@nurture.test"]
    assert "Escalated to you" in _text(mails[0].raw)


def _qualify_then_fail(db_url: str, handoff_ids: list[int]) -> None:
    with session_scope(db_url) as db:
        handoffs.notify_after_commit(db, handoff_ids)
        raise RuntimeError("the qualification failed")


def test_after_commit_the_worker_tells_the_rep_and_after_rollback_nobody(
    db_url: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with session_scope(db_url) as db:
        rep = make_user(db, role="sales", email="ravi@nurture.test")
        kept = make_handoff(db, rep)
        dropped = make_handoff(db, rep)
        kept_id, dropped_id = kept.id, dropped.id
    with stub_worker(settings, monkeypatch) as stub:
        with session_scope(db_url) as db:
            handoffs.notify_after_commit(db, [kept_id])
        with pytest.raises(RuntimeError):
            _qualify_then_fail(db_url, [dropped_id])
        drain(stub)
    with session_scope(db_url) as db:
        notified = dict(db.execute(select(Handoff.id, Handoff.notified_at)).all())
        assert notified[kept_id] is not None
        assert notified[dropped_id] is None
        assert [m.recipients for m in _captured(db)] == ["ravi@nurture.test"]


def test_the_sweep_escalates_alerts_and_resends_lost_notices(
    db_url: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = utcnow()
    with session_scope(db_url) as db:
        rep = make_user(db, role="sales", email="rosa@nurture.test")
        lead = make_user(db, role="sales", email="leo@nurture.test")
        team = SalesTeam(name="Benelux", lead_id=lead.id)
        db.add(team)
        db.flush()
        overdue = make_handoff(
            db,
            rep,
            team_id=team.id,
            created_at=now - timedelta(hours=9),
            due_at=now - timedelta(hours=1),
            notified_at=now - timedelta(hours=9),
        )
        lost = make_handoff(db, rep, created_at=now - timedelta(minutes=5))
        fresh = make_handoff(db, rep, created_at=now)
        ids = (overdue.id, lost.id, fresh.id)
    with stub_worker(settings, monkeypatch) as stub:
        handoffs.escalation_sweep.send()
        drain(stub)
        handoffs.escalation_sweep.send()
        drain(stub)
    with session_scope(db_url) as db:
        rows = {h.id: h for h in db.scalars(select(Handoff))}
        assert rows[ids[0]].escalated_to_id == lead.id
        assert rows[ids[1]].notified_at is not None
        assert rows[ids[2]].notified_at is None, "a minute's grace for the first notice"
        assert sorted(m.recipients for m in _captured(db)) == [
            "leo@nurture.test",
            "rosa@nurture.test",
        ]
