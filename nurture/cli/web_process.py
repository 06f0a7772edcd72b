"""Granian's web processes: their app factory, their signals while they start, their tally.

Granian's main process stops a web process with SIGTERM, and the web process
listens for it only once its event loop is set up, after the app is built. A
SIGTERM that came earlier used to be lost, and the main process then waited
for that web process forever. It was lost in two places:
- in the handler the forked process inherits from the main process, which
  only flags the main process's copy of the server; so the main process routes
  what reaches a copy of its handler to `_record_early_stop` instead
  (`prepare_main_process`);
- between fork and the interpreter's after-fork clean-up, which discards
  signals that arrived in that moment; so SIGTERM stays blocked across the
  fork and is unblocked in the child after that clean-up, which delivers one
  that is pending.
A recorded stop is sent again once Granian listens (`_deliver_early_stop`), so a
stop asked at any moment is a clean stop.

Web processes keep SIGINT blocked from their fork on, as Dramatiq's worker
processes ignore it: Ctrl-C in a terminal reaches the whole process group, and
the main process alone turns it into one orderly SIGTERM per web process
(a web process stopping by itself would race the main process, which then
reports it as an unexpected exit). Blocked rather than ignored, because
Granian installs its own SIGINT handler after our factory has run. (A program
a web process started would inherit the blocked SIGINT; they start none.)

Granian reports a web process it had to kill, but it also says so of one that
was exiting on its own and not yet reaped a millisecond later. The tally counts
web processes that finished their shutdown instead: fewer than were created
means one was killed before it could.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable
from multiprocessing.sharedctypes import Synchronized
from types import FrameType

from litestar import Litestar

from nurture.web.app import create_app as create_web_app
from workers import lifeline

_SignalHandler = Callable[[int, FrameType | None], object]
_STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}

# The SIGTERM that came while this web process was starting, if one did.
_early_stop: int | None = None
# The signal mask of the main process around a fork.
_mask_before_fork: set[int | signal.Signals] = set()
# Web processes created and web processes that finished their shutdown (shared
# memory, inherited by the forked web processes).
_created: Synchronized[int] | None = None
_finished: Synchronized[int] | None = None


def _record_early_stop(signum: int, _frame: FrameType | None) -> None:
    global _early_stop
    if signum == signal.SIGTERM:
        _early_stop = signum


def prepare_main_process() -> None:
    """Granian start-up hook, in the main process just before it forks the web processes."""
    global _created, _finished
    _created = multiprocessing.Value("i", 0)
    _finished = multiprocessing.Value("i", 0)
    main_pid = os.getpid()
    for signum in _STOP_SIGNALS:
        granian = signal.getsignal(signum)
        if callable(granian):
            signal.signal(signum, _routed(main_pid, granian))
    os.register_at_fork(
        before=_block_stop_signals,
        after_in_parent=_restore_signal_mask,
        after_in_child=_unblock_sigterm,
    )


def all_finished() -> bool:
    """Whether every web process created finished its shutdown (in the main process)."""
    if _created is None or _finished is None:
        return True
    return bool(_created.value == _finished.value)


def _routed(main_pid: int, granian: _SignalHandler) -> _SignalHandler:
    def handler(signum: int, frame: FrameType | None) -> None:
        if os.getpid() == main_pid:
            granian(signum, frame)
        else:  # a forked web process that has not installed its own handler yet
            _record_early_stop(signum, frame)

    return handler


def _block_stop_signals() -> None:
    global _mask_before_fork
    _mask_before_fork = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)


def _restore_signal_mask() -> None:
    signal.pthread_sigmask(signal.SIG_SETMASK, _mask_before_fork)


def _unblock_sigterm() -> None:
    # After the interpreter's after-fork clean-up: a SIGTERM pending since the
    # fork is delivered now, to the handler that records it.
    signal.pthread_sigmask(signal.SIG_SETMASK, {*_mask_before_fork, signal.SIGINT})


def create_app() -> Litestar:
    """The app factory Granian calls in each web process (`nurture serve`)."""
    lifeline.die_with_parent()
    signal.signal(signal.SIGTERM, _record_early_stop)
    if _created is not None:
        with _created.get_lock():
            _created.value += 1
    app = create_web_app()
    app.on_startup.append(_deliver_early_stop)
    # Shutdown hooks run after the lifespan managers (the background runtime) stopped.
    app.on_shutdown.append(_count_finished)
    return app


async def _deliver_early_stop(_app: Litestar) -> None:
    # Runs inside the ASGI lifespan: Granian's loop handlers are installed by now.
    if _early_stop is not None:
        os.kill(os.getpid(), _early_stop)


async def _count_finished(_app: Litestar) -> None:
    if _finished is not None:
        with _finished.get_lock():
            _finished.value += 1
