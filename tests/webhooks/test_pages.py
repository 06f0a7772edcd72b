"""Settings → Webhooks: add an endpoint (secret shown once), the log, replay, rotation."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session
from standardwebhooks import Webhook

from nurture.models import WebhookDelivery, WebhookSubscription
from nurture.webhooks.queueing import queue_for_events
from tests.factories import make_user
from tests.ui.helpers import HTML, Client, login, post_form
from tests.webhooks.conftest import Receiver, store_event
from workers.webhooks import deliver_one

SECRET = re.compile(r'data-testid="webhook-secret">(whsec_[A-Za-z0-9+/=]+)<')


def _admin(client: Client, db: Session) -> None:
    admin = make_user(db, role="admin")
    db.commit()
    login(client, admin)


def test_an_admin_adds_an_endpoint_and_sees_its_secret_once(client: Client, db: Session) -> None:
    _admin(client, db)
    added = post_form(
        client,
        "/settings/webhooks",
        {
            "url": "https://crm.example.com/hooks",
            "description": "Sales CRM",
            "type:lead.qualified": "1",
            "type:handoff.accepted": "1",
            "other_types": "webinar.attended, nps.answered",
        },
    )
    assert added.status_code == 303, added.text
    shown = client.get(added.headers["location"], headers=HTML)
    assert shown.headers["cache-control"] == "no-store"
    found = SECRET.search(shown.text)
    assert found is not None
    db.expire_all()
    subscription = db.scalars(select(WebhookSubscription)).one()
    assert subscription.secret == found.group(1)

    listing = client.get("/settings/webhooks", headers=HTML).text
    detail = client.get(f"/settings/webhooks/{subscription.id}", headers=HTML).text
    assert "Sales CRM" in listing
    assert "webinar.attended" in listing
    assert found.group(1) not in listing
    assert found.group(1) not in detail


def test_a_bad_url_or_type_names_the_field_and_keeps_the_form(client: Client, db: Session) -> None:
    _admin(client, db)
    refused = post_form(
        client,
        "/settings/webhooks",
        {"url": "ftp://crm.example.com", "other_types": "Bad Type"},
    )
    assert refused.status_code == 422
    assert 'id="werr-url"' in refused.text
    assert "must start with http:// or https://" in refused.text
    assert 'id="werr-types"' in refused.text
    assert "“Bad” must be 1 to 100 characters" in refused.text
    assert 'value="ftp://crm.example.com"' in refused.text
    assert db.scalars(select(WebhookSubscription)).all() == []


def test_the_log_shows_the_answer_and_replay_sends_the_same_message(
    client: Client, db: Session, receiver: Receiver
) -> None:
    _admin(client, db)
    receiver.statuses = [500, 200]
    receiver.answer = b"crm says no"
    post_form(client, "/settings/webhooks", {"url": receiver.url, "type:lead.qualified": "1"})
    db.expire_all()
    subscription = db.scalars(select(WebhookSubscription)).one()
    event = store_event(db)
    [delivery_id] = queue_for_events(db, [event.id])
    db.commit()
    assert deliver_one(delivery_id) == "pending"

    log = client.get(f"/settings/webhooks/{subscription.id}", headers=HTML)
    assert 'data-testid="delivery-log"' in log.text
    assert ">500<" in log.text
    attempts = client.get(f"/settings/webhooks/deliveries/{delivery_id}", headers=HTML).text
    assert "crm says no" in attempts

    replayed = post_form(client, f"/settings/webhooks/deliveries/{delivery_id}/replay")
    assert replayed.status_code == 303
    client.app.state.runtime.broker.join("webhooks", timeout=20_000)
    db.expire_all()
    assert db.get_one(WebhookDelivery, delivery_id).state == "delivered"
    first, again = receiver.requests
    assert first.headers["webhook-id"] == again.headers["webhook-id"]
    Webhook(subscription.secret).verify(again.body, again.headers)


def test_rotation_shows_the_new_secret_and_both_sign(client: Client, db: Session) -> None:
    _admin(client, db)
    post_form(
        client,
        "/settings/webhooks",
        {"url": "https://crm.example.com/h", "type:lead.qualified": "1"},
    )
    db.expire_all()
    subscription = db.scalars(select(WebhookSubscription)).one()
    old = subscription.secret

    rotated = post_form(client, f"/settings/webhooks/{subscription.id}/rotate")

    assert rotated.status_code == 303
    found = SECRET.search(client.get(rotated.headers["location"], headers=HTML).text)
    assert found is not None
    db.expire_all()
    stored = db.get_one(WebhookSubscription, subscription.id)
    assert (stored.secret, stored.previous_secret) == (found.group(1), old)


def test_switching_off_and_editing_types_from_the_page(client: Client, db: Session) -> None:
    _admin(client, db)
    post_form(
        client,
        "/settings/webhooks",
        {"url": "https://crm.example.com/h", "type:lead.qualified": "1"},
    )
    db.expire_all()
    subscription = db.scalars(select(WebhookSubscription)).one()

    saved = post_form(
        client,
        f"/settings/webhooks/{subscription.id}",
        {"url": "https://crm.example.com/v2", "type:handoff.rejected": "1"},
    )

    assert saved.status_code == 303
    db.expire_all()
    stored = db.get_one(WebhookSubscription, subscription.id)
    assert (stored.url, stored.active) == ("https://crm.example.com/v2", False)
    page = client.get(f"/settings/webhooks/{subscription.id}", headers=HTML).text
    assert 'name="type:handoff.rejected" value="1" checked' in page
    assert 'name="type:lead.qualified" value="1" checked' not in page


def test_marketers_do_not_see_the_webhooks_tab(client: Client, db: Session) -> None:
    marketer = make_user(db, role="marketer")
    db.commit()
    login(client, marketer)
    assert "/settings/webhooks" not in client.get("/settings", headers=HTML).text
    assert client.get("/settings/webhooks", headers=HTML).status_code == 403
