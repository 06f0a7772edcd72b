"""A bare endpoint for benchmarks/tracking.py: verifies nothing, records nothing, and
answers the same 302 as the redirector. Routed only when NURTURE_BENCH_ENDPOINTS=1."""

from __future__ import annotations

import os

from litestar import Response, get
from litestar.params import FromPath

from nurture.web.public.tracking import NO_STORE

ENABLED = os.environ.get("NURTURE_BENCH_ENDPOINTS") == "1"
BARE_TARGET = "https://example.com/bench/target"


@get("/t/bench/{token:str}", include_in_schema=False, name="bench-bare")
async def bare_redirect(token: FromPath[str]) -> Response[bytes]:
    return Response(
        b"", status_code=302, headers={"Location": BARE_TARGET, "Cache-Control": NO_STORE}
    )


handlers = [bare_redirect] if ENABLED else []
