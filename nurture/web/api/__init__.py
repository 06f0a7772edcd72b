"""The JSON API under /api/v1, authenticated by API keys."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router
from litestar.di import Provide

from nurture.web.api import contacts, events
from nurture.web.auth import Principal, current_principal


def _caller(request: Request[Any, Any, Any]) -> Principal:
    # The app-wide `principal` provider names its parameter `connection`, which
    # Litestar does not inject (it would expect a query parameter of that name);
    # `request` is injected, so the API provides the caller itself.
    return current_principal(request)


api_router = Router(
    path="/api/v1",
    route_handlers=[*contacts.HANDLERS, events.record_events],
    dependencies={"principal": Provide(_caller, sync_to_thread=False)},
    tags=["api"],
)
