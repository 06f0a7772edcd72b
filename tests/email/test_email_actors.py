"""The e-mail actors call the pipeline with the process's settings (capture mailbox here)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.config import Settings
from nurture.models import CapturedEmail, EmailMessage, MessageStatus
from tests.email.conftest import make_template
from tests.factories import make_contact
from workers import context
from workers.email import email_tick, send_email


def test_send_email_actor_sends_once_per_key_and_the_tick_runs(
    db: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(context, "_settings", settings)
    contact = make_contact(db)
    template_id = make_template(db)
    db.commit()

    send_email.fn(template_id, contact.id, "actor-1")
    send_email.fn(template_id, contact.id, "actor-1")  # a redelivered message
    email_tick.fn()

    statuses = db.scalars(select(EmailMessage.status).execution_options(populate_existing=True))
    assert list(statuses) == [MessageStatus.SENT.value]
    assert len(db.scalars(select(CapturedEmail.id)).all()) == 1
