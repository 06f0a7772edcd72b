"""The outbound webhooks API: admin keys manage subscriptions, read the log and replay."""

from __future__ import annotations

from collections.abc import Callable

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from standardwebhooks import Webhook

from nurture.models import WebhookSubscription
from nurture.webhooks.queueing import queue_for_events
from tests.webhooks.conftest import Receiver, store_event
from workers.webhooks import deliver_one

Client = TestClient[Litestar]
BASE = "/api/v1/webhook-subscriptions"


def _problems(answer: object) -> list[str]:
    assert hasattr(answer, "json")
    return [p["field"] for p in answer.json()["error"]["problems"]]


def test_an_admin_key_subscribes_and_gets_the_secret_once(
    client: Client, key_headers: Callable[[str], dict[str, str]]
) -> None:
    admin = key_headers("admin")
    created = client.post(
        BASE,
        json={"url": "https://crm.example.com/h", "event_types": ["lead.qualified"]},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_")
    subscription_id = body["subscription"]["id"]
    assert body["subscription"]["event_types"] == ["lead.qualified"]

    read = client.get(f"{BASE}/{subscription_id}", headers=admin).json()
    listed = client.get(BASE, headers=admin).json()
    assert "secret" not in read
    assert body["secret"] not in repr(listed)
    assert [item["id"] for item in listed["items"]] == [subscription_id]

    rotated = client.post(f"{BASE}/{subscription_id}/rotate-secret", headers=admin).json()
    assert rotated["secret"] != body["secret"]
    assert rotated["previous_secret_expires_at"] is not None


def test_bad_input_is_a_422_naming_the_field_and_saves_nothing(
    client: Client, db: Session, key_headers: Callable[[str], dict[str, str]]
) -> None:
    admin = key_headers("admin")
    not_http = client.post(
        BASE, json={"url": "ftp://crm.example.com", "event_types": ["x"]}, headers=admin
    )
    bad_type = client.post(
        BASE,
        json={"url": "https://crm.example.com", "event_types": ["lead.qualified", "Not A Type"]},
        headers=admin,
    )
    wrong_shape = client.post(BASE, json={"url": 7, "event_types": []}, headers=admin)

    assert (not_http.status_code, _problems(not_http)) == (422, ["url"])
    assert (bad_type.status_code, _problems(bad_type)) == (422, ["event_types[1]"])
    assert wrong_shape.status_code == 422
    assert _problems(wrong_shape) == ["url"]
    assert db.scalar(select(func.count()).select_from(WebhookSubscription)) == 0


def test_a_marketer_key_may_not_see_subscriptions(
    client: Client, key_headers: Callable[[str], dict[str, str]]
) -> None:
    assert client.get(BASE, headers=key_headers("marketer")).status_code == 403


def test_the_log_pages_and_replay_sends_the_same_webhook_id(
    client: Client,
    db: Session,
    receiver: Receiver,
    actor_settings: object,
    key_headers: Callable[[str], dict[str, str]],
) -> None:
    admin = key_headers("admin")
    created = client.post(
        BASE, json={"url": receiver.url, "event_types": ["handoff.accepted"]}, headers=admin
    ).json()
    subscription_id, secret = created["subscription"]["id"], created["secret"]
    events = [store_event(db, "handoff.accepted") for _ in range(3)]
    ids = queue_for_events(db, [e.id for e in events])
    db.commit()
    for delivery_id in ids:
        deliver_one(delivery_id)

    first = client.get(f"{BASE}/{subscription_id}/deliveries?limit=2", headers=admin).json()
    rest = client.get(
        f"{BASE}/{subscription_id}/deliveries",
        params={"limit": 2, "cursor": first["next_cursor"]},
        headers=admin,
    ).json()
    assert [d["id"] for d in first["items"] + rest["items"]] == sorted(ids, reverse=True)
    assert rest["next_cursor"] is None
    assert {d["state"] for d in first["items"]} == {"delivered"}

    detail = client.get(f"/api/v1/webhook-deliveries/{ids[0]}", headers=admin).json()
    assert [a["status_code"] for a in detail["attempts"]] == [200]
    assert detail["attempts"][0]["response_body"] == "ok"

    # The test client's own worker threads send the replay after the request commits.
    replayed = client.post(f"/api/v1/webhook-deliveries/{ids[0]}/replay", headers=admin)
    assert replayed.status_code == 202, replayed.text
    assert replayed.json()["state"] == "pending"
    client.app.state.runtime.broker.join("webhooks", timeout=20_000)
    original, again = (
        r for r in receiver.requests if r.headers["webhook-id"] == detail["delivery"]["message_id"]
    )
    assert original.body == again.body
    Webhook(secret).verify(again.body, again.headers)


def test_bad_log_parameters_are_refused_naming_them(
    client: Client, key_headers: Callable[[str], dict[str, str]], db: Session
) -> None:
    admin = key_headers("admin")
    created = client.post(
        BASE, json={"url": "https://crm.example.com/h", "event_types": ["x"]}, headers=admin
    ).json()
    path = f"{BASE}/{created['subscription']['id']}/deliveries"

    bad_cursor = client.get(path, params={"cursor": "nonsense"}, headers=admin)
    bad_state = client.get(path, params={"state": "lost"}, headers=admin)
    missing = client.get(f"{BASE}/999999/deliveries", headers=admin)

    assert bad_cursor.status_code in (400, 422)
    assert "cursor" in bad_cursor.text
    assert bad_state.status_code == 400
    assert "state" in bad_state.text
    assert missing.status_code == 404
