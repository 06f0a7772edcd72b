"""Child processes that end with their parent, however the parent ends.

Each process we or our servers start (Granian's web processes, the `dramatiq`
main process and its worker processes) calls `die_with_parent()` as it starts.

Why the kernel's parent-death signal (Linux `prctl(PR_SET_PDEATHSIG)`) and not a
watchdog thread that polls the parent pid: it also fires when the parent is
SIGKILLed, it needs no thread in every process, it reaches a child that is busy,
blocked or stopped, and it cannot be missed between two polls. Its limits, and
why they do not bite here:
- it fires when the *thread* that forked the child exits. Granian, Dramatiq and
  `nurture worker` all start their children from their main thread, whose end
  is the end of the process;
- it is not inherited by a fork, so every level arms it for itself; it is kept
  across exec (unless set-uid), so a child armed before exec stays armed;
- the parent may die between the fork and the arming: hence the parent pid
  check right after arming.
The signal is SIGKILL: it can be neither caught nor lost while a child is
still starting, and a killed child loses nothing, because the database, not
the process, holds the state (an interrupted message is redelivered or found
again by the tick, and every send has its idempotency key). A parent that ends
normally stops its children gracefully before it exits, so this is only the
net under an abrupt end.

On other systems this does nothing: Nurture runs on Linux.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1
# Looked up once at import, not in a forked child (see `die_with_parent`).
_libc = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None


def die_with_parent(parent_pid: int | None = None) -> None:
    """Have the kernel SIGKILL this process when its parent dies; exit now if it already has.

    Without `parent_pid` the parent is the multiprocessing parent of this
    process. Safe to call between fork and exec (`Popen(preexec_fn=...)`): it
    only makes a system call and compares two numbers.
    """
    if _libc is None:
        return
    if parent_pid is None:
        parent = multiprocessing.parent_process()
        if parent is None or parent.pid is None:
            return
        parent_pid = parent.pid
    if _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent_pid:
        # The parent died before we were armed: nobody will stop us any more.
        os._exit(1)
