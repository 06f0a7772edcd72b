"""Bare endpoints for the benchmarks: they verify nothing, record nothing, and answer
what the real endpoint answers. Routed only when NURTURE_BENCH_ENDPOINTS=1.

- GET `/t/bench/{token}`: the redirector's 302 (benchmarks/tracking.py);
- POST `/t/bench/{token}`: reads the form body as the NPS score endpoint does and
  answers its 303 to the follow-up page (benchmarks/survey.py).
"""

from __future__ import annotations

import os
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect

from nurture.web.public.tracking import NO_STORE

ENABLED = os.environ.get("NURTURE_BENCH_ENDPOINTS") == "1"
BARE_TARGET = "https://example.com/bench/target"


@get("/t/bench/{token:str}", include_in_schema=False, name="bench-bare")
async def bare_redirect(token: FromPath[str]) -> Response[bytes]:
    return Response(
        b"", status_code=302, headers={"Location": BARE_TARGET, "Cache-Control": NO_STORE}
    )


@post("/t/bench/{token:str}", include_in_schema=False, name="bench-bare-post")
async def bare_form_post(token: FromPath[str], request: Request[Any, Any, Any]) -> Redirect:
    form = await request.form()
    form.get("score")
    return Redirect(f"/nps/{token}/follow-up", status_code=303)


handlers = [bare_redirect, bare_form_post] if ENABLED else []
