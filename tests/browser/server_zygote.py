"""A process that has imported the app once and forks a fresh Granian server for each test.

Importing the app is most of a server's start (about 2.5 s of CPU of 3, more on a busy
machine), and every browser test starts its own server. This process pays it once per test
worker; each server is a fork of it that runs Granian's own command line, with the test's
environment, from a clean start (no settings read, no engine, no thread: checked below).
The one difference from a fresh process: what a module reads from the environment when it
is imported comes from this worker's environment (only the benchmarks' NURTURE_BENCH_ENDPOINTS
is read so, and no test sets it).

Protocol, one JSON line each way: the test sends {"argv", "env", "log"}; the answer is
{"pid": ...}. Servers are this process's children, so it reaps them; a test sees one has
ended when its /proc entry is gone. When the test worker closes our stdin, we exit.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from typing import Any

import granian.cli

import nurture.web.app  # noqa: F401  (the point: imported once, before any fork)
from nurture.config import get_settings


def _reap(_signum: int, _frame: Any) -> None:
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _serve(argv: list[str], env: dict[str, str], log: str) -> None:
    """In the forked child: become `python -m granian ARGV` with ENV, output to LOG."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.setpgid(0, 0)
    out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.environ.clear()
    os.environ.update(env)
    sys.argv = ["granian", *argv]
    code = 0
    try:
        granian.cli.entrypoint()  # type: ignore[no-untyped-call]
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except BaseException:  # noqa: BLE001 - whatever it was, it is in the log
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


def main() -> None:
    # A fork must start from nothing the parent set up for itself.
    if get_settings.cache_info().currsize or threading.active_count() != 1:
        raise RuntimeError("the zygote read settings or started a thread before forking")
    signal.signal(signal.SIGCHLD, _reap)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _serve(request["argv"], request["env"], request["log"])
        sys.stdout.write(json.dumps({"pid": pid}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
