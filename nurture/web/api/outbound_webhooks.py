"""Outbound webhooks over the API: subscriptions, secret rotation, the delivery log, replay.

Not to be confused with `webhooks.py`, where relays post their notices to us.
Admin keys only: a subscription's URL and secret decide where contact data goes,
like an API key does.
"""

from __future__ import annotations

from typing import Annotated

from litestar import delete, get, patch, post
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import JSONBody, PathParameter, QueryParameter
from msgspec import UNSET
from sqlalchemy.orm import Session

from nurture.models import DeliveryState, Role
from nurture.web.api import outbound_webhook_schemas as io
from nurture.web.api.bodies import MAX_ID, json_body_operation
from nurture.web.api.responses import errors_meaning
from nurture.web.auth import Principal, api_roles
from nurture.webhooks import log, queueing, subscriptions
from workers.webhooks import send_after_commit

ADMINS = api_roles(Role.ADMIN)
_OWN_MEANING = {
    404: "No such webhook subscription or delivery",
    409: "The delivery cannot be replayed now (its subscription is off, or it is being sent)",
}
Db = NamedDependency[Session]
Me = NamedDependency[Principal]
SubscriptionId = Annotated[int, PathParameter(ge=1, le=MAX_ID, description="The subscription's id")]
DeliveryId = Annotated[int, PathParameter(ge=1, le=MAX_ID, description="The delivery's id")]
Cursor = Annotated[
    str | None,
    QueryParameter(description="The `next_cursor` of the previous page", max_length=200),
]
Limit = Annotated[int, QueryParameter(ge=1, le=log.MAX_PAGE, description="Items per page")]
# `state` is a name Litestar reserves for app state, so the parameter is aliased.
StateFilter = Annotated[
    DeliveryState | None,
    QueryParameter(name="state", description="Only deliveries in this state"),
]


def _errors(*statuses: int) -> dict[int, ResponseSpec]:
    return errors_meaning(_OWN_MEANING, *statuses)


@get(
    "/webhook-subscriptions",
    guards=[ADMINS],
    sync_to_thread=True,
    summary="List outbound webhook subscriptions (no secrets)",
    responses=_errors(),
)
def list_subscriptions(db: Db) -> io.SubscriptionList:
    found = subscriptions.list_subscriptions(db)
    return io.SubscriptionList([io.subscription_out(s) for s in found])


@post(
    "/webhook-subscriptions",
    guards=[ADMINS],
    sync_to_thread=True,
    status_code=201,
    summary="Subscribe an endpoint to event types",
    description=(
        "The answer holds the signing secret (`whsec_...`) this once; it is never shown again. "
        "A URL that is not http(s) answers 422 naming `url`."
    ),
    operation_class=json_body_operation(io.SubscriptionIn, description="The subscription"),
    responses=_errors(422),
)
def create_subscription(
    data: JSONBody[io.SubscriptionIn], db: Db, principal: Me
) -> io.SubscriptionCreated:
    created, secret = subscriptions.create_subscription(
        db,
        url=data.url,
        event_types=data.event_types,
        description=data.description,
        active=data.active,
        actor=principal.actor,
        user_id=principal.id if principal.kind == "user" else None,
    )
    return io.SubscriptionCreated(io.subscription_out(subscriptions.view(db, created.id)), secret)


@get(
    "/webhook-subscriptions/{subscription_id:int}",
    guards=[ADMINS],
    sync_to_thread=True,
    summary="One subscription (no secret)",
    responses=_errors(404),
)
def read_subscription(db: Db, subscription_id: SubscriptionId) -> io.SubscriptionOut:
    return io.subscription_out(subscriptions.view(db, subscription_id))


@patch(
    "/webhook-subscriptions/{subscription_id:int}",
    guards=[ADMINS],
    sync_to_thread=True,
    summary="Change a subscription's URL, event types, description or switch it on or off",
    operation_class=json_body_operation(io.SubscriptionPatch, description="The parts to change"),
    responses=_errors(404, 422),
)
def change_subscription(
    data: JSONBody[io.SubscriptionPatch], db: Db, principal: Me, subscription_id: SubscriptionId
) -> io.SubscriptionOut:
    subscriptions.update_subscription(
        db,
        subscription_id,
        actor=principal.actor,
        url=None if data.url is UNSET else data.url,
        event_types=None if data.event_types is UNSET else data.event_types,
        description=None if data.description is UNSET else data.description,
        active=None if data.active is UNSET else data.active,
    )
    return io.subscription_out(subscriptions.view(db, subscription_id))


@delete(
    "/webhook-subscriptions/{subscription_id:int}",
    guards=[ADMINS],
    sync_to_thread=True,
    summary="Delete a subscription and its delivery log",
    responses=_errors(404),
)
def delete_subscription(db: Db, principal: Me, subscription_id: SubscriptionId) -> None:
    subscriptions.delete_subscription(db, subscription_id, actor=principal.actor)


@post(
    "/webhook-subscriptions/{subscription_id:int}/rotate-secret",
    guards=[ADMINS],
    sync_to_thread=True,
    status_code=200,
    summary="Give a subscription a new signing secret",
    description=(
        "The new secret is shown this once. For 24 hours the previous secret signs too "
        "(two signatures in `webhook-signature`), so the receiver can switch without a gap."
    ),
    responses=_errors(404),
)
def rotate_secret(db: Db, principal: Me, subscription_id: SubscriptionId) -> io.SecretOut:
    rotated, secret = subscriptions.rotate_secret(db, subscription_id, actor=principal.actor)
    return io.SecretOut(rotated.id, secret, rotated.previous_secret_expires_at)


@get(
    "/webhook-subscriptions/{subscription_id:int}/deliveries",
    guards=[ADMINS],
    sync_to_thread=True,
    summary="A subscription's deliveries, newest first",
    responses=_errors(404, 422),
)
def list_deliveries(
    db: Db,
    subscription_id: SubscriptionId,
    in_state: StateFilter = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> io.DeliveryPageOut:
    subscriptions.get_subscription(db, subscription_id)
    page = log.delivery_page(
        db,
        subscription_id,
        cursor=cursor,
        limit=limit,
        state=None if in_state is None else in_state.value,
    )
    return io.DeliveryPageOut([io.delivery_out(row) for row in page.items], page.next_cursor)


@get(
    "/webhook-deliveries/{delivery_id:int}",
    guards=[ADMINS],
    sync_to_thread=True,
    summary="One delivery with its latest attempts and the answers they got",
    responses=_errors(404),
)
def read_delivery(db: Db, delivery_id: DeliveryId) -> io.DeliveryDetailOut:
    row = log.get_delivery(db, delivery_id)
    return io.DeliveryDetailOut(
        io.delivery_out(row), [io.attempt_out(a) for a in log.attempts_of(db, delivery_id)]
    )


@post(
    "/webhook-deliveries/{delivery_id:int}/replay",
    guards=[ADMINS],
    sync_to_thread=True,
    status_code=202,
    summary="Send a delivery again",
    description=(
        "Queued now, with the same `webhook-id` as before (receivers dedupe on it) and a "
        "fresh retry schedule."
    ),
    responses=_errors(404, 409),
)
def replay_delivery(db: Db, principal: Me, delivery_id: DeliveryId) -> io.DeliveryOut:
    queueing.replay(db, delivery_id, actor=principal.actor)
    send_after_commit(db, [delivery_id])
    return io.delivery_out(log.get_delivery(db, delivery_id))


HANDLERS = [
    list_subscriptions,
    create_subscription,
    read_subscription,
    change_subscription,
    delete_subscription,
    rotate_secret,
    list_deliveries,
    read_delivery,
    replay_delivery,
]
