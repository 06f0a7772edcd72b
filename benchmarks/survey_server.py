"""`nurture serve` for benchmarks/survey.py: the same app factory on Granian with the
same settings, one web process, with one difference: the NPS answer limit per client
address is raised out of reach.

wrk's 200 clients all come from 127.0.0.1, and the real limit (a person answers once
or twice a minute) would turn nearly all of them away with a 429 after the first
couple of hundred answers. Raised, it still counts every request (in-process, added
to the shared counters in the background, as always for the score endpoint), so its
cost is part of what is measured; it only never says no.

    .venv/bin/python -m benchmarks.survey_server --port 8001
"""

from __future__ import annotations

import argparse

from granian import Granian
from granian.constants import Interfaces
from litestar import Litestar

from nurture.cli import web_process
from nurture.ratelimit import Limit
from nurture.web.public import surveys

OUT_OF_REACH = 1_000_000_000


def create_app() -> Litestar:
    """The web process's app, as `nurture serve` builds it, with the raised limit."""
    limit = surveys.ANSWERS_PER_ADDRESS
    surveys.ANSWERS_PER_ADDRESS = Limit(limit.purpose, OUT_OF_REACH, limit.window_seconds)
    return web_process.create_app()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    server = Granian(
        "benchmarks.survey_server:create_app",
        factory=True,
        interface=Interfaces.ASGI,
        address=args.host,
        port=args.port,
        workers=1,
    )
    server.on_startup(web_process.prepare_main_process)
    server.serve()


if __name__ == "__main__":
    main()
