"""The smallest Litestar app that answers the bare endpoint's 302, served by Granian the
way `nurture serve` serves ours: the ceiling for benchmarks/tracking.py.

    .venv/bin/python benchmarks/minimal_app.py --port 8001
"""

from __future__ import annotations

import argparse

from granian import Granian
from granian.constants import Interfaces
from litestar import Litestar, Response, get
from litestar.params import FromPath

# The same answer as nurture.web.public.bench: an empty 302 nobody may cache.
TARGET = "https://example.com/bench/target"
NO_STORE = "no-store, no-cache, must-revalidate, max-age=0, private"


@get("/t/bench/{token:str}")
async def bare_redirect(token: FromPath[str]) -> Response[bytes]:
    return Response(b"", status_code=302, headers={"Location": TARGET, "Cache-Control": NO_STORE})


app = Litestar([bare_redirect])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    Granian(
        "benchmarks.minimal_app:app",
        interface=Interfaces.ASGI,
        address=args.host,
        port=args.port,
        workers=args.workers,
    ).serve()


if __name__ == "__main__":
    main()
