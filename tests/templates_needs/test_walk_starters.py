"""Every starter template, in English and Russian: a test send reaches the SMTP server
filled with samples, and a sequence step that gives what it needs activates and sends
it, or activation is refused naming what it lacks in plain words."""

from __future__ import annotations

import json
from collections.abc import Iterable
from email.header import decode_header, make_header
from typing import Any

import pytest
from sqlalchemy.orm import Session

from campaigns.delivery.factory import transport_for
from campaigns.email import pipeline
from campaigns.email.mailconfig import MailConfig
from campaigns.email.needs import templates_needs
from campaigns.email.samples import validation_context
from campaigns.sequences import content_steps, definition, versions
from nurture.config import Settings
from nurture.errors import InvalidInput
from nurture.models import MessageStatus
from templates import requirements
from templates.library import LOCALES, starter_templates
from templates.message import Address
from tests.email.smtpd import Behaviour
from tests.factories import make_contact

STARTERS = [s.name for s in starter_templates()]


def _given(sample: dict[str, Any], gives: Iterable[str]) -> dict[str, Any]:
    """Only the parts of `sample` that `gives` names: what the step really hands over."""
    kept: dict[str, Any] = {}
    for name in gives:
        *parents, last = name.split(".")
        source: Any = sample
        target = kept
        for part in parents:
            source = source.get(part, {}) if isinstance(source, dict) else {}
            target = target.setdefault(part, {})
        if isinstance(source, dict) and last in source:
            target[last] = source[last]
    return kept


def _step(sender: requirements.Sender, template_id: int) -> dict[str, Any]:
    if sender.key.startswith("review_email:"):
        ask = sender.key.split(":", 1)[1]
        return {"key": "s", "type": "review_email", "ask": ask, "template_id": template_id}
    return {"key": "s", "type": sender.key, "template_id": template_id}


def test_the_walk_covers_every_starter() -> None:
    assert len(STARTERS) >= 9
    assert set(LOCALES) == {"en", "ru"}


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", STARTERS)
def test_every_starter_sends_from_a_test_send_and_from_a_step_that_gives_its_context(
    db: Session,
    settings: Settings,
    behaviour: Behaviour,
    starters: dict[str, int],
    name: str,
    locale: str,
) -> None:
    config = MailConfig.from_settings(settings)
    transport = transport_for(settings)
    template_id = starters[name]
    contact = make_contact(db, locale=locale, email=f"{name}.{locale}@client.example")
    db.commit()

    tried = pipeline.send_test(
        db,
        template_id,
        contact.id,
        to=Address("me@firm.example", "Me"),
        idempotency_key=f"test:{name}:{locale}",
        transport=transport,
        config=config,
    )
    assert tried.message.status == MessageStatus.SENT.value, tried.message.last_error
    assert tried.message.locale == locale
    got = behaviour.received[-1].parsed()
    assert got["To"].endswith("<me@firm.example>")
    subject = str(make_header(decode_header(str(got["Subject"]))))
    assert subject
    assert "{{" not in subject

    needs = templates_needs(db, [template_id])[template_id]
    assert bool(tried.filled) == bool(needs.needs)
    fitting = [s for s in requirements.givers(needs.needs) if content_steps.is_step_sender(s)]
    if not fitting:
        body = {"steps": [{"key": "s", "type": "email", "template_id": template_id}]}
        [problem] = definition.problems(db, body)
        assert problem.field == "steps[0].template_id"
        assert requirements.say(needs.needs) in problem.message
        sequence = versions.create_sequence(db, name=f"{name} {locale}", steps_definition=body)
        with pytest.raises(InvalidInput):
            versions.activate(db, sequence.id)
        db.rollback()
        return

    sender = fitting[0]
    body = {"steps": [_step(sender, template_id)]}
    assert definition.problems(db, body) == []
    sequence = versions.create_sequence(db, name=f"{name} {locale}", steps_definition=body)
    versions.activate(db, sequence.id)
    db.commit()
    # Sent with nothing but what the step declares it gives (and what every send gives),
    # as JSON-friendly as the steps' own values (a webinar's start is text there).
    extra = json.loads(json.dumps(_given(validation_context(locale), sender.gives), default=str))
    message = pipeline.send_to_contact(
        db,
        template_id,
        contact.id,
        idempotency_key=f"step:{name}:{locale}",
        transport=transport,
        config=config,
        extra=extra,
    )
    assert message.status == MessageStatus.SENT.value, message.last_error
    assert behaviour.received[-1].rcpt_tos == [contact.email]
