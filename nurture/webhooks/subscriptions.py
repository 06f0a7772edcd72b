"""Webhook subscriptions: which URL hears which event types, its secret and its rotation.

Every change names each bad field (`url`, `event_types[1]`) and saves nothing when
one is wrong; each writes an audit entry that never holds a secret.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from nurture import audit
from nurture.errors import InvalidInput, NotFound, Problem
from nurture.models import WebhookSubscription, WebhookSubscriptionType, utcnow
from nurture.validation import EVENT_TYPE_RULE, holds_nul, is_event_type
from nurture.webhooks.signing import new_secret

# The event types the system writes that a CRM usually wants; any stored type may be chosen.
SUGGESTED_TYPES = (
    "lead.qualified",
    "handoff.accepted",
    "handoff.rejected",
    "handoff.escalated",
    "lifecycle.changed",
    "nps.answered",
)
MAX_URL_LENGTH = 2000
MAX_DESCRIPTION_LENGTH = 200
MAX_TYPES = 50
# How long the previous secret still signs after a rotation.
ROTATION_GRACE = timedelta(hours=24)
ENTITY = "webhook_subscription"


@dataclass(frozen=True, slots=True)
class SubscriptionView:
    """A subscription with its event types, as pages and the API show it (no secret)."""

    subscription: WebhookSubscription
    event_types: list[str]


def _url_problem(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return "is required: the endpoint's http:// or https:// address"
    if len(value) > MAX_URL_LENGTH:
        return f"must be at most {MAX_URL_LENGTH} characters"
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return "must not contain spaces or control characters"
    try:
        parts = urlsplit(value)
        # Reading the port is what checks it: "host:99999" or "host:x" raise here.
        parts.port  # noqa: B018
    except ValueError:
        return "is not a valid URL"
    if parts.scheme.lower() not in ("http", "https"):
        return "must start with http:// or https://"
    if not parts.hostname:
        return "must name a host, as in https://crm.example.com/hooks"
    return None


def _check_types(value: object, problems: list[Problem]) -> list[str]:
    if not isinstance(value, list) or not value:
        problems.append(Problem("event_types", "must list at least one event type"))
        return []
    if len(value) > MAX_TYPES:
        problems.append(Problem("event_types", f"may list at most {MAX_TYPES} event types"))
        return []
    kept: list[str] = []
    for index, item in enumerate(value):
        if not is_event_type(item):
            problems.append(Problem(f"event_types[{index}]", EVENT_TYPE_RULE))
        elif item not in kept:
            kept.append(item)
    return kept


def _check_description(value: object, problems: list[Problem]) -> str:
    if not isinstance(value, str):
        problems.append(Problem("description", "must be text"))
        return ""
    if len(value) > MAX_DESCRIPTION_LENGTH:
        problems.append(
            Problem("description", f"must be at most {MAX_DESCRIPTION_LENGTH} characters")
        )
    elif holds_nul(value):
        problems.append(Problem("description", "must not contain NUL characters"))
    return value.strip()


def create_subscription(
    session: Session,
    *,
    url: object,
    event_types: object,
    description: object = "",
    active: bool = True,
    actor: str,
    user_id: int | None = None,
) -> tuple[WebhookSubscription, str]:
    """A new subscription and its secret, which the caller shows once."""
    problems: list[Problem] = []
    url_problem = _url_problem(url)
    if url_problem:
        problems.append(Problem("url", url_problem))
    types = _check_types(event_types, problems)
    text = _check_description(description, problems)
    if problems or not isinstance(url, str):
        raise InvalidInput(problems)
    secret = new_secret()
    subscription = WebhookSubscription(
        url=url,
        description=text,
        active=active,
        secret=secret,
        message_prefix=secrets.token_hex(6),
        created_by_id=user_id,
    )
    session.add(subscription)
    session.flush()
    _store_types(session, subscription.id, types)
    audit.record(
        session,
        actor=actor,
        action="webhook.created",
        entity_type=ENTITY,
        entity_id=subscription.id,
        changes={"url": url, "event_types": types, "active": active},
    )
    return subscription, secret


def update_subscription(
    session: Session,
    subscription_id: int,
    *,
    actor: str,
    url: object = None,
    event_types: object = None,
    description: object = None,
    active: bool | None = None,
) -> WebhookSubscription:
    """Change what is given (None keeps it); switching it on clears why it was off."""
    subscription = get_subscription(session, subscription_id)
    problems: list[Problem] = []
    if url is not None:
        url_problem = _url_problem(url)
        if url_problem:
            problems.append(Problem("url", url_problem))
    types = _check_types(event_types, problems) if event_types is not None else None
    text = _check_description(description, problems) if description is not None else None
    if problems:
        raise InvalidInput(problems)
    changes: dict[str, Any] = {}
    if isinstance(url, str) and url != subscription.url:
        changes["url"] = url
        subscription.url = url
    if text is not None and text != subscription.description:
        changes["description"] = text
        subscription.description = text
    if active is not None and active != subscription.active:
        changes["active"] = active
        subscription.active = active
        if active:
            subscription.disabled_reason = None
    if types is not None and sorted(types) != event_types_of(session, [subscription_id]).get(
        subscription_id, []
    ):
        changes["event_types"] = types
        session.execute(
            delete(WebhookSubscriptionType).where(
                WebhookSubscriptionType.subscription_id == subscription_id
            )
        )
        _store_types(session, subscription_id, types)
    if changes:
        subscription.updated_at = utcnow()
        audit.record(
            session,
            actor=actor,
            action="webhook.updated",
            entity_type=ENTITY,
            entity_id=subscription_id,
            changes=changes,
        )
    session.flush()
    return subscription


def delete_subscription(session: Session, subscription_id: int, *, actor: str) -> None:
    """Remove a subscription with its delivery log."""
    subscription = get_subscription(session, subscription_id)
    audit.record(
        session,
        actor=actor,
        action="webhook.deleted",
        entity_type=ENTITY,
        entity_id=subscription_id,
        changes={"url": subscription.url},
    )
    session.delete(subscription)
    session.flush()


def rotate_secret(
    session: Session,
    subscription_id: int,
    *,
    actor: str,
    now: datetime | None = None,
    grace: timedelta = ROTATION_GRACE,
) -> tuple[WebhookSubscription, str]:
    """Give the subscription a new secret; the current one keeps signing for `grace`.

    Rotating again within the grace period drops the oldest secret: at most two sign.
    """
    subscription = get_subscription(session, subscription_id)
    now = now or utcnow()
    secret = new_secret()
    subscription.previous_secret = subscription.secret
    subscription.previous_secret_expires_at = now + grace
    subscription.secret = secret
    subscription.updated_at = now
    audit.record(
        session,
        actor=actor,
        action="webhook.secret_rotated",
        entity_type=ENTITY,
        entity_id=subscription_id,
        changes={"previous_secret_expires_at": (now + grace).isoformat()},
    )
    session.flush()
    return subscription, secret


def secrets_in_use(subscription: WebhookSubscription, *, now: datetime) -> list[str]:
    """The secrets that sign a request sent at `now`: the current one first."""
    kept = [subscription.secret]
    expires = subscription.previous_secret_expires_at
    if subscription.previous_secret and expires is not None and now < expires:
        kept.append(subscription.previous_secret)
    return kept


def get_subscription(session: Session, subscription_id: int) -> WebhookSubscription:
    subscription = session.get(WebhookSubscription, subscription_id)
    if subscription is None:
        raise NotFound("webhook subscription", subscription_id)
    return subscription


def list_subscriptions(session: Session) -> list[SubscriptionView]:
    """Every subscription, newest first, with its event types."""
    rows = list(
        session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id.desc()))
    )
    types = event_types_of(session, [s.id for s in rows])
    return [SubscriptionView(s, types.get(s.id, [])) for s in rows]


def view(session: Session, subscription_id: int) -> SubscriptionView:
    subscription = get_subscription(session, subscription_id)
    return SubscriptionView(
        subscription, event_types_of(session, [subscription_id]).get(subscription_id, [])
    )


def event_types_of(session: Session, subscription_ids: Sequence[int]) -> dict[int, list[str]]:
    """The event types of each subscription, sorted."""
    if not subscription_ids:
        return {}
    found: dict[int, list[str]] = {}
    rows = session.execute(
        select(WebhookSubscriptionType.subscription_id, WebhookSubscriptionType.event_type)
        .where(WebhookSubscriptionType.subscription_id.in_(list(subscription_ids)))
        .order_by(WebhookSubscriptionType.event_type)
    )
    for subscription_id, event_type in rows:
        found.setdefault(subscription_id, []).append(event_type)
    return found


def _store_types(session: Session, subscription_id: int, types: list[str]) -> None:
    session.add_all(
        WebhookSubscriptionType(subscription_id=subscription_id, event_type=t) for t in types
    )
    session.flush()
