"""Both cards as blocks: they read back as the same blocks, and the sandbox shows the
webinar's date in each reader's own time zone and the card's language, with a button
that carries the reader's own registration link."""

from __future__ import annotations

import re
from typing import Any

import pytest

from templates.blocks import Block, Document, new_document, read, write
from templates.context import contact_view
from templates.render import RenderedEmail, compile_template, signer_for

SECRET = b"c" * 32
BASE = "https://mail.firm.example"
BRAND = {
    "name": "Brightline",
    "color": "#2453d4",
    "logo_url": "https://firm.example/logo.png",
    "address": "12 Finsbury Square, London",
    "font_family": "Arial, sans-serif",
    "font_url": "",
}
REP = {"name": "Daniel Reed", "email": "daniel@firm.example", "title": "Partner", "phone": ""}
# 15:00 UTC on a Thursday: 00:00 on Friday in Tokyo, 10:00 on Thursday in New York.
STARTS = "2026-12-10T15:00:00+00:00"
ENDS = "2026-12-10T16:30:00+00:00"


def story(**fields: str) -> Block:
    values = {
        "ref": "7",
        "eyebrow": "Case study",
        "title": "Contract review in half the time",
        "client": "Hale &amp; Partners",
        "industry": "legal",
        "summary": "Reviews took two weeks.",
        "result": "48% faster reviews",
        "link": "https://firm.example/stories/hale",
        "label": "Read the case study",
    }
    return Block.make("case_study", **(values | fields))


def webinar(locale: str, **fields: str) -> Block:
    values = {
        "ref": "12",
        "locale": locale,
        "eyebrow": "Live webinar" if locale == "en" else "Вебинар",
        "title": "Compliance clinic",
        "summary": "An hour on the new rules.",
        "starts_at": STARTS,
        "ends_at": ENDS,
        "label": "Register for free" if locale == "en" else "Зарегистрироваться",
    }
    return Block.make("webinar", **(values | fields))


def document(locale: str, *cards: Block) -> Document:
    blank = new_document(locale, "marketing")
    return Document(blank.head, (*blank.blocks[:3], *cards, *blank.blocks[3:]), blank.tail)


def render(
    mjml: str, *, time_zone: str | None, contact_id: int = 41, tracking: bool = False
) -> RenderedEmail:
    context: dict[str, Any] = {
        "contact": contact_view(
            email="reader@example.com", first_name="Kenji", time_zone=time_zone
        ),
        "rep": REP,
        "brand": BRAND,
    }
    compiled = compile_template("Hello", "", mjml, tracking=tracking)
    return compiled.render(
        context, message_id=5, base_url=BASE, secret=SECRET, contact_id=contact_id
    )


def registration_links(html: str) -> list[str]:
    return re.findall(rf'href="({re.escape(BASE)}/w/[^"]+)"', html)


@pytest.mark.parametrize("locale", ["en", "ru"])
def test_cards_read_back_as_the_same_blocks(locale: str) -> None:
    doc = document(
        locale, story(), webinar(locale), Block.make("case_study"), Block.make("webinar")
    )
    mjml = write(doc)

    assert read(mjml) == doc
    assert write(read(mjml)) == mjml
    assert [b.kind for b in read(mjml).blocks][3:7] == ["case_study", "webinar"] * 2


def test_the_picked_id_is_kept_in_the_marker_class() -> None:
    mjml = write(document("en", story(ref="7"), webinar("en", ref="12")))

    assert 'css-class="nb-case_study nb-ref-7 pad"' in mjml
    assert 'css-class="nb-webinar nb-ref-12 pad"' in mjml


def test_an_edited_card_that_its_writer_could_not_have_written_stays_raw() -> None:
    mjml = write(document("en", webinar("en")))
    edited = mjml.replace("local_time('time', 'en') }}\u2013", "local_time('time', 'en') }} to ")

    kinds = [b.kind for b in read(edited).blocks]

    assert "webinar" not in kinds
    assert "raw" in kinds
    assert write(read(edited)) == edited


@pytest.mark.parametrize(
    ("time_zone", "locale", "date", "time", "zone"),
    [
        ("Asia/Tokyo", "en", "Friday, 11 December 2026", "00:00\u201301:30", "Asia/Tokyo, JST"),
        ("Asia/Tokyo", "ru", "пятница, 11 декабря 2026", "00:00\u201301:30", "Asia/Tokyo, JST"),
        ("America/New_York", "en", "Thursday, 10 December 2026", "10:00\u201311:30", "EST"),
        ("America/New_York", "ru", "четверг, 10 декабря 2026", "10:00\u201311:30", "EST"),
    ],
)
def test_the_webinar_card_shows_the_date_in_the_readers_zone_and_language(
    time_zone: str, locale: str, date: str, time: str, zone: str
) -> None:
    mjml = write(document(locale, webinar(locale)))

    sent = render(mjml, time_zone=time_zone)

    assert date in sent.html
    assert date in sent.text
    assert time in sent.text
    assert zone in sent.text
    your_time = "your time" if locale == "en" else "по вашему времени"
    assert f"({your_time}, {time_zone}" in sent.text
    assert "Compliance clinic" in sent.text


def test_a_reader_without_a_known_zone_reads_utc_and_is_told_so() -> None:
    sent = render(write(document("en", webinar("en"))), time_zone=None)

    assert "Thursday, 10 December 2026" in sent.text
    assert "15:00\u201316:30 (your time, UTC)" in sent.text


@pytest.mark.parametrize("locale", ["en", "ru"])
def test_the_register_button_carries_the_readers_own_signed_link(locale: str) -> None:
    mjml = write(document(locale, webinar(locale, ref="12")))

    first = render(mjml, time_zone="Asia/Tokyo", contact_id=41)
    second = render(mjml, time_zone="Asia/Tokyo", contact_id=42)

    links = registration_links(first.html)
    assert len(links) == 1
    ref = signer_for(SECRET).verify_webinar(links[0].removeprefix(f"{BASE}/w/"))
    assert (ref.contact_id, ref.webinar_id) == (41, 12)
    assert registration_links(second.html) != links


@pytest.mark.parametrize("locale", ["en", "ru"])
def test_the_case_study_card_shows_what_was_copied_into_it(locale: str) -> None:
    sent = render(write(document(locale, story())), time_zone="Asia/Tokyo")

    assert "Contract review in half the time" in sent.text
    assert "Hale & Partners · legal" in sent.text
    assert "48% faster reviews" in sent.text
    assert 'href="https://firm.example/stories/hale"' in sent.html


def test_a_webinar_card_with_nothing_picked_says_so_when_rendered() -> None:
    compiled = compile_template("Hello", "", write(document("en", Block.make("webinar"))))

    problems = compiled.check(
        {"contact": contact_view(email="a@example.com"), "brand": BRAND, "rep": REP}
    )

    assert [(p.part, p.message) for p in problems] == [
        ("body", "ValueError: local_time: no date and time is given (is a webinar picked?)")
    ]


def test_with_tracking_the_click_goes_to_the_readers_own_registration_link() -> None:
    sent = render(write(document("en", webinar("en", ref="12"))), time_zone=None, tracking=True)

    targets = [link for link in sent.links if link.startswith(f"{BASE}/w/")]
    assert len(targets) == 1
    ref = signer_for(SECRET).verify_webinar(targets[0].removeprefix(f"{BASE}/w/"))
    assert (ref.contact_id, ref.webinar_id) == (41, 12)
    assert registration_links(sent.html) == []
