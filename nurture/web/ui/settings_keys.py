"""Settings → API keys (admins only): list, create (shown once), revoke."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy import select

from nurture import accounts
from nurture.errors import InvalidInput
from nurture.models import ApiKey, Role
from nurture.web.auth import api_key_cache, ui_roles
from nurture.web.ui import flash
from nurture.web.ui.params import Db, FormData, Me
from nurture.web.ui.render import ADMINS, page
from nurture.web.ui.settings_users import ROLES

# The page that shows a new key must never be cached or replayed from history.
NO_STORE = {"Cache-Control": "no-store"}


FLASH = "api_key"


def _keys_page(
    db: Db,
    principal: Me,
    *,
    new_key: str = "",
    new_key_name: str = "",
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Template:
    keys = list(
        db.scalars(select(ApiKey).order_by(ApiKey.revoked_at.is_not(None), ApiKey.id.desc()))
    )
    return page(
        "settings/api_keys.html",
        principal,
        "settings",
        status_code=status,
        headers=NO_STORE,
        keys=keys,
        roles=ROLES,
        new_key=new_key,
        new_key_name=new_key_name,
        form=form or {"role": Role.MARKETER.value},
        errors=errors or {},
    )


@get("/settings/api-keys", guards=[ui_roles(*ADMINS)], sync_to_thread=True)
def api_keys(request: Request[Any, Any, Any], db: Db, principal: Me) -> Template:
    # The new key, shown this once after the create form's redirect (flash: the session
    # cookie is encrypted, and the page is never stored).
    made = flash.take(request, FLASH) or {}
    return _keys_page(db, principal, new_key=made.get("key", ""), new_key_name=made.get("name", ""))


@post("/settings/api-keys", guards=[ui_roles(*ADMINS)], sync_to_thread=True)
def create_api_key(
    request: Request[Any, Any, Any], db: Db, principal: Me, data: FormData
) -> Template | Redirect:
    kept = {k: data.get(k, "") for k in ("name", "role")}
    try:
        key, plaintext = accounts.create_api_key(
            db,
            name=kept["name"],
            role=kept["role"],
            created_by_id=principal.id,
            actor=principal.actor,
        )
    except InvalidInput as exc:
        db.rollback()
        errors = {p.field: p.message for p in reversed(exc.problems)}
        return _keys_page(db, principal, form=kept, errors=errors, status=422)
    flash.put(request, FLASH, {"key": plaintext, "name": key.name})
    return Redirect("/settings/api-keys", status_code=303)


@post("/settings/api-keys/{key_id:int}/revoke", guards=[ui_roles(*ADMINS)], sync_to_thread=True)
def revoke_api_key(db: Db, principal: Me, key_id: FromPath[int]) -> Redirect:
    accounts.revoke_api_key(db, key_id=key_id, actor=principal.actor)
    # Verified keys are cached briefly; forget them so the revocation bites at once.
    api_key_cache.clear()
    return Redirect("/settings/api-keys", status_code=303)


handlers = [api_keys, create_api_key, revoke_api_key]
