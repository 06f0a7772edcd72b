"""The app's own route table as (method, path) pairs, for tests that must cover every route."""

from __future__ import annotations

from litestar import Litestar
from litestar.routes import HTTPRoute

Route = tuple[str, str]


def handled_routes(app: Litestar) -> list[Route]:
    """Every (method, path template) the app answers, in its own spelling
    (`/api/v1/contacts/{contact_id:int}`), sorted.

    Litestar adds an OPTIONS handler to every path by itself; it runs none of our
    code and no guard, so it is left out.
    """
    found = set()
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if handler.handler_name == "options_handler" and handler.http_methods == {"OPTIONS"}:
                continue
            found |= {(method, route.path) for method in handler.http_methods}
    return sorted(found, key=lambda item: (item[1], item[0]))


def api_routes(app: Litestar) -> list[Route]:
    """The JSON API's routes (under /api/v1)."""
    return [(method, path) for method, path in handled_routes(app) if path.startswith("/api/")]
