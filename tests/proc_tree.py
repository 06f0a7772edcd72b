"""Reading a process's descendants from /proc, to check none outlives a stop."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_PROC = Path("/proc")


@dataclass(frozen=True, slots=True)
class Proc:
    """A process as /proc shows it; the start time tells a reused pid from the original."""

    pid: int
    ppid: int
    state: str
    started: int


def _read(pid: int) -> Proc | None:
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name is in parentheses and may hold spaces or ')': split after the last one.
    fields = stat[stat.rindex(")") + 2 :].split()
    return Proc(pid=pid, ppid=int(fields[1]), state=fields[0], started=int(fields[19]))


def _everyone() -> list[Proc]:
    procs = (_read(int(entry)) for entry in os.listdir(_PROC) if entry.isdigit())
    return [proc for proc in procs if proc is not None]


def descendants(root: int) -> set[Proc]:
    """The living descendants of `root` (children, their children...)."""
    by_parent: dict[int, list[Proc]] = {}
    for proc in _everyone():
        by_parent.setdefault(proc.ppid, []).append(proc)
    found: set[Proc] = set()
    stack = [root]
    while stack:
        for child in by_parent.get(stack.pop(), []):
            if is_alive(child):
                found.add(child)
                stack.append(child.pid)
    return found


def is_alive(proc: Proc) -> bool:
    """Still running: a zombie (dead, not yet reaped by whoever adopted it) counts as gone."""
    now = _read(proc.pid)
    return now is not None and now.started == proc.started and now.state not in ("Z", "X")


def still_alive(procs: set[Proc]) -> set[Proc]:
    return {proc for proc in procs if is_alive(proc)}
