"""Fixtures for the e-mail tests: an SMTP server on loopback, mail settings, a template."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from campaigns.email.mailconfig import MailConfig
from campaigns.email.store import VariantInput, create_template
from nurture.config import Settings
from templates.message import Address
from tests.email.smtpd import Behaviour, smtp_server

BODY = """<mjml>
  <mj-body>
    <mj-section>
      <mj-column>
        <mj-text>Hello {{ contact.first_name | default("there", true) }},</mj-text>
        <mj-text>Read <a href="https://example.net/guide?c=1">our guide</a>.</mj-text>
        <mj-button href="https://example.net/webinar">Join the webinar</mj-button>
        <mj-text><a href="{{ unsubscribe_url }}">Unsubscribe</a></mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>
"""
BODY_RU = BODY.replace("Hello", "Здравствуйте").replace("Read", "Читайте")


@pytest.fixture
def smtp() -> Iterator[tuple[int, Behaviour]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def mail_config(settings: Settings) -> MailConfig:
    base = MailConfig.from_settings(settings)
    return MailConfig(
        base_url=base.base_url,
        secret=base.secret,
        sender=Address("news@firm.example", "Firm News"),
        brand=base.brand,
        message_id_domain="firm.example",
    )


def make_template(
    db: Session, *, topic: str | None = "newsletters", tracking: bool = True, name: str = "Guide"
) -> int:
    template = create_template(
        db,
        name=name,
        topic=topic,
        tracking=tracking,
        actor="test",
        variants={
            "en": VariantInput("Your guide, {{ contact.first_name }}", BODY, "A short read"),
            "ru": VariantInput("Ваше руководство, {{ contact.first_name }}", BODY_RU, "Кратко"),
        },
    )
    db.commit()
    return template.id
