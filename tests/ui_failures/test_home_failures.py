"""The home page says how many messages failed and links to them in the Outbox."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from tests.factories import make_contact, make_user
from tests.ui.helpers import HTML, Client, login
from tests.ui_failures.helpers import failed_message


def test_home_counts_failed_sends_and_links_to_the_outbox(client: Client, db: Session) -> None:
    contact = make_contact(db)
    for n in range(3):
        failed_message(db, contact_id=contact.id, template_id=None, key=f"failed-{n}")
    user = make_user(db)
    db.commit()
    login(client, user)

    page = client.get("/", headers=HTML).text
    alert = re.search(
        r'<div class="alert alert-error" role="alert" id="failed-sends">(.*?)</div>', page, re.S
    )
    assert alert
    assert "3 messages could not be sent." in alert.group(1)
    assert 'href="/outbox?status=failed"' in alert.group(1)


def test_home_says_nothing_when_nothing_failed(client: Client, db: Session) -> None:
    user = make_user(db)
    db.commit()
    login(client, user)
    assert 'id="failed-sends"' not in client.get("/", headers=HTML).text
