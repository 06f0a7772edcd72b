"""Builders for content-step and webinar tests: library items, templates, an SMTP mailer."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from campaigns.content import library
from campaigns.content.kinds import CASE_STUDIES, SERVICES, WEBINARS
from campaigns.delivery.smtp import SmtpPool
from campaigns.delivery.smtp_url import parse_smtp_url
from campaigns.email.mailconfig import MailConfig
from campaigns.email.store import VariantInput, create_template
from campaigns.sequences.engine import Mailer
from nurture.config import Settings
from nurture.models import CaseStudy, Service, Webinar
from templates.message import Address
from tests.email.smtpd import Behaviour, smtp_server

CASE_STUDY_BODY = """<mjml><mj-body><mj-section><mj-column>
<mj-text>Hi {{ contact.first_name }}: {{ case_study.title }} ({{ case_study.industry }})</mj-text>
<mj-text>Result: {{ case_study.result }}.</mj-text>
<mj-text>"{{ case_study.quote }}" {{ case_study.quote_author }}</mj-text>
<mj-button href="https://example.net/stories">Read it</mj-button>
<mj-text><a href="{{ unsubscribe_url }}">Unsubscribe</a></mj-text>
</mj-column></mj-section></mj-body></mjml>
"""
INVITE_BODY = """<mjml><mj-body><mj-section><mj-column>
<mj-text>{{ webinar.title }} on {{ webinar.date_local }}, {{ webinar.time_local }}</mj-text>
<mj-text>({{ webinar.time_zone }})</mj-text>
<mj-button href="{{ webinar.register_url }}">Save my seat</mj-button>
<mj-text><a href="{{ unsubscribe_url }}">Unsubscribe</a></mj-text>
</mj-column></mj-section></mj-body></mjml>
"""


def story_template(db: Session) -> int:
    template = create_template(
        db,
        name="Story",
        topic="case_studies",
        tracking=False,
        actor="test",
        variants={"en": VariantInput("Story: {{ case_study.title }}", CASE_STUDY_BODY, "")},
        sample_context={"en": {"contact": {"first_name": "A"}, "case_study": _SAMPLE_STORY}},
    )
    db.commit()
    return template.id


def invite_template(db: Session, *, tracking: bool = False) -> int:
    template = create_template(
        db,
        name="Invite",
        topic="webinars",
        tracking=tracking,
        actor="test",
        variants={"en": VariantInput("Join us: {{ webinar.title }}", INVITE_BODY, "")},
        sample_context={"en": {"webinar": _SAMPLE_WEBINAR}},
    )
    db.commit()
    return template.id


def make_service(db: Session, slug: str) -> Service:
    return library.create(db, SERVICES, actor="test", data={"slug": slug, "name": slug.title()})


def make_story(db: Session, title: str, **fields: Any) -> CaseStudy:
    data: dict[str, Any] = {"title": title, "industry": "legal", "problem": "Slow reviews."}
    data.update(fields)
    story = library.create(db, CASE_STUDIES, actor="test", data=data)
    db.commit()
    return story


def make_webinar(db: Session, title: str, starts_at: datetime, **fields: Any) -> Webinar:
    data: dict[str, Any] = {"title": title, "topic": "compliance", "starts_at": starts_at}
    data.update(fields)
    webinar = library.create(db, WEBINARS, actor="test", data=data)
    db.commit()
    return webinar


def sink_config(settings: Settings) -> MailConfig:
    base = MailConfig.from_settings(settings)
    return MailConfig(
        base_url=base.base_url,
        secret=base.secret,
        sender=Address("news@firm.example", "Firm News"),
        brand=base.brand,
        message_id_domain="firm.example",
    )


@contextmanager
def sink_mailer(settings: Settings) -> Iterator[tuple[Mailer, Behaviour]]:
    """A mailer whose transport is a real SMTP server on loopback, and what it received."""
    with smtp_server() as (port, behaviour):
        pool = SmtpPool(parse_smtp_url(f"smtp://127.0.0.1:{port}"), size=1)
        try:
            yield Mailer(pool, sink_config(settings)), behaviour
        finally:
            pool.close()


_SAMPLE_STORY = {
    "title": "T",
    "industry": "legal",
    "result": "30% faster",
    "quote": "Q",
    "quote_author": "A",
}
_SAMPLE_WEBINAR = {
    "title": "W",
    "date_local": "Monday, 1 June 2026",
    "time_local": "10:00-11:00",
    "time_zone": "UTC",
    "register_url": "https://example.net/w/x",
}
