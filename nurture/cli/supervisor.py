"""Run one child command until it ends, and stop it within a bound when we are told to stop.

`nurture worker` runs the `dramatiq` command this way. The child gets its own
session, so Ctrl-C in a terminal reaches only us and the child sees one SIGTERM
(Dramatiq treats a second one as "kill now"). The child is armed to die with us
(workers/lifeline.py). After SIGTERM or SIGINT the child has `bound` seconds;
then its whole session is SIGKILLed and the stop counts as unclean.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import subprocess
import time
from collections.abc import Sequence
from types import FrameType

from workers import lifeline

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
# Exit code when the child had to be killed: like Dramatiq's own RET_KILLED.
KILLED = 1


class Supervisor:
    """Install with `install()` first thing, so a stop asked during start-up is kept."""

    def __init__(self, bound: float = 30.0) -> None:
        self.bound = bound
        self.deadline: float | None = None
        self.child: subprocess.Popen[bytes] | None = None
        self._signalled = False

    @property
    def stopping(self) -> bool:
        return self.deadline is not None

    def install(self) -> Supervisor:
        # Signals also wake `wait`'s select() through this pipe: a handler that
        # only sets a flag would leave a blocking wait waiting.
        read_end, write_end = os.pipe()
        os.set_blocking(read_end, False)
        os.set_blocking(write_end, False)
        self._wake = read_end
        signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
        for signum in (*STOP_SIGNALS, signal.SIGHUP):
            signal.signal(signum, self._on_signal)
        return self

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if signum == signal.SIGHUP:
            # Dramatiq reloads its workers on SIGHUP; that is no stop.
            if self.child is not None and not self.stopping:
                self.child.send_signal(signal.SIGHUP)
            return
        if self.deadline is None:
            self.deadline = time.monotonic() + self.bound
        self._stop_child()

    def _stop_child(self) -> None:
        if self.child is not None and not self._signalled:
            self._signalled = True
            self.child.send_signal(signal.SIGTERM)

    def start(self, command: Sequence[str]) -> None:
        """Start `command`; call before this process starts any thread."""
        parent = os.getpid()
        # preexec_fn runs between fork and exec, which is unsafe once threads run.
        self.child = subprocess.Popen(  # noqa: S603
            command,
            start_new_session=True,
            preexec_fn=lambda: lifeline.die_with_parent(parent),
        )
        if self.stopping:  # asked while we were starting it
            self._stop_child()

    def wait(self) -> int:
        """Wait for the child's end; 0 when it ended cleanly (also when we stopped it)."""
        if self.child is None:
            raise RuntimeError("start() the child first")
        pidfd = os.pidfd_open(self.child.pid)
        try:
            while (code := self.child.poll()) is None:
                timeout = None
                if self.deadline is not None:
                    timeout = self.deadline - time.monotonic()
                    if timeout <= 0:
                        return self._kill()
                select.select([pidfd, self._wake], [], [], timeout)
                self._drain()
        finally:
            os.close(pidfd)
        # Killed by the SIGTERM we sent before it could install its handlers:
        # it had started nothing yet (Dramatiq blocks signals before forking).
        if self._signalled and code == -signal.SIGTERM:
            return 0
        return code

    def _kill(self) -> int:
        if self.child is None:
            raise RuntimeError("no child to kill")
        log.warning("%s did not stop within %s s: killing it", self.child.args, self.bound)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.child.pid, signal.SIGKILL)
        self.child.wait()
        return KILLED

    def _drain(self) -> None:
        try:
            while os.read(self._wake, 512):
                pass
        except BlockingIOError:
            pass
