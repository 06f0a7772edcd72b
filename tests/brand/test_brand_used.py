"""The saved brand is stored and audited, and reaches every render: bulk and single sends
(one query per batch, not per recipient), previews, internal mail and public pages."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from campaigns.delivery.smtp import SmtpPool
from campaigns.delivery.smtp_url import parse_smtp_url
from campaigns.email import brand
from campaigns.email.mailconfig import MailConfig
from campaigns.email.pipeline import send_bulk, send_to_contact
from campaigns.email.recipients import contact_recipient, load_recipients
from campaigns.email.store import VariantInput, create_template
from nurture.errors import InvalidInput
from nurture.models import AuditEntry, Contact
from tests.email.smtpd import Behaviour
from tests.factories import make_contact

BRAND_BODY = """<mjml>
  <mj-body>
    <mj-section>
      <mj-column>
        <mj-text font-family="{{ brand.font_family }}">
          {{ brand.name }} · {{ brand.address }}
        </mj-text>
        <mj-button background-color="{{ brand.color }}" href="https://example.net/">Go</mj-button>
        <mj-image src="{{ brand.logo_url }}" alt="logo" />
        <mj-text><a href="{{ unsubscribe_url }}">Unsubscribe</a></mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>
"""
SAVED = {
    "name": "Keller Brandt",
    "color": "#1d4ed8",
    "logo_url": "https://cdn.keller.example/logo.png",
    "address": "Ring 1, Vienna",
    "font": "georgia",
}


@contextmanager
def brand_queries(db: Session) -> Iterator[list[str]]:
    """The statements that read the brand row, while the block runs."""
    seen: list[str] = []

    def listen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "brand_settings" in statement:
            seen.append(statement)

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listen)


def test_saving_stores_and_audits_what_changed(db: Session) -> None:
    brand.save(db, SAVED, actor="ada@firm.example", base_url="https://mail.firm.example")
    db.commit()
    brand.save(db, {**SAVED, "address": ""}, actor="ada@firm.example", base_url="https://x.example")
    db.commit()
    assert brand.stored(db) == brand.BrandForm(**{**SAVED, "address": ""})
    entries = db.scalars(
        select(AuditEntry).where(AuditEntry.action == "brand.saved").order_by(AuditEntry.id)
    ).all()
    assert [e.changes for e in entries] == [
        {name: ["", value] for name, value in SAVED.items()},
        {"address": ["Ring 1, Vienna", ""]},
    ]
    assert {e.actor for e in entries} == {"ada@firm.example"}


def test_a_refused_save_writes_nothing(db: Session) -> None:
    with pytest.raises(InvalidInput) as caught:
        brand.save(db, {**SAVED, "color": "#ffff00"}, actor="x", base_url="https://x.example")
    assert [p.field for p in caught.value.problems] == ["color"]
    db.rollback()
    assert brand.stored(db) == brand.BrandForm()
    assert db.scalar(select(AuditEntry.id).where(AuditEntry.action == "brand.saved")) is None


def test_a_batch_reads_the_brand_once_and_every_recipient_sees_it(
    db: Session, mail_config: MailConfig
) -> None:
    ids = [make_contact(db).id for _ in range(25)]
    brand.save(db, SAVED, actor="test", base_url=mail_config.base_url)
    db.commit()
    with brand_queries(db) as seen:
        found = load_recipients(db, ids, mail_config)
    assert len(seen) == 1
    assert len(found) == 25
    for recipient in found.values():
        assert recipient.context["brand"]["name"] == "Keller Brandt"
        assert recipient.context["brand"]["font_family"] == brand.FONTS["georgia"][1]
    single = contact_recipient(db.get_one(Contact, ids[0]), mail_config)
    assert single.context["brand"]["color"] == "#1d4ed8"
    # Unsaved fields keep the configured defaults.
    assert mail_config.brand["name"] != "Keller Brandt"


def test_sent_mail_carries_the_saved_brand(
    db: Session, smtp: tuple[int, Behaviour], mail_config: MailConfig
) -> None:
    port, server = smtp
    template = create_template(
        db,
        name="Branded",
        topic="newsletters",
        actor="test",
        variants={"en": VariantInput("News from {{ brand.name }}", BRAND_BODY)},
    )
    people = [make_contact(db).id for _ in range(3)]
    brand.save(db, SAVED, actor="test", base_url=mail_config.base_url)
    db.commit()
    transport = SmtpPool(parse_smtp_url(f"smtp://127.0.0.1:{port}"), size=2)
    with brand_queries(db) as seen:
        result = send_bulk(
            db,
            template.id,
            people,
            key_prefix="brand",
            transport=transport,
            config=mail_config,
            chunk_size=2,
        )
    send_to_contact(
        db, template.id, people[0], idempotency_key="one", transport=transport, config=mail_config
    )
    transport.close()
    assert result.counts == {"sent": 3}
    # Two chunks of recipients: two reads of the brand, not three.
    assert len(seen) == 2
    assert len(server.received) == 4
    for received in server.received:
        mail = received.parsed()
        assert mail["Subject"] == "News from Keller Brandt"
        html = mail.get_body(("html",))
        assert html is not None
        content = html.get_content()
        assert "Keller Brandt · Ring 1, Vienna" in content
        assert "#1d4ed8" in content
        assert "https://cdn.keller.example/logo.png" in content
        assert "Georgia, Times New Roman, Times, serif" in content
