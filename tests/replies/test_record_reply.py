"""Matching replies to what we sent, and what a reply does to the contact's sequences."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from campaigns.delivery.factory import transport_for
from campaigns.email.mailconfig import MailConfig
from campaigns.email.pipeline import send_test
from campaigns.email.replies import ReplyOutcome
from campaigns.email.reply_address import message_of_address, reply_address
from campaigns.sequences import control
from campaigns.sequences.engine import Mailer
from campaigns.sequences.replies import record_reply
from nurture.config import Settings
from nurture.events import EventInput, ingest
from nurture.models import EnrolmentState
from templates.message import Address
from tests.email.conftest import make_template
from tests.factories import make_contact
from tests.replies.helpers import (
    REPLY_DOMAIN,
    Sent,
    captured_raw,
    events_of,
    first_email_of,
    reply,
    sent_count,
)
from tests.sequences.helpers import drive, enrol, make_sequence, reload

LATER = timedelta(days=3, minutes=1)


def test_outgoing_sequence_mail_carries_a_signed_reply_address(
    sent: Sent, settings: Settings
) -> None:
    local, _, domain = sent.reply_to.partition("@")
    assert domain == REPLY_DOMAIN
    assert local.startswith("reply+")
    assert message_of_address(settings.secret_key, sent.reply_to, REPLY_DOMAIN) == sent.message_id
    # The display name stays the sender's, so the reply looks addressed to the firm.
    assert (
        sent.mime["Reply-To"].addresses[0].display_name
        == sent.mime["From"].addresses[0].display_name
    )


def test_a_reply_to_the_reply_address_stops_the_sequence_and_later_steps_send_nothing(
    db: Session, settings: Settings, sent: Sent, mailer: Mailer, now: datetime
) -> None:
    result = record_reply(
        db,
        reply(sent, threaded=False),
        now=now,
        secret=settings.secret_key,
        reply_domain=REPLY_DOMAIN,
    )
    db.commit()

    assert result.outcome is ReplyOutcome.MATCHED
    assert result.message_id == sent.message_id
    assert result.stopped_enrolments == 1
    enrolment = reload(db, sent.enrolment_id)
    assert enrolment.state == EnrolmentState.EXITED
    assert enrolment.exit_reason == "replied"
    assert enrolment.finished_at == now
    [event] = events_of(db, "email.replied")
    assert event.contact_id == sent.contact_id
    assert event.properties["message_id"] == sent.message_id
    assert event.properties["matched_by"] == "reply_address"
    assert event.properties["subject"].startswith("Re: Your guide")
    assert event.properties["enrolment_id"] == sent.enrolment_id

    drive(db, sent.enrolment_id, now + LATER, mailer)
    assert sent_count(db) == 1


def test_a_reply_is_matched_by_in_reply_to_when_it_went_to_the_sender(
    db: Session, settings: Settings, sent: Sent, now: datetime
) -> None:
    raw = reply(sent, to=str(sent.mime["From"]))

    result = record_reply(db, raw, now=now, secret=settings.secret_key, reply_domain=REPLY_DOMAIN)
    db.commit()

    assert result.outcome is ReplyOutcome.MATCHED
    assert result.message_id == sent.message_id
    assert events_of(db, "email.replied")[0].properties["matched_by"] == "in-reply-to"
    assert reload(db, sent.enrolment_id).exit_reason == "replied"


def test_references_find_the_answered_message_when_in_reply_to_is_missing(
    db: Session, settings: Settings, sent: Sent, now: datetime
) -> None:
    raw = reply(
        sent,
        to="someone@firm.example",
        threaded=False,
        references=["<older@elsewhere.example>", sent.message_id_header, "<x@client.example>"],
    )

    result = record_reply(db, raw, now=now, secret=settings.secret_key)
    db.commit()

    assert result.outcome is ReplyOutcome.MATCHED
    assert events_of(db, "email.replied")[0].properties["matched_by"] == "references"


def test_a_reply_address_whose_case_was_changed_still_matches(
    db: Session, settings: Settings, sent: Sent, now: datetime
) -> None:
    raw = reply(sent, to=sent.reply_to.upper(), threaded=False)

    result = record_reply(db, raw, now=now, secret=settings.secret_key, reply_domain=REPLY_DOMAIN)

    assert result.outcome is ReplyOutcome.MATCHED


def test_an_unknown_message_is_unmatched_and_changes_nothing(
    db: Session, settings: Settings, sent: Sent, now: datetime
) -> None:
    forged = reply_address("another-secret-" + "y" * 40, REPLY_DOMAIN, sent.message_id)
    raw = reply(sent, to=forged, threaded=False, references=["<never-sent@firm.example>"])

    result = record_reply(db, raw, now=now, secret=settings.secret_key, reply_domain=REPLY_DOMAIN)
    db.commit()

    assert result.outcome is ReplyOutcome.UNMATCHED
    assert result.detail
    assert reload(db, sent.enrolment_id).state == EnrolmentState.ACTIVE
    assert events_of(db, "email.replied") == []


@pytest.mark.parametrize(
    "raw",
    [b"", b"\x00\xff\xfe garbage", b"not an e-mail at all", b"From: \r\n\r\n"],
    ids=["empty", "binary", "text", "empty-from"],
)
def test_unreadable_mail_is_unmatched_without_an_error(
    db: Session, settings: Settings, sent: Sent, now: datetime, raw: bytes
) -> None:
    result = record_reply(db, raw, now=now, secret=settings.secret_key, reply_domain=REPLY_DOMAIN)

    assert result.outcome is ReplyOutcome.UNMATCHED
    assert reload(db, sent.enrolment_id).state == EnrolmentState.ACTIVE


def test_the_same_reply_delivered_twice_is_recorded_once(
    db: Session, settings: Settings, sent: Sent, now: datetime
) -> None:
    raw = reply(sent, threaded=False)
    first = record_reply(db, raw, now=now, secret=settings.secret_key, reply_domain=REPLY_DOMAIN)
    db.commit()
    # The second copy came another way: a relay added its own trace header.
    again = b"Received: from relay.example by mx.example; Thu, 1 Jan 2026 00:00:00 +0000\r\n" + raw

    second = record_reply(db, again, now=now + timedelta(minutes=5), secret=settings.secret_key)
    db.commit()

    assert first.outcome is ReplyOutcome.MATCHED
    assert second.outcome is ReplyOutcome.DUPLICATE
    assert second.stopped_enrolments == 0
    assert len(events_of(db, "email.replied")) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"Auto-Submitted": "auto-generated"},
        {"X-Autoreply": "yes"},
        {"Precedence": "bulk"},
        {"Precedence": "auto_reply"},
        {"Subject": "Out of Office: Your guide"},
        {"Subject": "Automatic reply: Your guide"},
        {"Subject": "Abwesenheitsnotiz: Ihr Leitfaden"},
        {"Return-Path": "<>"},
    ],
    ids=lambda headers: "-".join(f"{k}:{v}" for k, v in headers.items()),
)
def test_an_automatic_answer_does_not_stop_the_sequence(
    db: Session,
    settings: Settings,
    sent: Sent,
    mailer: Mailer,
    now: datetime,
    headers: dict[str, str],
) -> None:
    extra = dict(headers)  # the parameter is shared by the runs on both databases
    subject = extra.pop("Subject", None)
    raw = reply(sent, threaded=False, subject=subject, headers=extra)

    result = record_reply(db, raw, now=now, secret=settings.secret_key, reply_domain=REPLY_DOMAIN)
    db.commit()

    assert result.outcome is ReplyOutcome.AUTO_REPLY
    assert reload(db, sent.enrolment_id).state == EnrolmentState.ACTIVE
    assert events_of(db, "email.replied") == []
    [event] = events_of(db, "email.auto_replied")
    assert event.properties["message_id"] == sent.message_id
    drive(db, sent.enrolment_id, now + LATER, mailer)
    assert sent_count(db) == 2


def test_a_null_envelope_sender_marks_an_automatic_answer(
    db: Session, settings: Settings, sent: Sent, now: datetime
) -> None:
    result = record_reply(
        db,
        reply(sent, threaded=False),
        now=now,
        secret=settings.secret_key,
        reply_domain=REPLY_DOMAIN,
        envelope_sender="",
    )

    assert result.outcome is ReplyOutcome.AUTO_REPLY


def test_a_reply_stops_every_live_sequence_of_the_contact_but_no_one_elses(
    db: Session, settings: Settings, sent: Sent, mailer: Mailer, now: datetime
) -> None:
    template_id = make_template(db, name="Other")
    other = make_sequence(db, [{"key": "a", "type": "email", "template_id": template_id}])
    paused = enrol(db, other, sent.contact_id, now + LATER)
    control.pause_enrolment(db, paused)
    bystander = make_contact(db)
    untouched = enrol(db, other, bystander.id, now)
    db.commit()

    result = record_reply(
        db, reply(sent), now=now + LATER, secret=settings.secret_key, reply_domain=REPLY_DOMAIN
    )
    db.commit()

    assert result.stopped_enrolments == 2
    assert reload(db, paused).state == EnrolmentState.EXITED
    assert reload(db, paused).exit_reason == "replied"
    assert reload(db, untouched).state == EnrolmentState.ACTIVE


def test_a_reply_to_a_test_send_stops_nothing(
    db: Session, settings: Settings, sent: Sent, mailer: Mailer, now: datetime
) -> None:
    config = MailConfig.from_settings(settings)
    message = send_test(
        db,
        make_template(db, name="Preview"),
        sent.contact_id,
        to=Address("marketer@firm.example"),
        idempotency_key="test:reply",
        transport=mailer.transport,
        config=config,
    ).message
    db.commit()
    preview = dataclasses.replace(sent, message_id=message.id, raw=captured_raw(db, message.id))
    assert preview.mime["Reply-To"] is None

    result = record_reply(
        db, reply(preview), now=now, secret=settings.secret_key, reply_domain=REPLY_DOMAIN
    )

    assert result.outcome is ReplyOutcome.UNMATCHED
    assert reload(db, sent.enrolment_id).state == EnrolmentState.ACTIVE


def test_without_a_reply_domain_mail_has_no_reply_to_and_replies_match_by_thread(
    db: Session, settings: Settings, now: datetime
) -> None:
    plain = dataclasses.replace(settings, reply_domain=None)
    mailer = Mailer(transport_for(plain), MailConfig.from_settings(plain))
    template_id = make_template(db)
    sequence_id = make_sequence(db, [{"key": "a", "type": "email", "template_id": template_id}])
    contact = make_contact(db)
    enrolment_id = enrol(db, sequence_id, contact.id, now)
    drive(db, enrolment_id, now, mailer)
    sent = first_email_of(db, sequence_id, contact.id, enrolment_id)
    assert sent.mime["Reply-To"] is None

    result = record_reply(db, reply(sent), now=now, secret=settings.secret_key)

    assert result.outcome is ReplyOutcome.MATCHED


def test_a_reply_recorded_through_the_events_api_exits_at_the_next_step(
    db: Session, sent: Sent, mailer: Mailer, now: datetime
) -> None:
    ingest(
        db,
        [
            (
                0,
                EventInput(
                    "email.replied", now + timedelta(hours=1), {}, contact_id=sent.contact_id
                ),
            )
        ],
        source="api",
    )
    db.commit()

    drive(db, sent.enrolment_id, now + LATER, mailer)

    assert reload(db, sent.enrolment_id).exit_reason == "replied"
    assert sent_count(db) == 1
