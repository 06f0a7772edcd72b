"""The scheduler tick sends webinar reminders through Dramatiq, once, to a real SMTP server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from dramatiq.brokers.stub import StubBroker
from sqlalchemy.orm import Session

from campaigns.content.registrations import register
from campaigns.delivery.factory import transport_for
from campaigns.email.mailconfig import MailConfig
from nurture.config import Settings
from nurture.models import utcnow
from tests.email.smtpd import Behaviour, smtp_server
from tests.factories import make_contact
from tests.stub_worker import stub_worker
from tests.webinars.helpers import make_webinar
from workers import actors


@pytest.fixture
def relay(settings: Settings) -> Iterator[tuple[Settings, Behaviour]]:
    with smtp_server() as (port, behaviour):
        yield replace(settings, smtp_url=f"smtp://127.0.0.1:{port}"), behaviour


@pytest.fixture
def worker(
    relay: tuple[Settings, Behaviour], monkeypatch: pytest.MonkeyPatch
) -> Iterator[StubBroker]:
    settings, _ = relay
    with stub_worker(settings, monkeypatch) as stub:
        yield stub


def test_the_tick_sends_a_due_reminder_once(
    db: Session, relay: tuple[Settings, Behaviour], worker: StubBroker
) -> None:
    settings, behaviour = relay
    start = utcnow() + timedelta(minutes=40)
    webinar = make_webinar(db, "Starting soon", start)
    contact = make_contact(db)
    db.commit()
    register(
        db,
        webinar_id=webinar.id,
        contact_id=contact.id,
        now=start - timedelta(days=2),
        transport=transport_for(settings),
        config=MailConfig.from_settings(settings),
    )

    for _ in range(2):
        actors.tick.send()
        for _ in range(2):
            worker.join("ticks", timeout=20_000, fail_fast=True)

    subjects = [str(r.parsed()["Subject"]) for r in behaviour.received]
    assert subjects == ["You're registered: Starting soon", "Starting in 1 hour: Starting soon"]
