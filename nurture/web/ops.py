"""Operations endpoints: liveness, readiness and Prometheus metrics.

`OpsPlugin` adds them to an app together with the per-app metrics registry
and the middleware that counts requests.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from typing import Any

from litestar import Litestar, Request, Response, Router, get
from litestar.config.app import AppConfig
from litestar.exceptions import NotAuthorizedException
from litestar.plugins import InitPlugin
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from sqlalchemy import text

from nurture.db import get_engine
from nurture.web.metrics import Metrics
from nurture.web.state import settings_of
from workers.runtime import RuntimeHandle

log = logging.getLogger(__name__)


@get("/healthz", sync_to_thread=False)
def healthz() -> dict[str, str]:
    """The process is up and serving; touches nothing else."""
    return {"status": "ok"}


@get("/readyz", sync_to_thread=True)
def readyz(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    """200 when the database and the broker answer, else 503 naming what failed."""
    checks = {
        "database": _database_problem(settings_of(request.app).database_url) or "ok",
        "broker": _runtime_problem(request.app) or "ok",
    }
    ready = all(value == "ok" for value in checks.values())
    return Response(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )


@get("/metrics", sync_to_thread=True, media_type=CONTENT_TYPE_PLAIN_0_0_4)
def metrics(request: Request[Any, Any, Any]) -> bytes:
    """Prometheus text format: requests, queue depth and the event backlog.

    Only for a scraper with NURTURE_METRICS_TOKEN as its bearer token, or, with no
    token set, for loopback clients: route names and backlog sizes are not public.
    """
    if not metrics_allowed(request):
        raise NotAuthorizedException(
            "/metrics needs `Authorization: Bearer <NURTURE_METRICS_TOKEN>` "
            "(or, with no token set, a loopback client)"
        )
    handle = _runtime(request.app)
    return _metrics_of(request.app).render(
        database_url=settings_of(request.app).database_url,
        broker=handle.broker if handle else None,
    )


ops_router = Router(path="/", route_handlers=[healthz, readyz, metrics], include_in_schema=False)


class OpsPlugin(InitPlugin):
    """Adds the ops endpoints, a metrics registry of this app, and request counting."""

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        registry = Metrics()
        app_config.state["metrics"] = registry
        # Outermost, so the time spent in every other middleware is measured too.
        app_config.middleware.insert(0, registry.middleware)
        app_config.route_handlers.append(ops_router)
        return app_config


def metrics_allowed(request: Request[Any, Any, Any]) -> bool:
    token = settings_of(request.app).metrics_token
    if token:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), token.encode()
        )
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _database_problem(url: str) -> str | None:
    try:
        with get_engine(url).connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        # The exception text can carry connection details; the log keeps them.
        log.warning("readiness: database unreachable", exc_info=True)
        return f"database unreachable ({type(exc).__name__})"
    return None


def _runtime_problem(app: Litestar) -> str | None:
    handle = _runtime(app)
    if handle is None:
        return "background runtime not started"
    problem = handle.problem()
    if problem:
        log.warning("readiness: %s", problem)
    return problem


def _runtime(app: Litestar) -> RuntimeHandle | None:
    handle = app.state.get("runtime")
    return handle if isinstance(handle, RuntimeHandle) else None


def _metrics_of(app: Litestar) -> Metrics:
    registry = app.state.get("metrics")
    if not isinstance(registry, Metrics):
        raise RuntimeError("OpsPlugin stores the metrics registry on app.state")
    return registry
