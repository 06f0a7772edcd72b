"""What the block editor's case-study and webinar cards can pick, and what a pick fills in.

`card_choices` lists what can be picked now: case studies already published (newest
first) and webinars still to come with a free seat (soonest first), labelled in plain
words. `card_fields` copies one item's words into the card's fields
(templates.blocks.cards) for one language.

The words are copied at pick time, not looked up at send time: a later edit of the
library does not change an e-mail already written (or sent) without the marketer
seeing it; picking the item again in the editor copies the new words. Only the
webinar's start and end stay instants, which each reader sees in their own time zone.

Copied text goes into MJML that is also a Jinja template, so it is HTML-escaped and
its braces written as entities: a title like "{{ x }}" shows as typed and runs nothing.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from nurture.errors import InvalidInput, NotFound
from nurture.models import CaseStudy, Webinar, utcnow
from templates.blocks import Block
from templates.instants import local_words

CARD_KINDS = ("case_study", "webinar")
# Enough of a story's problem to make a reader curious; the link tells the rest.
SUMMARY_CHARS = 240
# More than a library offers at once; the picker is a list, not a search.
MAX_CHOICES = 200

_WORDS = {
    "en": {
        "case_study_eyebrow": "Case study",
        "case_study_button": "Read the case study",
        "webinar_eyebrow": "Live webinar",
        "webinar_button": "Register for free",
    },
    "ru": {
        "case_study_eyebrow": "Кейс",
        "case_study_button": "Читать кейс",
        "webinar_eyebrow": "Вебинар",
        "webinar_button": "Зарегистрироваться бесплатно",
    },
}


def card_choices(
    session: Session, kind: str, *, now: datetime | None = None
) -> list[tuple[int, str]]:
    """(id, label) of every item a `kind` card can pick at `now` (default: now)."""
    moment = now or utcnow()
    if kind == "case_study":
        stories = session.scalars(
            select(CaseStudy)
            .where(CaseStudy.published_at <= moment)
            .order_by(CaseStudy.published_at.desc(), CaseStudy.id.desc())
            .limit(MAX_CHOICES)
        ).unique()
        return [(story.id, _story_label(story)) for story in stories]
    if kind == "webinar":
        webinars = session.scalars(
            select(Webinar)
            .where(
                Webinar.starts_at > moment,
                or_(Webinar.capacity.is_(None), Webinar.seats_taken < Webinar.capacity),
            )
            .order_by(Webinar.starts_at, Webinar.id)
            .limit(MAX_CHOICES)
        )
        return [(webinar.id, _webinar_label(webinar)) for webinar in webinars]
    raise _unknown_kind(kind)


def card_fields(session: Session, kind: str, item_id: int, locale: str) -> dict[str, str]:
    """The card's field values for item `item_id`, its fixed words in `locale` (en, ru).

    NotFound when the item is gone. Any item can be filled in, even one no longer in
    `card_choices` (a card re-filled after its webinar filled up keeps working)."""
    lang = "ru" if locale.lower().startswith("ru") else "en"
    words = _WORDS[lang]
    if kind == "case_study":
        story = session.get(CaseStudy, item_id)
        if story is None:
            raise NotFound("case study", item_id)
        metrics = story.result_metrics or []
        first = metrics[0] if metrics else None
        return {
            "ref": str(story.id),
            "eyebrow": words["case_study_eyebrow"],
            "title": _text(story.title),
            "client": _text(story.client_name or ""),
            "industry": _text(story.industry),
            "summary": _text(_shortened(story.problem)),
            "result": _text(f"{first['value']} {first['label']}") if first else "",
            "link": _text(story.link or ""),
            "label": words["case_study_button"],
        }
    if kind == "webinar":
        webinar = session.get(Webinar, item_id)
        if webinar is None:
            raise NotFound("webinar", item_id)
        start = _utc(webinar.starts_at)
        end = start + timedelta(minutes=webinar.duration_minutes)
        return {
            "ref": str(webinar.id),
            "locale": lang,
            "eyebrow": words["webinar_eyebrow"],
            "title": _text(webinar.title),
            "summary": _text(_shortened(webinar.description or "")),
            "starts_at": start.isoformat(),
            "ends_at": end.isoformat(),
            "label": words["webinar_button"],
        }
    raise _unknown_kind(kind)


def card_block(session: Session, kind: str, item_id: int, locale: str) -> Block:
    """A card of `kind` filled from item `item_id`: what the editor puts in place of a card
    when she picks (or picks again) in it. NotFound when the item is gone."""
    return Block.make(kind, **card_fields(session, kind, item_id, locale))


def _story_label(story: CaseStudy) -> str:
    client = f" ({story.client_name})" if story.client_name else ""
    return f"{story.title}{client}, {story.industry}"


def _webinar_label(webinar: Webinar) -> str:
    # The marketer picks by date; she reads it in UTC, and the reader in their own zone.
    when = local_words(webinar.starts_at, part="date", locale="en")
    return f"{webinar.title}, {when} {_utc(webinar.starts_at):%H:%M} UTC"


def _text(value: str) -> str:
    return html.escape(value, quote=True).replace("{", "&#123;").replace("}", "&#125;")


def _shortened(text: str) -> str:
    flat = " ".join(text.split())
    if len(flat) <= SUMMARY_CHARS:
        return flat
    cut = flat[:SUMMARY_CHARS].rsplit(" ", 1)[0].rstrip(",;:.-")
    return f"{cut}\u2026"


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _unknown_kind(kind: str) -> InvalidInput:
    return InvalidInput.single("kind", f"cards are {' or '.join(CARD_KINDS)}, not {kind!r}")
