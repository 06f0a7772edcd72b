"""Relay webhooks with the relays' documented payload shapes, signed as the relays sign."""

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
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.orm import Session

from campaigns.delivery.sns import CertificateCache
from nurture.contacts import is_suppressed
from nurture.models import Contact, EmailMessage
from tests.email.smtpd import Behaviour
from tests.web_email.conftest import SES_TOPIC, Headers
from tests.web_email.mail import send

FIXTURES = Path(__file__).parent / "fixtures"
CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem"
Client = TestClient[Litestar]


@pytest.fixture(scope="module")
def sns_key() -> tuple[rsa.RSAPrivateKey, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return key, cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture
def sns_app(app: Litestar, sns_key: tuple[rsa.RSAPrivateKey, bytes]) -> Litestar:
    # Amazon's certificate host is not reachable from a test; the cache fetches ours.
    app.state.sns_certificates = CertificateCache(fetch=lambda url: sns_key[1])
    return app


def _sns_body(key: rsa.RSAPrivateKey, message: dict[str, Any], **overrides: str) -> bytes:
    envelope = {
        "Type": "Notification",
        "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": SES_TOPIC,
        "Subject": None,
        "Message": json.dumps(message),
        "Timestamp": "2026-05-01T12:00:02.000Z",
        "SignatureVersion": "2",
        "SigningCertURL": CERT_URL,
        **overrides,
    }
    text = "".join(
        f"{name}\n{envelope[name]}\n"
        for name in ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
        if envelope.get(name) is not None
    )
    signature = key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
    envelope["Signature"] = base64.b64encode(signature).decode()
    return json.dumps(envelope).encode()


def _sendgrid_headers(key: ec.EllipticCurvePrivateKey, body: bytes) -> dict[str, str]:
    stamp = str(int(time.time()))
    signature = key.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return {
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        "X-Twilio-Email-Event-Webhook-Timestamp": stamp,
        "content-type": "application/json",
    }


def test_sendgrid_sample_events_suppress_bounced_and_complaining_addresses(
    client: Client, db: Session, sendgrid_key: ec.EllipticCurvePrivateKey
) -> None:
    body = (FIXTURES / "sendgrid_events.json").read_bytes()
    answer = client.post(
        "/api/v1/webhooks/sendgrid", content=body, headers=_sendgrid_headers(sendgrid_key, body)
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["suppressed"] == 2
    assert is_suppressed(db, "ada@client.example")
    assert is_suppressed(db, "grace@client.example")
    assert not is_suppressed(db, "linus@client.example")


def test_sendgrid_with_a_bad_or_missing_signature_is_refused_and_changes_nothing(
    client: Client, db: Session, sendgrid_key: ec.EllipticCurvePrivateKey
) -> None:
    body = (FIXTURES / "sendgrid_events.json").read_bytes()
    signed = _sendgrid_headers(sendgrid_key, body)
    tampered = body.replace(b"ada@client", b"bob@client")
    other_key = ec.generate_private_key(ec.SECP256R1())
    attempts = [
        client.post("/api/v1/webhooks/sendgrid", content=tampered, headers=signed),
        client.post(
            "/api/v1/webhooks/sendgrid", content=body, headers=_sendgrid_headers(other_key, body)
        ),
        client.post("/api/v1/webhooks/sendgrid", content=body),
    ]
    assert [a.status_code for a in attempts] == [400, 400, 400]
    assert not is_suppressed(db, "ada@client.example")
    assert not is_suppressed(db, "bob@client.example")


def test_ses_bounce_marks_the_message_bounced_and_suppresses_the_address(
    client: Client,
    sns_app: Litestar,
    db: Session,
    template_id: int,
    contact: Contact,
    headers: Headers,
    behaviour: Behaviour,
    sns_key: tuple[rsa.RSAPrivateKey, bytes],
) -> None:
    message_id = send(client, template_id, contact.id, headers)
    notice = json.loads(
        (FIXTURES / "ses_bounce.json").read_text().replace("MESSAGE_ID", str(message_id))
    )
    answer = client.post("/api/v1/webhooks/ses", content=_sns_body(sns_key[0], notice))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"notices": 1, "suppressed": 1, "subscription_confirmed": False}
    db.expire_all()
    assert is_suppressed(db, "ada@client.example")
    message = db.get(EmailMessage, message_id)
    assert message is not None
    assert message.status == "bounced"
    shown = client.get(f"/api/v1/messages/{message_id}", headers=headers).json()
    assert "email.bounced" in [e["type"] for e in shown["events"]]


def test_ses_complaint_suppresses_and_a_replay_changes_nothing_more(
    client: Client, sns_app: Litestar, db: Session, sns_key: tuple[rsa.RSAPrivateKey, bytes]
) -> None:
    body = _sns_body(sns_key[0], json.loads((FIXTURES / "ses_complaint.json").read_text()))
    first = client.post("/api/v1/webhooks/ses", content=body)
    again = client.post("/api/v1/webhooks/ses", content=body)
    assert [first.json()["suppressed"], again.json()["suppressed"]] == [1, 0]
    assert is_suppressed(db, "grace@client.example")


def test_ses_with_a_bad_signature_or_a_foreign_topic_is_refused(
    client: Client, sns_app: Litestar, db: Session, sns_key: tuple[rsa.RSAPrivateKey, bytes]
) -> None:
    notice = json.loads((FIXTURES / "ses_complaint.json").read_text())
    good = json.loads(_sns_body(sns_key[0], notice))
    good["Message"] = good["Message"].replace("grace@", "mallory@")
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    foreign_topic = "arn:aws:sns:us-east-1:999999999999:someone-else"
    attempts = [
        json.dumps(good).encode(),
        _sns_body(other, notice),
        _sns_body(sns_key[0], notice, TopicArn=foreign_topic),
        _sns_body(sns_key[0], notice, SigningCertURL="https://evil.example/cert.pem"),
        b"{not json",
    ]
    codes = [client.post("/api/v1/webhooks/ses", content=b).status_code for b in attempts]
    assert codes == [400, 400, 400, 400, 400]
    assert not is_suppressed(db, "grace@client.example")
    assert not is_suppressed(db, "mallory@client.example")


def test_ses_subscription_confirmation_visits_the_subscribe_url(
    client: Client, sns_app: Litestar, sns_key: tuple[rsa.RSAPrivateKey, bytes]
) -> None:
    visited: list[str] = []
    sns_app.state.sns_confirm = visited.append
    url = "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=abc"
    envelope = {
        "Type": "SubscriptionConfirmation",
        "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
        "Token": "abc",
        "TopicArn": SES_TOPIC,
        "Message": "You have chosen to subscribe to the topic.",
        "SubscribeURL": url,
        "Timestamp": "2026-05-01T12:00:00.000Z",
        "SignatureVersion": "2",
        "SigningCertURL": CERT_URL,
    }
    text = "".join(
        f"{n}\n{envelope[n]}\n"
        for n in ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
    )
    envelope["Signature"] = base64.b64encode(
        sns_key[0].sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
    ).decode()
    answer = client.post("/api/v1/webhooks/ses", content=json.dumps(envelope).encode())
    assert answer.status_code == 200
    assert answer.json()["subscription_confirmed"] is True
    assert visited == [url]


def test_unconfigured_relays_accept_nothing(app: Litestar, settings: Any) -> None:
    from dataclasses import replace

    from nurture.web.app import create_app

    bare = create_app(replace(settings, sendgrid_public_key=None, ses_topic_arns=()))
    with TestClient(bare) as other:
        assert other.post("/api/v1/webhooks/sendgrid", content=b"[]").status_code == 404
        assert other.post("/api/v1/webhooks/ses", content=b"{}").status_code == 404
