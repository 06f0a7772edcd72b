"""Parameter types and dependencies shared by the UI handlers."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body
from sqlalchemy.orm import Session

from nurture.web.auth import Principal, current_principal

# Name the parameter `db` / `principal`: the dependency is found by its name.
Db = NamedDependency[Session]
Me = NamedDependency[Principal]
# A posted HTML form; every value arrives as text.
FormData = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    """The signed-in user that the route's `ui_roles` guard already checked."""
    # Litestar only injects a parameter named `request`, so this wraps the shared
    # helper, whose `connection` parameter it would read as a query parameter.
    return current_principal(request)


UI_DEPENDENCIES = {"principal": Provide(provide_principal, sync_to_thread=False)}
