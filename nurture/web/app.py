"""create_app(): the one place where the web application is wired together."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from litestar import Litestar
from litestar.datastructures import State
from litestar.middleware.session.client_side import CookieBackendConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from nurture.config import Settings, get_settings
from nurture.web.api import api_router
from nurture.web.api_docs import render_plugins
from nurture.web.csrf import SessionCSRFMiddleware
from nurture.web.deps import DEPENDENCIES
from nurture.web.errors import EXCEPTION_HANDLERS
from nurture.web.json_guard import JsonGuard
from nurture.web.ops import OpsPlugin
from nurture.web.public import public_router, tracking_lifespan
from nurture.web.security_headers import add_security_headers
from nurture.web.ui import ui_router
from nurture.web.utf8_guard import Utf8Guard
from workers import runtime

_HERE = Path(__file__).resolve().parent
# Paths whose unsafe methods are not browser form posts: bearer-authenticated
# API calls, and public endpoints that mail clients call without cookies.
CSRF_EXEMPT = [
    "/api/",
    "/healthz",
    "/readyz",
    "/metrics",
    "/schema",
    "/t/",
    "/u/",
    "/w/",
    "/nps/",
    "/testimonial/",
    "/refer/",
    "/img/",
]
# Front-end packages served from node_modules (installed by `npm ci` from the lock file).
VENDOR_FILES = {
    "htmx": "htmx.org/dist",
    "chart": "chart.js/dist",
    "inter": "@fontsource-variable/inter",
    "swagger": "swagger-ui-dist",
    "sortable": "sortablejs",
}


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    secret = hashlib.sha256(settings.secret_key.encode()).digest()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        handle = runtime.start_for_web(settings)
        # /readyz and /metrics look at what this app started.
        app.state.runtime = handle
        try:
            yield
        finally:
            handle.stop()

    template_config = TemplateConfig(directory=_HERE / "html", engine=JinjaTemplateEngine)
    vendor_routers = [
        create_static_files_router(
            path=f"/static/vendor/{name}",
            directories=[settings.assets_dir / relative],
            name=f"vendor-{name}",
        )
        for name, relative in VENDOR_FILES.items()
    ]
    return Litestar(
        route_handlers=[
            api_router,
            ui_router,
            public_router,
            create_static_files_router(
                path="/static/app", directories=[_HERE / "static"], name="static"
            ),
            *vendor_routers,
        ],
        dependencies=DEPENDENCIES,
        exception_handlers=EXCEPTION_HANDLERS,
        before_send=[add_security_headers],
        middleware=[
            JsonGuard,
            Utf8Guard,
            CookieBackendConfig(
                secret=secret,
                key="nurture_session",
                secure=settings.secure_cookies,
                httponly=True,
                samesite="lax",
                max_age=14 * 24 * 3600,
                exclude=CSRF_EXEMPT,
            ).middleware,
            # After the session middleware: the token is bound to the session it loaded.
            SessionCSRFMiddleware(
                secret=secret, exempt=CSRF_EXEMPT, secure=settings.secure_cookies
            ),
        ],
        template_config=template_config,
        openapi_config=OpenAPIConfig(
            title="Nurture API",
            version="1",
            path="/schema",
            render_plugins=render_plugins(),
            components=Components(
                security_schemes={
                    "apiKey": SecurityScheme(
                        type="http",
                        scheme="bearer",
                        description="An API key from `nurture apikeys create`",
                    )
                }
            ),
            security=[{"apiKey": []}],
        ),
        lifespan=[lifespan, tracking_lifespan],
        plugins=[OpsPlugin()],
        state=State({"settings": settings}),
        debug=False,
    )
