"""The Outbox: with no SMTP relay configured, sent mail is captured and shown whole."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from html import unescape

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.orm import Session

from nurture.config import Settings
from nurture.models import Contact
from nurture.web.app import create_app
from tests.factories import make_user
from tests.ui.helpers import HTML, login
from tests.web_email.conftest import Headers

Client = TestClient[Litestar]


@pytest.fixture
def capture_client(settings: Settings) -> Iterator[Client]:
    with TestClient(create_app(replace(settings, smtp_url=None))) as client:
        yield client


def test_outbox_lists_captured_mail_and_shows_html_text_and_headers(
    capture_client: Client, db: Session, template_id: int, contact: Contact, headers: Headers
) -> None:
    sent = capture_client.post(
        f"/api/v1/templates/{template_id}/send", json={"contact_id": contact.id}, headers=headers
    )
    assert sent.json()["status"] == "sent"
    user = make_user(db, role="sales")
    db.commit()
    login(capture_client, user)

    listing = capture_client.get("/outbox", headers=HTML)
    assert listing.status_code == 200
    assert "ada@client.example" in listing.text
    assert "Your guide, Ada" in listing.text
    link = re.search(r'href="(/outbox/\d+)"', listing.text)
    assert link is not None

    shown = capture_client.get(link.group(1), headers=HTML)
    assert shown.status_code == 200
    srcdoc = re.search(r'srcdoc="([^"]*)"', shown.text)
    assert srcdoc is not None
    assert "Hello Ada," in unescape(srcdoc.group(1))
    assert 'sandbox=""' in shown.text
    assert "List-Unsubscribe-Post" in shown.text
    assert "Message-ID" in shown.text or "Message-Id" in shown.text
    assert "Hello Ada," in shown.text.split("Plain text", 1)[1]
    assert capture_client.get("/outbox/999999", headers=HTML).status_code == 404


def test_outbox_needs_a_login(capture_client: Client) -> None:
    answer = capture_client.get("/outbox", headers=HTML, follow_redirects=False)
    assert answer.status_code in (302, 303)
    assert "/login" in answer.headers["location"]
