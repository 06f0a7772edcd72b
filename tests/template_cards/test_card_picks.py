"""What a card can pick from the content library, and what a pick copies into it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from campaigns.content import library
from campaigns.content.card_picks import card_block, card_choices, card_fields
from campaigns.content.kinds import CASE_STUDIES
from campaigns.email.store import VariantInput, create_template
from nurture.errors import InvalidInput, NotFound
from nurture.models import utcnow
from templates.blocks import Block, Document, new_document, read, write
from tests.webinars.helpers import make_story, make_webinar


def test_only_published_case_studies_can_be_picked_newest_first(db: Session) -> None:
    now = utcnow()
    old = make_story(db, "Old story", published_at=now - timedelta(days=30), client_name="Hale")
    new = make_story(db, "New story", published_at=now - timedelta(days=1))
    make_story(db, "Embargoed story", published_at=now + timedelta(days=2))

    assert card_choices(db, "case_study", now=now) == [
        (new.id, "New story, legal"),
        (old.id, "Old story (Hale), legal"),
    ]


def test_only_upcoming_webinars_with_a_free_seat_can_be_picked_soonest_first(db: Session) -> None:
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    later = make_webinar(db, "Later", now + timedelta(days=9))
    sooner = make_webinar(db, "Sooner", now + timedelta(days=2), capacity=5)
    make_webinar(db, "Over", now - timedelta(hours=1))
    full = make_webinar(db, "Full", now + timedelta(days=3), capacity=1)
    full.seats_taken = 1
    db.commit()

    assert card_choices(db, "webinar", now=now) == [
        (sooner.id, "Sooner, Thursday, 3 December 2026 09:00 UTC"),
        (later.id, "Later, Thursday, 10 December 2026 09:00 UTC"),
    ]


def test_an_unknown_kind_of_card_is_refused_by_name(db: Session) -> None:
    with pytest.raises(InvalidInput, match="article"):
        card_choices(db, "article")


@pytest.mark.parametrize("locale", ["en", "ru"])
def test_a_picked_case_study_fills_the_card_and_reads_back_as_it(db: Session, locale: str) -> None:
    story = make_story(
        db,
        "Contract review <in half> the time",
        client_name="Hale & Partners",
        problem="Reviews took two weeks. " * 20,
        result_metrics=[{"label": "faster reviews", "value": "48%"}],
        link="https://firm.example/stories/hale",
    )

    card = card_block(db, "case_study", story.id, locale)

    assert card.get("ref") == str(story.id)
    assert card.get("title") == "Contract review &lt;in half&gt; the time"
    assert card.get("client") == "Hale &amp; Partners"
    assert card.get("result") == "48% faster reviews"
    assert card.get("link") == "https://firm.example/stories/hale"
    assert card.get("label") == ("Read the case study" if locale == "en" else "Читать кейс")
    assert len(card.get("summary")) <= 241
    assert card.get("summary").endswith("\u2026")
    blank = new_document(locale, "marketing")
    doc = Document(blank.head, (*blank.blocks, card), blank.tail)
    assert read(write(doc)) == doc


@pytest.mark.parametrize("locale", ["en", "ru"])
def test_a_picked_webinar_keeps_its_instants_in_utc_and_its_words_in_the_language(
    db: Session, locale: str
) -> None:
    webinar = make_webinar(
        db,
        "Compliance clinic",
        datetime(2026, 12, 10, 15, 0, tzinfo=UTC),
        duration_minutes=90,
        description="An hour on the new rules.",
    )

    fields = card_fields(db, "webinar", webinar.id, locale)

    assert fields["ref"] == str(webinar.id)
    assert fields["locale"] == locale
    assert fields["starts_at"] == "2026-12-10T15:00:00+00:00"
    assert fields["ends_at"] == "2026-12-10T16:30:00+00:00"
    assert fields["label"] == (
        "Register for free" if locale == "en" else "Зарегистрироваться бесплатно"
    )


def test_library_text_that_looks_like_jinja_is_copied_inert(db: Session) -> None:
    story = make_story(db, "Growth {{ contact.email }} {% if 1 %}x{% endif %}")

    fields = card_fields(db, "case_study", story.id, "en")

    assert "{" not in fields["title"]
    assert fields["title"] == (
        "Growth &#123;&#123; contact.email &#125;&#125; &#123;% if 1 %&#125;x&#123;% endif %&#125;"
    )


def test_a_later_library_edit_changes_a_card_only_when_picked_again(db: Session) -> None:
    story = make_story(db, "First title", link="https://firm.example/a")
    card = card_block(db, "case_study", story.id, "en")
    blank = new_document("en", "marketing")
    sent = write(Document(blank.head, (card,), blank.tail))

    library.update(db, CASE_STUDIES, story.id, actor="test", data={"title": "Second title"})
    db.commit()

    assert "First title" in sent
    assert read(sent).blocks[0].get("title") == "First title"
    refilled = card_block(db, "case_study", int(read(sent).blocks[0].get("ref")), "en")
    assert refilled.get("title") == "Second title"


def test_a_deleted_item_cannot_fill_a_card(db: Session) -> None:
    with pytest.raises(NotFound):
        card_fields(db, "webinar", 999_999, "en")


def test_a_webinar_card_with_nothing_picked_cannot_be_saved(db: Session) -> None:
    blank = new_document("en", "marketing")
    body = write(Document(blank.head, (*blank.blocks, Block.make("webinar")), blank.tail))

    with pytest.raises(InvalidInput) as refused:
        create_template(
            db, name="Unpicked", actor="test", variants={"en": VariantInput("Hi", body, "")}
        )

    assert "no date and time is given (is a webinar picked?)" in str(refused.value.problems)
