"""The case study and webinar invitation starters, sent by the engine from the steps
that give their context, with real library content, in English and Russian."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.sequences.engine import Mailer
from nurture.config import Settings
from nurture.models import Company, EmailMessage, MessageStatus, utcnow
from templates.library import LOCALES
from tests.email.smtpd import Behaviour
from tests.factories import make_contact
from tests.sequences.helpers import drive, enrol, make_sequence
from tests.webinars.helpers import make_story, make_webinar, sink_mailer


@pytest.fixture
def sink(settings: Settings) -> Iterator[tuple[Mailer, Behaviour]]:
    with sink_mailer(settings) as pair:
        yield pair


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    ("starter", "step_type"),
    [("case_study", "case_study"), ("webinar_invitation", "webinar_invite")],
)
def test_a_content_step_sends_its_starter_with_the_content_it_picked(
    db: Session,
    sink: tuple[Mailer, Behaviour],
    starters: dict[str, int],
    starter: str,
    step_type: str,
    locale: str,
) -> None:
    mailer, behaviour = sink
    make_story(
        db,
        "Contract review in hours",
        result_metrics=[{"label": "faster reviews", "value": "80%"}],
    )
    make_webinar(db, "Compliance in practice", utcnow() + timedelta(days=5))
    company = Company(name="Hartley & Moss", industry="legal")
    db.add(company)
    db.flush()
    contact = make_contact(db, locale=locale)
    contact.company_id = company.id
    db.commit()
    sequence = make_sequence(
        db, [{"key": "send", "type": step_type, "template_id": starters[starter]}]
    )
    enrolment = enrol(db, sequence, contact.id, utcnow())

    drive(db, enrolment, utcnow(), mailer)

    message = db.scalars(select(EmailMessage).where(EmailMessage.contact_id == contact.id)).one()
    assert message.status == MessageStatus.SENT.value, message.last_error
    assert message.locale == locale
    assert [r.rcpt_tos for r in behaviour.received] == [[contact.email]]
    title = "Contract review in hours" if starter == "case_study" else "Compliance in practice"
    assert title in (message.subject or "") + behaviour.received[0].parsed().as_string()
