"""Our signatures verify with the `standardwebhooks` package, before and after a rotation."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session
from standardwebhooks import Webhook, WebhookVerificationError

from nurture.models import utcnow
from nurture.webhooks import subscriptions
from nurture.webhooks.queueing import queue_for_events
from nurture.webhooks.signing import SECRET_PREFIX, new_secret, secret_key, signed_headers
from tests.webhooks.conftest import Receiver, store_event, subscribe
from workers.webhooks import deliver_one


def test_a_new_secret_is_whsec_and_base64_of_32_random_bytes() -> None:
    secret = new_secret()
    assert secret.startswith(SECRET_PREFIX)
    assert len(base64.b64decode(secret.removeprefix(SECRET_PREFIX))) == 32
    assert secret_key(secret) == base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    assert new_secret() != secret


def test_signed_headers_verify_with_the_standard_webhooks_package() -> None:
    secret = new_secret()
    body = json.dumps({"type": "lead.qualified", "data": {"name": "Zoë"}}).encode()
    headers = signed_headers([secret], message_id="msg_1", sent_at=utcnow(), body=body)

    assert Webhook(secret).verify(body, headers) == {
        "type": "lead.qualified",
        "data": {"name": "Zoë"},
    }
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body + b" ", headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, {**headers, "webhook-id": "msg_2"})


def test_a_delivered_request_verifies_at_the_receiver(
    db: Session, receiver: Receiver, actor_settings: object
) -> None:
    subscription, secret = subscribe(db, receiver.url, "lead.qualified")
    event = store_event(db, "lead.qualified", score=72)
    [delivery_id] = queue_for_events(db, [event.id])
    db.commit()

    assert deliver_one(delivery_id) == "delivered"

    [request] = receiver.requests
    document = Webhook(secret).verify(request.body, request.headers)
    assert document["type"] == "lead.qualified"
    assert document["data"]["event_id"] == event.id
    assert document["data"]["properties"] == {"score": 72}
    assert document["data"]["contact"]["id"] == event.contact_id
    assert request.headers["webhook-id"] == f"msg_{subscription.message_prefix}_{event.id}"
    assert request.headers["content-type"] == "application/json"


def test_after_a_rotation_both_secrets_verify_until_the_grace_period_ends(db: Session) -> None:
    subscription, old = subscribe(db, "https://crm.example.com/hooks")
    now = utcnow()
    _, new = subscriptions.rotate_secret(db, subscription.id, actor="test", now=now)
    body = b'{"type":"lead.qualified"}'

    during = subscriptions.secrets_in_use(subscription, now=now + timedelta(hours=23))
    headers = signed_headers(during, message_id="msg_x", sent_at=utcnow(), body=body)
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(new).verify(body, headers)
    Webhook(old).verify(body, headers)

    after = subscriptions.secrets_in_use(subscription, now=now + timedelta(hours=24, seconds=1))
    headers = signed_headers(after, message_id="msg_x", sent_at=utcnow(), body=body)
    Webhook(new).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(body, headers)
