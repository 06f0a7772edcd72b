"""Relay webhooks: the documented sample payloads, re-signed here with generated keys."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.delivery.capture import CaptureTransport
from campaigns.delivery.notices import NoticeKind, WebhookRejected
from campaigns.delivery.sendgrid import verify_sendgrid
from campaigns.delivery.sns import CertificateCache, verify_sns
from campaigns.email.bounces import apply_notices
from campaigns.email.mailconfig import MailConfig
from campaigns.email.pipeline import send_to_contact
from nurture.models import EmailMessage, Event, MessageStatus, Suppression, SuppressionReason
from tests.email.conftest import make_template
from tests.factories import make_contact

FIXTURES = Path(__file__).with_name("fixtures")
CERT_URL = "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


class Signer:
    """Plays Amazon SNS: an RSA key and a certificate for it."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
        now = dt.datetime.now(dt.UTC)
        self.pem = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .sign(self.key, hashes.SHA256())
            .public_bytes(serialization.Encoding.PEM)
        )
        self.fetched: list[str] = []

    def fetch(self, url: str) -> bytes:
        self.fetched.append(url)
        return self.pem

    def sign(self, message: dict[str, Any], version: str = "2") -> bytes:
        message = {**message, "SignatureVersion": version, "SigningCertURL": CERT_URL}
        if message["Type"] == "Notification":
            fields = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
        else:
            fields = [
                "Message",
                "MessageId",
                "SubscribeURL",
                "Timestamp",
                "Token",
                "TopicArn",
                "Type",
            ]
        text = "".join(f"{f}\n{message[f]}\n" for f in fields if f in message)
        algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()  # noqa: S303
        signature = self.key.sign(text.encode(), padding.PKCS1v15(), algorithm)
        message["Signature"] = base64.b64encode(signature).decode()
        return json.dumps(message).encode()


def sent_message(db: Session, db_url: str, config: MailConfig, email: str) -> EmailMessage:
    contact = make_contact(db, email=email)
    template_id = make_template(db, name=f"Guide for {email}")
    return send_to_contact(
        db,
        template_id,
        contact.id,
        idempotency_key=f"m-{email}",
        transport=CaptureTransport(db_url),
        config=config,
    )


def ses_envelope(notification: dict[str, Any]) -> dict[str, Any]:
    envelope: dict[str, Any] = fixture("sns_notification.json")
    envelope["Message"] = json.dumps(notification)
    return envelope


def reason_of(db: Session, email: str) -> str | None:
    from nurture.contacts.addresses import email_hash

    return db.scalar(select(Suppression.reason).where(Suppression.email_hash == email_hash(email)))


@pytest.mark.parametrize("version", ["1", "2"])
def test_ses_permanent_bounce_suppresses_and_marks_the_message_bounced(
    db: Session, db_url: str, mail_config: MailConfig, version: str
) -> None:
    message = sent_message(db, db_url, mail_config, "jane@example.com")
    bounce = fixture("ses_bounce.json")
    for header in bounce["mail"]["headers"]:
        if header["name"] == "Message-ID":
            header["value"] = message.message_id_header
    signer = Signer()
    certificates = CertificateCache(signer.fetch)
    body = signer.sign(ses_envelope(bounce), version)

    verified = verify_sns(body, certificates=certificates)
    results = apply_notices(db, verified.notices)
    db.commit()

    assert verified.type == "Notification"
    assert [(n.kind, n.email) for n in verified.notices] == [
        (NoticeKind.HARD_BOUNCE, "jane@example.com")
    ]
    assert results[0].message_id == message.id
    assert results[0].suppressed
    db.refresh(message)
    assert message.status == MessageStatus.BOUNCED.value
    assert reason_of(db, "jane@example.com") == SuppressionReason.HARD_BOUNCE.value
    # The same notice again (SNS retries) changes nothing and does not fail.
    again = apply_notices(db, verify_sns(body, certificates=certificates).notices)
    assert not again[0].suppressed
    assert signer.fetched == [CERT_URL]  # fetched once, then cached
    bounced = db.scalars(select(Event).where(Event.type == "email.bounced")).all()
    assert len(bounced) == 1


def test_ses_complaint_suppresses_as_complaint(
    db: Session, db_url: str, mail_config: MailConfig
) -> None:
    message = sent_message(db, db_url, mail_config, "richard@example.com")
    complaint = fixture("ses_complaint.json")
    complaint["mail"]["headers"].append({"name": "X-Nurture-Message", "value": str(message.id)})
    signer = Signer()
    verified = verify_sns(
        signer.sign(ses_envelope(complaint)), certificates=CertificateCache(signer.fetch)
    )
    results = apply_notices(db, verified.notices)
    assert [(n.kind, r.message_id) for n, r in zip(verified.notices, results, strict=True)] == [
        (NoticeKind.COMPLAINT, message.id)
    ]
    assert reason_of(db, "richard@example.com") == SuppressionReason.COMPLAINT.value


def test_ses_transient_bounce_is_only_noted(
    db: Session, db_url: str, mail_config: MailConfig
) -> None:
    message = sent_message(db, db_url, mail_config, "jane@example.com")
    bounce = fixture("ses_bounce.json")
    bounce["bounce"]["bounceType"] = "Transient"
    bounce["mail"]["headers"].append({"name": "X-Nurture-Message", "value": str(message.id)})
    signer = Signer()
    verified = verify_sns(
        signer.sign(ses_envelope(bounce)), certificates=CertificateCache(signer.fetch)
    )
    apply_notices(db, verified.notices)
    db.refresh(message)
    assert verified.notices[0].kind is NoticeKind.SOFT_BOUNCE
    assert message.status == MessageStatus.SENT.value
    assert reason_of(db, "jane@example.com") is None
    assert db.scalar(select(Event.id).where(Event.type == "email.soft_bounced")) is not None


def test_sns_subscription_confirmation_is_verified_and_gives_the_confirm_url() -> None:
    signer = Signer()
    body = signer.sign(fixture("sns_subscription_confirmation.json"), "1")
    verified = verify_sns(
        body,
        certificates=CertificateCache(signer.fetch),
        allowed_topic_arns=("arn:aws:sns:us-west-2:123456789012:MyTopic",),
    )
    assert verified.type == "SubscriptionConfirmation"
    assert verified.subscribe_url is not None
    assert verified.subscribe_url.startswith("https://sns.us-west-2.amazonaws.com/?Action=Confirm")
    assert verified.notices == []


def test_sns_bad_signature_foreign_certificate_host_and_topic_are_refused() -> None:
    signer = Signer()
    certificates = CertificateCache(signer.fetch)
    good = json.loads(signer.sign(ses_envelope(fixture("ses_bounce.json"))))

    tampered = {**good, "Message": good["Message"].replace("jane@", "mallory@")}
    with pytest.raises(WebhookRejected, match="signature"):
        verify_sns(json.dumps(tampered), certificates=certificates)

    other_key = Signer()  # a valid signature by a key that is not SNS's
    forged = json.loads(other_key.sign(ses_envelope(fixture("ses_bounce.json"))))
    with pytest.raises(WebhookRejected, match="signature"):
        verify_sns(json.dumps(forged), certificates=certificates)

    for url in (
        "https://sns.us-west-2.amazonaws.com.evil.example/cert.pem",
        "http://sns.us-west-2.amazonaws.com/cert.pem",
        "https://evil.example/sns.us-west-2.amazonaws.com.pem",
    ):
        with pytest.raises(WebhookRejected, match="SigningCertURL"):
            verify_sns(json.dumps({**good, "SigningCertURL": url}), certificates=certificates)
    assert signer.fetched == [CERT_URL]  # the foreign URLs were never fetched

    with pytest.raises(WebhookRejected, match="topic"):
        verify_sns(json.dumps(good), certificates=certificates, allowed_topic_arns=("arn:other",))
    with pytest.raises(WebhookRejected):
        verify_sns(b"not json", certificates=certificates)


def sendgrid_keys() -> tuple[ec.EllipticCurvePrivateKey, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return key, base64.b64encode(public).decode()


def sendgrid_sign(key: ec.EllipticCurvePrivateKey, body: bytes, timestamp: str) -> str:
    return base64.b64encode(key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))).decode()


def test_sendgrid_events_are_verified_and_bounces_suppress(
    db: Session, db_url: str, mail_config: MailConfig
) -> None:
    message = sent_message(db, db_url, mail_config, "example@test.com")
    events = fixture("sendgrid_events.json")
    for event in events:
        event["smtp-id"] = message.message_id_header
    body = json.dumps(events).encode()
    key, public = sendgrid_keys()
    timestamp = str(int(time.time()))

    notices = verify_sendgrid(
        body, signature=sendgrid_sign(key, body, timestamp), timestamp=timestamp, public_key=public
    )
    results = apply_notices(db, notices)

    assert [n.kind for n in notices] == [
        NoticeKind.SOFT_BOUNCE,  # deferred
        NoticeKind.DELIVERED,
        NoticeKind.HARD_BOUNCE,
        NoticeKind.OTHER,  # dropped
        NoticeKind.COMPLAINT,  # spamreport
    ]
    assert all(r.message_id == message.id for r in results)
    db.refresh(message)
    assert message.status == MessageStatus.BOUNCED.value
    assert reason_of(db, "example@test.com") == SuppressionReason.HARD_BOUNCE.value


def test_sendgrid_bad_signature_missing_headers_and_stale_timestamp_are_refused() -> None:
    key, public = sendgrid_keys()
    body = (FIXTURES / "sendgrid_events.json").read_bytes()
    timestamp = str(int(time.time()))
    signature = sendgrid_sign(key, body, timestamp)
    with pytest.raises(WebhookRejected, match="signature"):
        verify_sendgrid(
            body.replace(b"bounce", b"bounc3"),
            signature=signature,
            timestamp=timestamp,
            public_key=public,
        )
    other, _ = sendgrid_keys()
    with pytest.raises(WebhookRejected, match="signature"):
        verify_sendgrid(
            body,
            signature=sendgrid_sign(other, body, timestamp),
            timestamp=timestamp,
            public_key=public,
        )
    with pytest.raises(WebhookRejected, match="headers"):
        verify_sendgrid(body, signature=None, timestamp=timestamp, public_key=public)
    old = str(int(time.time()) - 3600)
    with pytest.raises(WebhookRejected, match="timestamp"):
        verify_sendgrid(
            body, signature=sendgrid_sign(key, body, old), timestamp=old, public_key=public
        )
    # '²' passes str.isdigit() and fails int(): refused as a bad timestamp, not a crash.
    with pytest.raises(WebhookRejected, match="timestamp"):
        verify_sendgrid(
            body, signature=sendgrid_sign(key, body, "²"), timestamp="²", public_key=public
        )


def test_sns_certificate_that_cannot_be_fetched_is_refused_and_not_fetched_again() -> None:
    signer = Signer()
    tries: list[str] = []

    def unreachable(url: str) -> bytes:
        tries.append(url)
        raise OSError("connection refused")

    certificates = CertificateCache(unreachable)
    body = signer.sign(ses_envelope(fixture("ses_bounce.json")))
    for _ in range(3):
        with pytest.raises(WebhookRejected, match="could not be fetched"):
            verify_sns(body, certificates=certificates)
    assert tries == [CERT_URL]


def test_sns_certificate_fetch_is_tried_again_after_the_pause() -> None:
    signer = Signer()
    answers: list[bytes | None] = [None, signer.pem]

    def flaky(url: str) -> bytes:
        answer = answers.pop(0)
        if answer is None:
            raise TimeoutError("timed out")
        return answer

    certificates = CertificateCache(flaky, retry_after=0.0)
    body = signer.sign(ses_envelope(fixture("ses_bounce.json")))
    with pytest.raises(WebhookRejected):
        verify_sns(body, certificates=certificates)
    assert verify_sns(body, certificates=certificates).notices
