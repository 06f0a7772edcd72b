"""Preferences and unsubscribing behind a signed token, and their effect on sending."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.delivery.capture import CaptureTransport
from campaigns.email import preferences
from campaigns.email.mailconfig import MailConfig
from campaigns.email.pipeline import send_test, send_to_contact
from nurture.contacts import is_suppressed
from nurture.errors import InvalidInput, NotFound
from nurture.models import CapturedEmail, Event, MessageStatus
from templates.message import Address
from templates.tokens import TokenError, TokenSigner
from tests.email.conftest import make_template
from tests.factories import make_contact


def token_of(db: Session, db_url: str, config: MailConfig, key: str, contact_id: int) -> str:
    template_id = make_template(db, name=f"T {key}")
    message = send_to_contact(
        db,
        template_id,
        contact_id,
        idempotency_key=key,
        transport=CaptureTransport(db_url),
        config=config,
    )
    raw = db.scalar(select(CapturedEmail.raw).where(CapturedEmail.message_id == message.id))
    assert raw is not None
    header = next(line for line in raw.split(b"\r\n") if line.startswith(b"List-Unsubscribe:"))
    return header.decode().split("/u/", 1)[1].rstrip(">")


def test_one_click_unsubscribe_is_idempotent_and_stops_marketing_mail(
    db: Session, db_url: str, mail_config: MailConfig
) -> None:
    contact = make_contact(db, email="leaving@client.example")
    token = token_of(db, db_url, mail_config, "first", contact.id)

    assert preferences.unsubscribe_all(db, token, secret=mail_config.secret, source="one-click")
    assert not preferences.unsubscribe_all(db, token, secret=mail_config.secret, source="one-click")
    db.commit()

    assert is_suppressed(db, "leaving@client.example")
    view = preferences.preferences(db, token, secret=mail_config.secret)
    assert view.unsubscribed_all
    assert view.email_masked == "l***@client.example"
    later = send_to_contact(
        db,
        make_template(db, name="Later"),
        contact.id,
        idempotency_key="later",
        transport=CaptureTransport(db_url),
        config=mail_config,
    )
    assert later.status == MessageStatus.SUPPRESSED.value
    unsubscribed = db.scalars(select(Event).where(Event.type == "email.unsubscribed")).all()
    assert len(unsubscribed) == 1

    assert preferences.resubscribe(db, token, secret=mail_config.secret)
    assert not is_suppressed(db, "leaving@client.example")


def test_topic_opt_out_skips_only_that_topic(
    db: Session, db_url: str, mail_config: MailConfig
) -> None:
    contact = make_contact(db)
    token = token_of(db, db_url, mail_config, "t", contact.id)
    keep = {"case_studies", "webinars", "feedback", "product_updates"}
    view = preferences.update_topics(db, token, subscribed=keep, secret=mail_config.secret)
    db.commit()
    assert {t.slug for t in view.topics if not t.subscribed} == {"newsletters"}

    transport = CaptureTransport(db_url)
    newsletter = send_to_contact(
        db,
        make_template(db, name="News", topic="newsletters"),
        contact.id,
        idempotency_key="n",
        transport=transport,
        config=mail_config,
    )
    webinar = send_to_contact(
        db,
        make_template(db, name="Webinar", topic="webinars"),
        contact.id,
        idempotency_key="w",
        transport=transport,
        config=mail_config,
    )
    assert newsletter.status == MessageStatus.SUPPRESSED.value
    assert "newsletters" in (newsletter.last_error or "")
    assert webinar.status == MessageStatus.SENT.value

    with pytest.raises(InvalidInput, match="topic"):
        preferences.update_topics(db, token, subscribed={"gossip"}, secret=mail_config.secret)


def test_tampered_or_foreign_tokens_are_refused(
    db: Session, db_url: str, mail_config: MailConfig
) -> None:
    contact = make_contact(db)
    token = token_of(db, db_url, mail_config, "x", contact.id)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    with pytest.raises(TokenError):
        preferences.unsubscribe_all(db, forged, secret=mail_config.secret)
    foreign = TokenSigner("another-secret-" + "y" * 40).unsubscribe(contact.id)
    with pytest.raises(TokenError):
        preferences.preferences(db, foreign, secret=mail_config.secret)
    click = TokenSigner(mail_config.secret).click(1, 0)
    with pytest.raises(TokenError):
        preferences.unsubscribe_all(db, click, secret=mail_config.secret)
    assert not is_suppressed(db, contact.email or "")


def test_a_test_send_carries_an_unsubscribe_link_that_names_no_contact(
    db: Session, db_url: str, mail_config: MailConfig
) -> None:
    contact = make_contact(db, first_name="Ada")
    message = send_test(
        db,
        make_template(db),
        contact.id,
        to=Address("me@firm.example"),
        idempotency_key="test-1",
        transport=CaptureTransport(db_url),
        config=mail_config,
    ).message
    raw = db.scalar(select(CapturedEmail.raw).where(CapturedEmail.message_id == message.id))
    assert raw is not None
    assert b"To: me@firm.example" in raw
    assert b"Subject: Your guide, Ada" in raw
    header = next(line for line in raw.split(b"\r\n") if line.startswith(b"List-Unsubscribe:"))
    token = header.decode().split("/u/", 1)[1].rstrip(">")
    with pytest.raises(NotFound):
        preferences.unsubscribe_all(db, token, secret=mail_config.secret)
    assert not is_suppressed(db, contact.email or "")
    assert db.scalars(select(Event.type).where(Event.contact_id == contact.id)).all() == []
