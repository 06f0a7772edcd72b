"""Fixtures for the web side of e-mail: the app sending through a real SMTP server on
loopback (aiosmtpd), API keys, a template and a contact."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from litestar import Litestar
from sqlalchemy.orm import Session

from campaigns.delivery.factory import close_all
from campaigns.email.store import VariantInput, create_template
from nurture.config import Settings
from nurture.models import Contact
from nurture.web.public.state import tracking_of
from tests.email.smtpd import Behaviour, smtp_server
from tests.factories import make_api_key, make_contact

Headers = dict[str, str]
SES_TOPIC = "arn:aws:sns:us-east-1:123456789012:ses-notices"
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
BODY_RU = BODY.replace("Hello", "Здравствуйте")


@pytest.fixture
def smtp() -> Iterator[tuple[int, Behaviour]]:
    with smtp_server() as server:
        yield server
    close_all()


@pytest.fixture(scope="session")
def sendgrid_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def settings(
    db_url: str,
    tmp_path: Path,
    smtp: tuple[int, Behaviour],
    sendgrid_key: ec.EllipticCurvePrivateKey,
) -> Settings:
    public = sendgrid_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return Settings(
        data_dir=tmp_path,
        database_url=db_url,
        secret_key="test-secret-" + "x" * 40,
        embedded_worker_threads=2,
        smtp_url=f"smtp://127.0.0.1:{smtp[0]}",
        mail_from="news@firm.example",
        mail_from_name="Firm News",
        sendgrid_public_key=base64.b64encode(public).decode(),
        ses_topic_arns=(SES_TOPIC,),
    )


@pytest.fixture
def behaviour(smtp: tuple[int, Behaviour]) -> Behaviour:
    return smtp[1]


@pytest.fixture
def headers_for(db: Session) -> Callable[[str], Headers]:
    """Authorization headers for a new API key of a role (committed, so the app sees it)."""

    def make(role: str) -> Headers:
        _, secret = make_api_key(db, role=role)
        db.commit()
        return {"Authorization": f"Bearer {secret}"}

    return make


@pytest.fixture
def headers(headers_for: Callable[[str], Headers]) -> Headers:
    return headers_for("marketer")


@pytest.fixture
def template_id(db: Session) -> int:
    template = create_template(
        db,
        name="Guide",
        topic="newsletters",
        actor="test",
        variants={
            "en": VariantInput("Your guide, {{ contact.first_name }}", BODY, "A short read"),
            "ru": VariantInput("Ваше руководство, {{ contact.first_name }}", BODY_RU, "Кратко"),
        },
    )
    db.commit()
    return template.id


@pytest.fixture
def contact(db: Session) -> Contact:
    person = make_contact(db, first_name="Ada", email="ada@client.example")
    db.commit()
    return person


def wait_for_events(app: Litestar) -> None:
    """Block until the tracking recorder has written everything recorded so far."""
    assert tracking_of(app).recorder.wait_idle(10), "tracking events were not written in time"
