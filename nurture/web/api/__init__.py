"""The JSON API under /api/v1, authenticated by API keys."""

from __future__ import annotations

from litestar import Router

from nurture.web.api import (
    advocacy,
    broadcasts,
    contacts,
    content_library,
    events,
    experiments,
    handoffs,
    images,
    inbound,
    messages,
    outbound_webhooks,
    predictive,
    projects,
    qualification,
    reports,
    reviews,
    scoring,
    segments,
    sequences,
    tasks,
    template_check,
    templates,
    webhooks,
    webinar_attendance,
)

api_router = Router(
    path="/api/v1",
    route_handlers=[
        *contacts.HANDLERS,
        *projects.HANDLERS,
        *reviews.HANDLERS,
        *advocacy.HANDLERS,
        events.record_events,
        *templates.HANDLERS,
        *template_check.HANDLERS,
        *messages.HANDLERS,
        *webhooks.HANDLERS,
        *outbound_webhooks.HANDLERS,
        *segments.HANDLERS,
        *sequences.HANDLERS,
        *scoring.HANDLERS,
        *content_library.HANDLERS,
        *tasks.HANDLERS,
        *handoffs.HANDLERS,
        *inbound.HANDLERS,
        *webinar_attendance.HANDLERS,
        *reports.HANDLERS,
        *qualification.HANDLERS,
        *predictive.HANDLERS,
        *broadcasts.HANDLERS,
        *experiments.HANDLERS,
        *images.HANDLERS,
    ],
    tags=["api"],
)
