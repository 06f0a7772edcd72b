"""The contact timeline names the objects its events mention (segment, template,
message) and links to them, and a failed send shows its reason."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from nurture.events import ingest_raw
from segments.store import create_segment
from tests.email.conftest import make_template
from tests.factories import make_contact, make_user
from tests.ui.helpers import HTML, Client, login
from tests.ui_failures.helpers import RENDER_ERROR, failed_message


def _items(page: str) -> dict[str, str]:
    """Event type -> the markup of its timeline entry."""
    return dict(re.findall(r'<li class="tl-item" data-event-type="([^"]+)">(.*?)</li>', page, re.S))


def test_timeline_names_and_links_objects_instead_of_ids(client: Client, db: Session) -> None:
    contact = make_contact(db, email="ada@firm.example")
    segment = create_segment(db, name="Lawyers in Berlin", kind="static")
    template_id = make_template(db, name="NPS survey")
    message = failed_message(db, contact_id=contact.id, template_id=template_id)
    when = datetime.now(UTC) - timedelta(hours=1)
    ingest_raw(
        db,
        [
            {
                "type": "segment.entered",
                "contact_id": contact.id,
                "occurred_at": when.isoformat(),
                "properties": {"segment_id": segment.id},
            },
            {
                "type": "email.failed",
                "contact_id": contact.id,
                "occurred_at": (when + timedelta(minutes=1)).isoformat(),
                "properties": {
                    "message_id": message.id,
                    "template_id": template_id,
                    "error": RENDER_ERROR,
                },
            },
            {
                "type": "sequence.enrolled",
                "contact_id": contact.id,
                "occurred_at": (when + timedelta(minutes=2)).isoformat(),
                "properties": {"sequence_id": 987654},
            },
        ],
        source="test",
    )
    user = make_user(db)
    db.commit()
    login(client, user)

    items = _items(client.get(f"/contacts/{contact.id}", headers=HTML).text)

    entered = items["segment.entered"]
    assert (
        f'<dt>Segment</dt><dd><a href="/segments/{segment.id}">Lawyers in Berlin</a></dd>'
        in entered
    )
    failed = items["email.failed"]
    assert "E-mail not sent" in failed
    assert "<dt>Reason</dt><dd>body, line 39: &#39;project&#39; is undefined</dd>" in failed
    assert f'<dt>Template</dt><dd><a href="/content/{template_id}">NPS survey</a></dd>' in failed
    assert f'<dt>Message</dt><dd><a href="/outbox/messages/{message.id}">' in failed
    assert "<dt>Sequence</dt><dd>(deleted)</dd>" in items["sequence.enrolled"]
    for item in items.values():
        assert not re.search(r"<dt>\w+ id</dt>", item), item
