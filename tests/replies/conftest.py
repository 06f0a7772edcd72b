"""Fixtures for reply tests: settings with a reply domain, a mailer, a two-e-mail sequence."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest
from sqlalchemy.orm import Session

from campaigns.delivery.factory import transport_for
from campaigns.email.mailconfig import MailConfig
from campaigns.sequences.engine import Mailer
from nurture.config import Settings
from nurture.models import utcnow
from tests.email.conftest import make_template
from tests.factories import make_contact
from tests.replies.helpers import REPLY_DOMAIN, Sent, first_email_of
from tests.sequences.helpers import drive, enrol, make_sequence


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared test settings, with replies going to reply+<token>@REPLY_DOMAIN."""
    return dataclasses.replace(settings, reply_domain=REPLY_DOMAIN)


@pytest.fixture
def mailer(settings: Settings) -> Mailer:
    return Mailer(transport_for(settings), MailConfig.from_settings(settings))


@pytest.fixture
def now() -> datetime:
    return utcnow()


@pytest.fixture
def sent(db: Session, mailer: Mailer, now: datetime) -> Sent:
    """A contact enrolled in "e-mail, wait 3 days, e-mail", with the first e-mail sent."""
    template_id = make_template(db)
    sequence_id = make_sequence(
        db,
        [
            {"key": "hello", "type": "email", "template_id": template_id},
            {"key": "gap", "type": "wait", "duration": {"days": 3}},
            {"key": "follow_up", "type": "email", "template_id": template_id},
        ],
    )
    contact = make_contact(db)
    enrolment_id = enrol(db, sequence_id, contact.id, now)
    drive(db, enrolment_id, now, mailer)
    return first_email_of(db, sequence_id, contact.id, enrolment_id)
