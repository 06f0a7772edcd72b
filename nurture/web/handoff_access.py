"""Who acts on a hand-off, as the inbox domain sees them, for the API and the pages.

A signed-in user acts as themselves. An API key has no user of its own: an admin key
acts with an admin's rights; a sales key acts as the user who created it (a rep's own
CRM integration), or as nobody when no active user did.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from litestar.exceptions import PermissionDeniedException
from sqlalchemy.orm import Session

from nurture.models import ApiKey, Role, User
from nurture.qualification.inbox import Caller, Forbidden
from nurture.web.auth import Principal

T = TypeVar("T")


def caller_of(db: Session, principal: Principal) -> Caller:
    is_admin = principal.role is Role.ADMIN
    if principal.kind == "user":
        return Caller(principal.id, is_admin, principal.actor)
    key = db.get(ApiKey, principal.id)
    creator = None if key is None or key.created_by_id is None else db.get(User, key.created_by_id)
    user_id = creator.id if creator is not None and creator.is_active else None
    return Caller(None if is_admin else user_id, is_admin, principal.actor)


def permitted(action: Callable[[], T]) -> T:
    """Run a domain call, answering 403 when the inbox says the caller may not."""
    try:
        return action()
    except Forbidden as exc:
        raise PermissionDeniedException(str(exc)) from None
