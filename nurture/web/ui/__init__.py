"""Server-rendered pages for marketers, sales reps and admins (Jinja2 + htmx)."""

from __future__ import annotations

from litestar import Router

ui_router = Router(path="/", route_handlers=[], include_in_schema=False)
