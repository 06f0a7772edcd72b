"""The send pipeline against a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import base64
import ssl
from datetime import timedelta
from pathlib import Path

import dkim  # type: ignore[import-untyped]
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.delivery.capture import CaptureTransport
from campaigns.delivery.smtp import SmtpPool
from campaigns.delivery.smtp_url import parse_smtp_url
from campaigns.delivery.transport import Delivery, Envelope
from campaigns.email.mailconfig import DkimKey, MailConfig
from campaigns.email.pipeline import send_bulk, send_to_contact
from campaigns.email.retry import recover_interrupted, resume_queued, retry_due
from nurture.contacts import is_suppressed, suppress
from nurture.models import (
    CapturedEmail,
    EmailMessage,
    Event,
    MessageStatus,
    SuppressionReason,
    utcnow,
)
from templates.message import Attachment
from templates.tokens import TokenSigner
from tests.email.conftest import make_template
from tests.email.smtpd import Behaviour, smtp_server
from tests.factories import make_contact


def pool(port: int, size: int = 2) -> SmtpPool:
    return SmtpPool(parse_smtp_url(f"smtp://127.0.0.1:{port}"), size=size)


def test_message_arrives_as_multipart_alternative_with_unsubscribe_headers(
    db: Session, smtp: tuple[int, Behaviour], mail_config: MailConfig
) -> None:
    port, server = smtp
    contact = make_contact(db, email="ada@client.example", first_name="Ada")
    template_id = make_template(db)
    transport = pool(port)
    message = send_to_contact(
        db, template_id, contact.id, idempotency_key="t1", transport=transport, config=mail_config
    )
    transport.close()

    assert message.status == MessageStatus.SENT.value
    (received,) = server.received
    assert received.mail_from == "news@firm.example"
    assert received.rcpt_tos == ["ada@client.example"]
    assert b"\r\n" in received.content
    assert b"\n" not in received.content.replace(b"\r\n", b"")
    mail = received.parsed()
    assert mail.get_content_type() == "multipart/alternative"
    parts = [p.get_content_type() for p in mail.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    assert mail["Subject"] == "Your guide, Ada"
    assert mail["From"] == "Firm News <news@firm.example>"
    assert mail["Message-ID"] == message.message_id_header
    assert mail["X-Nurture-Message"] == str(message.id)
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = mail["List-Unsubscribe"].strip("<>")
    token = unsubscribe.rsplit("/u/", 1)[1]
    ref = TokenSigner(mail_config.secret).verify_unsubscribe(token)
    assert (ref.contact_id, ref.message_id) == (contact.id, message.id)
    html = mail.get_body(("html",))
    assert html is not None
    content = html.get_content()
    assert "Hello Ada" in content
    # Links are rewritten to the redirector; the targets are stored with the message.
    assert "https://example.net/guide" not in content
    assert "/t/c/" in content
    assert message.links == ["https://example.net/guide?c=1", "https://example.net/webinar"]
    events = db.scalars(select(Event.type).where(Event.contact_id == contact.id)).all()
    assert "email.sent" in events


def test_contact_locale_picks_the_russian_variant_and_unknown_falls_back_to_english(
    db: Session, smtp: tuple[int, Behaviour], mail_config: MailConfig
) -> None:
    port, server = smtp
    anna = make_contact(db, email="anna@client.example", first_name="Анна", locale="ru")
    jose = make_contact(db, email="jose@client.example", first_name="José", locale="pt-BR")
    template_id = make_template(db)
    transport = pool(port)
    send_bulk(
        db,
        template_id,
        [anna.id, jose.id],
        key_prefix="loc",
        transport=transport,
        config=mail_config,
    )
    transport.close()
    subjects = {r.rcpt_tos[0]: r.parsed()["Subject"] for r in server.received}
    assert subjects == {
        "anna@client.example": "Ваше руководство, Анна",
        "jose@client.example": "Your guide, José",
    }


def test_suppressed_address_never_receives_mail(
    db: Session, smtp: tuple[int, Behaviour], mail_config: MailConfig
) -> None:
    port, server = smtp
    gone = make_contact(db, email="gone@client.example")
    here = make_contact(db, email="here@client.example")
    suppress(db, "Gone@Client.example", reason=SuppressionReason.UNSUBSCRIBED)
    db.commit()
    template_id = make_template(db)
    transport = pool(port)
    result = send_bulk(
        db, template_id, [gone.id, here.id], key_prefix="b", transport=transport, config=mail_config
    )
    single = send_to_contact(
        db, template_id, gone.id, idempotency_key="again", transport=transport, config=mail_config
    )
    transport.close()

    assert [r.rcpt_tos for r in server.received] == [["here@client.example"]]
    assert result.counts == {"suppressed": 1, "sent": 1}
    assert single.status == MessageStatus.SUPPRESSED.value


def test_sending_the_same_key_twice_sends_one_message(
    db: Session, smtp: tuple[int, Behaviour], mail_config: MailConfig
) -> None:
    port, server = smtp
    contact = make_contact(db)
    template_id = make_template(db)
    transport = pool(port)
    first = send_to_contact(
        db, template_id, contact.id, idempotency_key="once", transport=transport, config=mail_config
    )
    second = send_to_contact(
        db, template_id, contact.id, idempotency_key="once", transport=transport, config=mail_config
    )
    again = send_bulk(
        db, template_id, [contact.id], key_prefix="bulk", transport=transport, config=mail_config
    )
    rerun = send_bulk(
        db, template_id, [contact.id], key_prefix="bulk", transport=transport, config=mail_config
    )
    transport.close()

    assert first.id == second.id
    assert len(server.received) == 2  # "once" and "bulk:<id>", each one time
    assert again.counts == {"sent": 1}
    assert rerun.counts == {}
    assert rerun.skipped_keys == [f"bulk:{contact.id}"]
    assert db.scalar(select(func.count()).select_from(EmailMessage)) == 2


def test_temporary_refusal_is_deferred_then_delivered_by_the_retry(
    db: Session, smtp: tuple[int, Behaviour], mail_config: MailConfig
) -> None:
    port, server = smtp
    contact = make_contact(db, email="busy@client.example")
    server.defer["busy@client.example"] = 1
    template_id = make_template(db)
    transport = pool(port)
    message = send_to_contact(
        db, template_id, contact.id, idempotency_key="d", transport=transport, config=mail_config
    )
    assert message.status == MessageStatus.DEFERRED.value
    assert message.attempts == 1
    assert message.next_attempt_at is not None
    assert message.next_attempt_at > utcnow()
    assert "451" in (message.last_error or "")
    assert server.received == []

    # Not due yet: nothing happens.
    assert retry_due(db, transport=transport) == []
    tried = retry_due(db, transport=transport, now=utcnow() + timedelta(minutes=2))
    transport.close()

    assert tried == [message.id]
    db.refresh(message)
    assert message.status == MessageStatus.SENT.value
    assert message.attempts == 2
    assert message.pending_raw is None
    (received,) = server.received
    assert received.parsed()["Message-ID"] == message.message_id_header
    assert not is_suppressed(db, "busy@client.example")


def test_permanent_refusal_bounces_and_suppresses_the_address(
    db: Session, smtp: tuple[int, Behaviour], mail_config: MailConfig
) -> None:
    port, server = smtp
    contact = make_contact(db, email="nobody@client.example")
    server.refuse.add("nobody@client.example")
    template_id = make_template(db)
    transport = pool(port)
    message = send_to_contact(
        db, template_id, contact.id, idempotency_key="x", transport=transport, config=mail_config
    )
    later = send_to_contact(
        db, template_id, contact.id, idempotency_key="y", transport=transport, config=mail_config
    )
    transport.close()

    assert message.status == MessageStatus.BOUNCED.value
    assert "550" in (message.last_error or "")
    assert is_suppressed(db, "nobody@client.example")
    assert later.status == MessageStatus.SUPPRESSED.value
    kinds = db.scalars(select(Event.type).where(Event.contact_id == contact.id)).all()
    assert "email.bounced" in kinds
    assert "email.suppressed" in kinds


def test_pool_sends_many_messages_over_few_connections(
    db: Session, smtp: tuple[int, Behaviour], mail_config: MailConfig
) -> None:
    port, server = smtp
    contacts = [make_contact(db) for _ in range(12)]
    template_id = make_template(db)
    transport = pool(port, size=2)
    result = send_bulk(
        db,
        template_id,
        [c.id for c in contacts],
        key_prefix="p",
        transport=transport,
        config=mail_config,
        chunk_size=5,
    )
    transport.close()

    assert result.counts == {"sent": 12}
    assert len(server.received) == 12
    assert transport.connections_opened <= 2
    assert len(server.connections) <= 2


def test_starttls_and_auth_from_the_smtp_url(
    db: Session, mail_config: MailConfig, tmp_path: Path
) -> None:
    from tests.email.smtpd import self_signed

    cert, key = self_signed(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    client_context = ssl.create_default_context(cafile=str(cert))
    contact = make_contact(db)
    template_id = make_template(db)
    with smtp_server(tls_context=server_context, users={"mailer": "s3cret"}) as (port, server):
        url = f"smtp://mailer:s3cret@127.0.0.1:{port}?starttls=true"
        transport = SmtpPool(parse_smtp_url(url), size=1, ssl_context=client_context)
        message = send_to_contact(
            db,
            template_id,
            contact.id,
            idempotency_key="tls",
            transport=transport,
            config=mail_config,
        )
        transport.close()
        wrong = SmtpPool(
            parse_smtp_url(f"smtp://mailer:wrong@127.0.0.1:{port}?starttls=true"),
            size=1,
            ssl_context=client_context,
        )
        refused = send_to_contact(
            db,
            template_id,
            contact.id,
            idempotency_key="tls-wrong",
            transport=wrong,
            config=mail_config,
        )
        wrong.close()
    assert message.status == MessageStatus.SENT.value
    assert len(server.received) == 1
    # A refused login is our configuration, never the recipient's fault: retried, not bounced.
    assert refused.status == MessageStatus.DEFERRED.value
    assert not is_suppressed(db, contact.email or "")


def test_dkim_signature_is_added_and_verifies(
    db: Session, smtp: tuple[int, Behaviour], mail_config: MailConfig
) -> None:
    port, server = smtp
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public_der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    config = MailConfig(
        base_url=mail_config.base_url,
        secret=mail_config.secret,
        sender=mail_config.sender,
        brand=mail_config.brand,
        dkim=DkimKey("mail", "firm.example", pem),
        message_id_domain="firm.example",
    )
    contact = make_contact(db)
    template_id = make_template(db)
    transport = pool(port)
    send_to_contact(
        db, template_id, contact.id, idempotency_key="dkim", transport=transport, config=config
    )
    transport.close()
    (received,) = server.received
    assert received.parsed()["DKIM-Signature"] is not None
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public_der)

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"mail._domainkey.firm.example."
        return record

    assert dkim.verify(received.content, dnsfunc=dns)
    assert not dkim.verify(received.content.replace(b"Your guide", b"Your gift"), dnsfunc=dns)


def test_capture_transport_stores_the_raw_message_for_the_outbox(
    db: Session, db_url: str, mail_config: MailConfig
) -> None:
    contact = make_contact(db, email="cap@client.example", first_name="Cap")
    template_id = make_template(db)
    message = send_to_contact(
        db,
        template_id,
        contact.id,
        idempotency_key="cap",
        transport=CaptureTransport(db_url),
        config=mail_config,
    )
    captured = db.scalars(select(CapturedEmail)).one()
    assert message.status == MessageStatus.SENT.value
    assert captured.message_id == message.id
    assert captured.recipients == "cap@client.example"
    assert captured.subject == "Your guide, Cap"
    assert captured.raw.startswith(b"From: Firm News <news@firm.example>\r\n")


def _interrupted_after_the_relay_took_it(
    db: Session, port: int, mail_config: MailConfig, claimed_ago: timedelta
) -> tuple[int, int, EmailMessage]:
    """A message the relay accepted, whose worker died before writing that back: the row
    is left `sending`, claimed `claimed_ago`, with nothing recorded of the send."""
    contact = make_contact(db, email="kim@client.example", first_name="Kim")
    template_id = make_template(db)
    transport = pool(port)
    message = send_to_contact(
        db,
        template_id,
        contact.id,
        idempotency_key="crashed",
        transport=transport,
        config=mail_config,
    )
    transport.close()
    message.status = MessageStatus.SENDING.value
    message.message_id_header = None
    message.sent_at = None
    message.claimed_at = utcnow() - claimed_ago
    db.commit()
    return template_id, contact.id, message


def test_message_stuck_in_sending_past_its_lease_is_resent_once_with_the_same_message_id(
    db: Session, smtp: tuple[int, Behaviour], mail_config: MailConfig
) -> None:
    port, server = smtp
    template_id, contact_id, message = _interrupted_after_the_relay_took_it(
        db, port, mail_config, claimed_ago=timedelta(minutes=6)
    )
    transport = pool(port)
    # The step's re-run finds the message claimed and sends nothing itself.
    again = send_to_contact(
        db,
        template_id,
        contact_id,
        idempotency_key="crashed",
        transport=transport,
        config=mail_config,
    )
    status_after_rerun = again.status
    put_back = recover_interrupted(db, lease=timedelta(minutes=5))
    db.commit()
    resent = resume_queued(db, transport=transport, config=mail_config)
    # A later tick finds nothing left to do.
    later = recover_interrupted(db, lease=timedelta(minutes=5), now=utcnow() + timedelta(hours=1))
    db.commit()
    resent_later = resume_queued(db, transport=transport, config=mail_config)
    transport.close()

    assert status_after_rerun == MessageStatus.SENDING.value
    assert put_back == resent == [message.id]
    assert later == resent_later == []
    db.refresh(message)
    assert message.status == MessageStatus.SENT.value
    first, second = server.received
    assert first.parsed()["Message-ID"] == second.parsed()["Message-ID"]
    assert second.parsed()["Message-ID"] == message.message_id_header
    assert message.attempts == 2


class _DiesMidSend:
    """A transport whose process dies while the relay has the message (nothing is
    written back: the row stays `sending`)."""

    size = 1

    def send(self, envelope: Envelope) -> Delivery:
        raise ConnectionAbortedError("the worker died")

    def close(self) -> None:
        pass


def test_an_interrupted_message_with_an_attachment_is_resent_with_it(
    db: Session, smtp: tuple[int, Behaviour], mail_config: MailConfig
) -> None:
    port, server = smtp
    contact = make_contact(db, email="lee@client.example", first_name="Lee")
    template_id = make_template(db)
    invite = Attachment("invite.ics", "text/calendar; method=REQUEST", b"BEGIN:VCALENDAR\r\n")
    with pytest.raises(ConnectionAbortedError):
        send_to_contact(
            db,
            template_id,
            contact.id,
            idempotency_key="confirm:1",
            transport=_DiesMidSend(),
            config=mail_config,
            attachments=[invite],
        )
    db.rollback()
    transport = pool(port)
    put_back = recover_interrupted(db, lease=timedelta(0), now=utcnow() + timedelta(seconds=1))
    db.commit()
    retried = retry_due(db, transport=transport, now=utcnow() + timedelta(seconds=1))
    transport.close()

    message = db.scalars(
        select(EmailMessage).where(EmailMessage.idempotency_key == "confirm:1")
    ).one()
    assert put_back == retried == [message.id]
    assert message.status == MessageStatus.SENT.value
    assert message.pending_raw is None
    (received,) = server.received
    parts = {part.get_filename() for part in received.parsed().walk()}
    assert "invite.ics" in parts
    assert received.parsed()["Message-ID"] == message.message_id_header


def test_message_sending_within_its_lease_is_not_sent_again(
    db: Session, smtp: tuple[int, Behaviour], mail_config: MailConfig
) -> None:
    port, server = smtp
    template_id, contact_id, message = _interrupted_after_the_relay_took_it(
        db, port, mail_config, claimed_ago=timedelta(minutes=1)
    )
    transport = pool(port)
    put_back = recover_interrupted(db, lease=timedelta(minutes=5))
    db.commit()
    resent = resume_queued(db, transport=transport, config=mail_config)
    again = send_to_contact(
        db,
        template_id,
        contact_id,
        idempotency_key="crashed",
        transport=transport,
        config=mail_config,
    )
    transport.close()

    assert put_back == resent == []
    assert again.id == message.id
    assert again.status == MessageStatus.SENDING.value
    assert len(server.received) == 1


def test_interrupted_internal_message_is_failed_as_it_cannot_be_built_again(db: Session) -> None:
    db.add(
        EmailMessage(
            idempotency_key="handoff",
            status=MessageStatus.SENDING.value,
            kind="internal",
            to_email="rep@firm.example",
            claimed_at=utcnow() - timedelta(hours=1),
            attempts=1,
        )
    )
    db.commit()

    failed = recover_interrupted(db)
    db.commit()

    message = db.scalars(
        select(EmailMessage).where(EmailMessage.idempotency_key == "handoff")
    ).one()
    assert failed == [message.id]
    assert message.status == MessageStatus.FAILED.value


def test_pipelined_transactions_deliver_defer_and_refuse_like_plain_ones(
    smtp: tuple[int, Behaviour],
) -> None:
    from campaigns.delivery.transport import Envelope, Outcome

    port, server = smtp
    server.refuse.add("gone@client.example")
    server.defer["later@client.example"] = 1
    transport = SmtpPool(parse_smtp_url(f"smtp://127.0.0.1:{port}"), size=1, pipelining=True)
    body = b"Subject: dots\r\n\r\n.starts with a dot\r\n..two\r\nend\r\n"

    def send(to: str) -> Outcome:
        return transport.send(Envelope("news@firm.example", (to,), body)).outcome

    outcomes = [
        send("ok@client.example"),
        send("gone@client.example"),
        send("later@client.example"),
        send("later@client.example"),
    ]
    transport.close()

    assert outcomes == [Outcome.SENT, Outcome.PERMANENT, Outcome.TEMPORARY, Outcome.SENT]
    assert [r.rcpt_tos for r in server.received] == [
        ["ok@client.example"],
        ["later@client.example"],
    ]
    # The server undid our dot-stuffing: the body arrives exactly as built.
    assert server.received[0].content == body
    assert transport.connections_opened == 1
