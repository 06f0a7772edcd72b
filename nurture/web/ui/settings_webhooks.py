"""Settings → Webhooks (admins only): endpoints of the firm's CRM, their secrets (shown
once), and each endpoint's delivery log with a Replay button.

The pages hold no workflow: they read the form, call nurture.webhooks and shape the
answer. Admins only, like API keys: a subscription decides where contact data goes.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from nurture.errors import Conflict, InvalidInput, Problem
from nurture.models import utcnow
from nurture.web.auth import ui_roles
from nurture.web.ui import flash
from nurture.web.ui.params import Db, FormData, Me
from nurture.web.ui.render import ADMINS, page
from nurture.webhooks import delivery, log, queueing, subscriptions
from workers.webhooks import send_after_commit

GUARD = [ui_roles(*ADMINS)]
# The pages that show a new secret must never be cached or replayed from history.
NO_STORE = {"Cache-Control": "no-store"}
PAGE_SIZE = 25
FLASH = "webhook_secret"
FIELDS = ("url", "description", "other_types")
# What the log's state badges say.
STATE_LABELS = {"pending": "Retrying", "delivered": "Delivered", "failed": "Failed"}
Cursor = Annotated[str | None, QueryParameter(max_length=200)]
StateFilter = Annotated[str | None, QueryParameter(name="state", max_length=20)]


def _chosen_types(data: dict[str, str]) -> list[str]:
    """Ticked suggestions, then the other types typed in (commas or spaces between)."""
    ticked = [t for t in subscriptions.SUGGESTED_TYPES if data.get(f"type:{t}")]
    typed = data.get("other_types", "").replace(",", " ").split()
    return ticked + [t for t in typed if t not in ticked]


def _form_of(found: subscriptions.SubscriptionView) -> dict[str, str]:
    s = found.subscription
    form = {
        "url": s.url,
        "description": s.description,
        "active": "1" if s.active else "",
        "other_types": " ".join(
            t for t in found.event_types if t not in subscriptions.SUGGESTED_TYPES
        ),
    }
    form |= {f"type:{t}": "1" for t in found.event_types}
    return form


def _errors(problems: list[Problem], chosen: list[str]) -> dict[str, str]:
    """Field -> message for the form; every event type problem shows by the types."""
    errors: dict[str, str] = {}
    for p in problems:
        if p.field.startswith("event_types["):
            index = int(p.field[len("event_types[") : -1])
            value = chosen[index] if index < len(chosen) else ""
            errors.setdefault("event_types", f"“{value}” {p.message}")
        else:
            errors.setdefault(p.field, p.message)
    return errors


def _list_page(
    db: Db,
    principal: Me,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    new_secret: str = "",
    created_id: int | None = None,
    status: int = 200,
) -> Template:
    return page(
        "settings/webhooks.html",
        principal,
        "settings",
        status_code=status,
        headers=NO_STORE,
        items=subscriptions.list_subscriptions(db),
        suggested=subscriptions.SUGGESTED_TYPES,
        form=form or {"type:lead.qualified": "1"},
        errors=errors or {},
        new_secret=new_secret,
        created_id=created_id,
    )


@get("/settings/webhooks", guards=GUARD, sync_to_thread=True)
def webhooks_page(request: Request[Any, Any, Any], db: Db, principal: Me) -> Template:
    # A new subscription's secret, shown this once after the create form's redirect.
    made = flash.take(request, FLASH) or {}
    return _list_page(db, principal, new_secret=made.get("secret", ""), created_id=made.get("id"))


@post("/settings/webhooks", guards=GUARD, sync_to_thread=True)
def create_webhook(
    request: Request[Any, Any, Any], db: Db, principal: Me, data: FormData
) -> Template | Redirect:
    kept = {k: v for k, v in data.items() if k in FIELDS or k.startswith("type:")}
    chosen = _chosen_types(data)
    try:
        created, secret = subscriptions.create_subscription(
            db,
            url=data.get("url", "").strip(),
            event_types=chosen,
            description=data.get("description", ""),
            actor=principal.actor,
            user_id=principal.id,
        )
    except InvalidInput as exc:
        db.rollback()
        return _list_page(
            db, principal, form=kept, errors=_errors(exc.problems, chosen), status=422
        )
    flash.put(request, FLASH, {"secret": secret, "id": created.id})
    return Redirect("/settings/webhooks", status_code=303)


def _detail_page(
    db: Db,
    principal: Me,
    subscription_id: int,
    *,
    cursor: str | None = None,
    state: str | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    new_secret: str = "",
    notice: str = "",
    status: int = 200,
) -> Template:
    found = subscriptions.view(db, subscription_id)
    deliveries = log.delivery_page(
        db, subscription_id, cursor=cursor, limit=PAGE_SIZE, state=state or None
    )
    return page(
        "settings/webhook.html",
        principal,
        "settings",
        status_code=status,
        headers=NO_STORE,
        item=found,
        suggested=subscriptions.SUGGESTED_TYPES,
        form=form or _form_of(found),
        errors=errors or {},
        new_secret=new_secret,
        notice=notice,
        status_error=status >= 400,
        now=utcnow(),
        deliveries=deliveries,
        state=state or "",
        paged=bool(cursor),
        states=STATE_LABELS,
        max_tries=delivery.MAX_TRIES,
    )


@get("/settings/webhooks/{subscription_id:int}", guards=GUARD, sync_to_thread=True)
def webhook_page(
    request: Request[Any, Any, Any],
    db: Db,
    principal: Me,
    subscription_id: FromPath[int],
    cursor: Cursor = None,
    in_state: StateFilter = None,
    replayed: Annotated[int | None, QueryParameter(ge=1)] = None,
) -> Template:
    notice = f"Delivery {replayed} is queued again, with the same webhook-id." if replayed else ""
    made = flash.take(request, FLASH) or {}
    return _detail_page(
        db,
        principal,
        subscription_id,
        cursor=cursor,
        state=in_state,
        notice=notice,
        new_secret=made.get("secret", "") if made.get("id") == subscription_id else "",
    )


@post("/settings/webhooks/{subscription_id:int}", guards=GUARD, sync_to_thread=True)
def change_webhook(
    db: Db, principal: Me, subscription_id: FromPath[int], data: FormData
) -> Template | Redirect:
    chosen = _chosen_types(data)
    try:
        subscriptions.update_subscription(
            db,
            subscription_id,
            actor=principal.actor,
            url=data.get("url", "").strip(),
            event_types=chosen,
            description=data.get("description", ""),
            active=data.get("active") == "1",
        )
    except InvalidInput as exc:
        db.rollback()
        kept: dict[str, Any] = {
            k: v for k, v in data.items() if k in (*FIELDS, "active") or k.startswith("type:")
        }
        return _detail_page(
            db,
            principal,
            subscription_id,
            form=kept,
            errors=_errors(exc.problems, chosen),
            status=422,
        )
    return Redirect(f"/settings/webhooks/{subscription_id}", status_code=303)


@post("/settings/webhooks/{subscription_id:int}/rotate", guards=GUARD, sync_to_thread=True)
def rotate_webhook_secret(
    request: Request[Any, Any, Any], db: Db, principal: Me, subscription_id: FromPath[int]
) -> Redirect:
    _, secret = subscriptions.rotate_secret(db, subscription_id, actor=principal.actor)
    flash.put(request, FLASH, {"secret": secret, "id": subscription_id})
    return Redirect(f"/settings/webhooks/{subscription_id}", status_code=303)


@post("/settings/webhooks/{subscription_id:int}/delete", guards=GUARD, sync_to_thread=True)
def delete_webhook(db: Db, principal: Me, subscription_id: FromPath[int]) -> Redirect:
    subscriptions.delete_subscription(db, subscription_id, actor=principal.actor)
    return Redirect("/settings/webhooks", status_code=303)


@get("/settings/webhooks/deliveries/{delivery_id:int}", guards=GUARD, sync_to_thread=True)
def delivery_page(db: Db, principal: Me, delivery_id: FromPath[int]) -> Template:
    row = log.get_delivery(db, delivery_id)
    return page(
        "settings/webhook_delivery.html",
        principal,
        "settings",
        row=row,
        item=subscriptions.view(db, row.delivery.subscription_id),
        attempts=log.attempts_of(db, delivery_id),
        states=STATE_LABELS,
    )


@post("/settings/webhooks/deliveries/{delivery_id:int}/replay", guards=GUARD, sync_to_thread=True)
def replay_delivery(db: Db, principal: Me, delivery_id: FromPath[int]) -> Template | Redirect:
    row = log.get_delivery(db, delivery_id)
    subscription_id = row.delivery.subscription_id
    try:
        queueing.replay(db, delivery_id, actor=principal.actor)
    except Conflict as exc:
        db.rollback()
        return _detail_page(db, principal, subscription_id, notice=f"{exc}.", status=409)
    send_after_commit(db, [delivery_id])
    return Redirect(f"/settings/webhooks/{subscription_id}?replayed={delivery_id}", status_code=303)


handlers = [
    webhooks_page,
    create_webhook,
    webhook_page,
    change_webhook,
    rotate_webhook_secret,
    delete_webhook,
    delivery_page,
    replay_delivery,
]
