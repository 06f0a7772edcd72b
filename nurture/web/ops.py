"""Operations endpoints: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from litestar import Router, get


@get("/healthz", include_in_schema=False, sync_to_thread=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


ops_router = Router(path="/", route_handlers=[healthz], include_in_schema=False)
