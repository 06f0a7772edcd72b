"""Server-rendered pages for marketers, sales reps and admins (Jinja2 + htmx)."""

from __future__ import annotations

from litestar import Router

from nurture.web.ui import (
    contacts,
    content,
    home,
    imports,
    library,
    outbox,
    placeholders,
    predictive,
    segments,
    sequence_mapping,
    sequences,
    session,
    settings,
    settings_audit,
    settings_keys,
    settings_password,
    settings_users,
    tasks,
    webinar_attendance,
)

ui_router = Router(
    path="/",
    route_handlers=[
        *session.handlers,
        *home.handlers,
        *contacts.handlers,
        *imports.handlers,
        *segments.handlers,
        *sequences.handlers,
        *sequence_mapping.handlers,
        *content.handlers,
        *library.handlers,
        *outbox.handlers,
        *settings.handlers,
        *settings_password.handlers,
        *settings_users.handlers,
        *settings_keys.handlers,
        *settings_audit.handlers,
        *placeholders.handlers,
        *tasks.handlers,
        *webinar_attendance.handlers,
        *predictive.handlers,
    ],
    include_in_schema=False,
)
