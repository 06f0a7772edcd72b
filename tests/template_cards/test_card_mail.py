"""A webinar card in an ordinary e-mail: each reader reads the date in their own zone and
language, and the button registers that reader on the public page, no login."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest
from litestar.testing import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.content.card_picks import card_block
from campaigns.delivery.smtp import SmtpPool
from campaigns.delivery.smtp_url import parse_smtp_url
from campaigns.email.pipeline import send_to_contact
from campaigns.email.store import VariantInput, create_template
from nurture.config import Settings
from nurture.models import WebinarRegistration, utcnow
from nurture.web.app import create_app
from templates.blocks import Document, new_document, write
from templates.context import contact_view
from templates.render import compile_template
from tests.email.smtpd import Behaviour, smtp_server
from tests.factories import make_contact
from tests.ui.helpers import HTML
from tests.webinars.helpers import make_story, make_webinar, sink_config

BRAND = {
    "name": "Firm",
    "color": "#2453d4",
    "logo_url": "https://firm.example/logo.png",
    "address": "1 Firm Street",
    "font_family": "Arial",
    "font_url": "",
}
REP = {"name": "Daniel Reed", "email": "daniel@firm.example", "title": "", "phone": ""}


@pytest.fixture
def relay(settings: Settings) -> Iterator[tuple[Settings, int, Behaviour]]:
    with smtp_server() as (port, behaviour):
        yield replace(settings, smtp_url=f"smtp://127.0.0.1:{port}"), port, behaviour


def part(message: EmailMessage, subtype: str) -> str:
    body = message.get_body((subtype,))
    assert body is not None
    return str(body.get_content())


def card_template(db: Session, story_id: int, webinar_id: int) -> int:
    variants = {}
    for locale, subject in (("en", "Join us"), ("ru", "Приглашаем")):
        blank = new_document(locale, "marketing")
        cards = (
            card_block(db, "case_study", story_id, locale),
            card_block(db, "webinar", webinar_id, locale),
        )
        body = write(
            Document(blank.head, (*blank.blocks[:3], *cards, *blank.blocks[3:]), blank.tail)
        )
        variants[locale] = VariantInput(subject, body, "")
    template = create_template(
        db, name="Cards", topic="webinars", tracking=False, actor="test", variants=variants
    )
    db.commit()
    return template.id


def test_each_reader_gets_their_zone_their_language_and_their_own_registration(
    db: Session, relay: tuple[Settings, int, Behaviour]
) -> None:
    settings, port, behaviour = relay
    starts = (utcnow() + timedelta(days=5)).replace(hour=15, minute=0, second=0, microsecond=0)
    webinar = make_webinar(db, "Compliance clinic", starts, duration_minutes=60, capacity=10)
    story = make_story(db, "Contract review in half the time", link="https://firm.example/s")
    template_id = card_template(db, story.id, webinar.id)
    tokyo = make_contact(db, first_name="Kenji", time_zone="Asia/Tokyo", locale="ru")
    new_york = make_contact(db, first_name="Ada", time_zone="America/New_York", locale="en")
    db.commit()

    pool = SmtpPool(parse_smtp_url(f"smtp://127.0.0.1:{port}"), size=1)
    try:
        for contact in (tokyo, new_york):
            send_to_contact(
                db,
                template_id,
                contact.id,
                idempotency_key=f"cards:{contact.id}",
                transport=pool,
                config=sink_config(settings),
            )
        db.commit()
    finally:
        pool.close()

    mails = {r.rcpt_tos[0]: r.parsed() for r in behaviour.received}
    ru = part(mails[str(tokyo.email)], "plain")
    en = part(mails[str(new_york.email)], "plain")
    in_tokyo = starts.astimezone(ZoneInfo("Asia/Tokyo"))
    in_new_york = starts.astimezone(ZoneInfo("America/New_York"))
    assert f"{in_tokyo:%H:%M}\u2013" in ru
    assert "по вашему времени, Asia/Tokyo, JST" in ru
    assert f"{in_new_york.day} {in_new_york:%B %Y}" in en
    assert f"{in_new_york:%H:%M}\u2013" in en
    assert "(your time, America/New_York, E" in en
    assert "Contract review in half the time" in ru

    html = part(mails[str(tokyo.email)], "html")
    (link,) = set(re.findall(r'href="https?://[^"/]+(/w/[^"]+)"', html))
    # Internal mail (no unsubscribe link) is rendered without a contact.
    blank = new_document("en", "internal")
    only_card = Document(blank.head, (card_block(db, "webinar", webinar.id, "en"),), blank.tail)
    sample = compile_template("Hi", "", write(only_card), tracking=False)
    nobody = sample.render(
        {"brand": BRAND, "rep": REP, "contact": contact_view(email="x@example.com")},
        message_id=1,
        base_url=settings.base_url,
        secret=settings.secret_key,
    )
    (nobodys_link,) = set(re.findall(r'href="https?://[^"/]+(/w/[^"]+)"', nobody.html))
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        page = client.get(link, headers=HTML)
        registered = client.post(link, headers=HTML, follow_redirects=False)
        leads_nowhere = client.get(nobodys_link, headers=HTML)

    assert page.status_code == 200
    assert "Compliance clinic" in page.text
    assert "Register as Kenji" in page.text
    assert registered.status_code == 303
    assert leads_nowhere.status_code == 404
    rows = db.scalars(select(WebinarRegistration)).all()
    assert [(r.contact_id, r.webinar_id) for r in rows] == [(tokyo.id, webinar.id)]
