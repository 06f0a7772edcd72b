"""The Outbox lists failed (and bounced, deferred...) messages with their reason, not only
what the capture mailbox kept."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from nurture.models import MessageStatus
from tests.email.conftest import make_template
from tests.factories import make_contact, make_user
from tests.ui.helpers import HTML, Client, login
from tests.ui_failures.helpers import RENDER_ERROR, failed_message


def _signed_in(client: Client, db: Session) -> None:
    user = make_user(db)
    db.commit()
    login(client, user)


def test_failed_messages_are_listed_with_their_reason(client: Client, db: Session) -> None:
    contact = make_contact(db, email="ada@firm.example")
    template_id = make_template(db, name="NPS survey")
    failed = failed_message(db, contact_id=contact.id, template_id=template_id)
    failed_message(
        db, contact_id=contact.id, template_id=template_id, key="bounced",
        status=MessageStatus.BOUNCED.value, reason="550 no such user",
    )  # fmt: skip
    _signed_in(client, db)

    listed = client.get("/outbox?status=failed", headers=HTML)
    assert listed.status_code == 200
    rows = re.findall(r'<tr data-message="(\d+)">(.*?)</tr>', listed.text, re.S)
    assert [int(message_id) for message_id, _ in rows] == [failed.id]
    row = rows[0][1]
    assert "&#39;project&#39; is undefined" in row or RENDER_ERROR in row
    assert f'href="/content/{template_id}">NPS survey</a>' in row
    assert "550 no such user" not in listed.text


def test_the_default_outbox_shows_how_many_failed_and_links_to_them(
    client: Client, db: Session
) -> None:
    contact = make_contact(db)
    failed_message(db, contact_id=contact.id, template_id=None)
    failed_message(db, contact_id=contact.id, template_id=None, key="failed-2")
    _signed_in(client, db)

    text = client.get("/outbox", headers=HTML).text
    link = re.search(r'<a class="tab" href="/outbox\?status=failed"[^>]*>(.*?)</a>', text, re.S)
    assert link, "the filter offers the failed messages"
    assert re.search(r">2</span>", link.group(1))


def test_a_message_page_says_what_happened_and_why(client: Client, db: Session) -> None:
    contact = make_contact(db, email="ada@firm.example")
    template_id = make_template(db, name="NPS survey")
    failed = failed_message(db, contact_id=contact.id, template_id=template_id)
    _signed_in(client, db)

    page = client.get(f"/outbox/messages/{failed.id}", headers=HTML)
    assert page.status_code == 200
    facts = re.search(r'<dl class="facts" id="message-facts">(.*?)</dl>', page.text, re.S)
    assert facts
    assert ">Failed</span>" in facts.group(1)
    assert "is undefined" in facts.group(1)
    assert f'<a href="/contacts/{contact.id}">' in facts.group(1)
    assert client.get("/outbox/messages/999999", headers=HTML).status_code == 404
