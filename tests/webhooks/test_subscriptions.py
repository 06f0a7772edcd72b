"""Subscriptions: bad input names the field and saves nothing; changes are audited."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.errors import InvalidInput
from nurture.models import AuditEntry, WebhookSubscription
from nurture.webhooks import subscriptions


@pytest.mark.parametrize(
    "url",
    [
        "ftp://crm.example.com/hooks",
        "crm.example.com/hooks",
        "javascript:alert(1)",
        "https://",
        "https://crm.example.com:99999/x",
        "https://crm.example.com/a b",
        "",
        None,
        "https://x.example/" + "a" * 2000,
    ],
)
def test_a_url_that_is_not_http_or_https_is_refused_naming_url(db: Session, url: object) -> None:
    with pytest.raises(InvalidInput) as refused:
        subscriptions.create_subscription(db, url=url, event_types=["lead.qualified"], actor="test")
    assert [p.field for p in refused.value.problems] == ["url"]
    assert db.scalar(select(func.count()).select_from(WebhookSubscription)) == 0


def test_every_bad_field_is_named_at_once(db: Session) -> None:
    with pytest.raises(InvalidInput) as refused:
        subscriptions.create_subscription(
            db,
            url="mailto:crm@example.com",
            event_types=["lead.qualified", "Lead Qualified!", 7],
            actor="test",
        )
    assert [p.field for p in refused.value.problems] == [
        "url",
        "event_types[1]",
        "event_types[2]",
    ]


@pytest.mark.parametrize("types", [[], "lead.qualified", None, ["x"] * 51])
def test_event_types_must_be_a_short_non_empty_list(db: Session, types: object) -> None:
    with pytest.raises(InvalidInput) as refused:
        subscriptions.create_subscription(
            db, url="https://crm.example.com/h", event_types=types, actor="test"
        )
    assert [p.field for p in refused.value.problems] == ["event_types"]


def test_a_bad_change_keeps_the_stored_subscription(db: Session) -> None:
    subscription, _ = subscriptions.create_subscription(
        db, url="http://crm.example.com/h", event_types=["lead.qualified"], actor="test"
    )
    with pytest.raises(InvalidInput) as refused:
        subscriptions.update_subscription(
            db,
            subscription.id,
            actor="test",
            url="https://crm.example.com/new",
            event_types=["nps.answered", "NOPE"],
        )
    assert [p.field for p in refused.value.problems] == ["event_types[1]"]
    db.expire_all()
    kept = subscriptions.view(db, subscription.id)
    assert kept.subscription.url == "http://crm.example.com/h"
    assert kept.event_types == ["lead.qualified"]


def test_changes_are_audited_without_the_secret(db: Session) -> None:
    subscription, secret = subscriptions.create_subscription(
        db,
        url="https://crm.example.com/h",
        event_types=["lead.qualified", "lead.qualified", "nps.answered"],
        actor="user:1",
    )
    subscriptions.update_subscription(
        db, subscription.id, actor="user:1", event_types=["handoff.accepted"], active=False
    )
    _, rotated = subscriptions.rotate_secret(db, subscription.id, actor="user:1")
    subscriptions.update_subscription(db, subscription.id, actor="user:1", active=True)

    assert subscriptions.view(db, subscription.id).event_types == ["handoff.accepted"]
    entries = db.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == [
        "webhook.created",
        "webhook.updated",
        "webhook.secret_rotated",
        "webhook.updated",
    ]
    assert entries[0].changes["event_types"] == ["lead.qualified", "nps.answered"]
    text = repr([e.changes for e in entries])
    assert secret not in text
    assert rotated not in text
