"""The JSON API under /api/v1, authenticated by API keys."""

from __future__ import annotations

from litestar import Router

from nurture.web.api import (
    contacts,
    content_library,
    events,
    inbound,
    messages,
    predictive,
    segments,
    sequences,
    tasks,
    templates,
    webhooks,
    webinar_attendance,
)

api_router = Router(
    path="/api/v1",
    route_handlers=[
        *contacts.HANDLERS,
        events.record_events,
        *templates.HANDLERS,
        *messages.HANDLERS,
        *webhooks.HANDLERS,
        *segments.HANDLERS,
        *sequences.HANDLERS,
        *content_library.HANDLERS,
        *tasks.HANDLERS,
        *inbound.HANDLERS,
        *webinar_attendance.HANDLERS,
        *predictive.HANDLERS,
    ],
    tags=["api"],
)
