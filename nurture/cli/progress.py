"""Progress of a long command: a tqdm bar on a terminal, plain periodic lines otherwise.

A bar redraws itself with carriage returns, which a log file or a pipe keeps as
one garbled line per redraw; there we write whole lines instead, at most one
per `interval` seconds, plus one as each stage finishes.
"""

from __future__ import annotations

import io
import os
import sys
from time import monotonic
from types import TracebackType
from typing import Any, TextIO

from tqdm import tqdm

# Seconds between two plain lines; a stage's last line is always written.
LINE_INTERVAL = 5.0


class Progress:
    """Shows `label done of total unit` for each stage of a job, on stderr by default.

    Call `update(label, done, total)` as work advances; a new label or unit starts
    a new stage. Use it as a context manager (or call `close`) so the bar is cleared.
    """

    def __init__(
        self,
        *,
        unit: str,
        stream: TextIO | None = None,
        interval: float = LINE_INTERVAL,
        delay: float = 0.0,
    ) -> None:
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.interval = interval
        # A bar that would vanish within `delay` seconds is never drawn (nothing to add).
        self.delay = delay
        self.terminal = self.stream.isatty()
        self._bar: tqdm[Any] | None = None
        self._stage: tuple[str, str] | None = None
        self._last_line = -float("inf")
        self._last_done = -1

    def update(self, label: str, done: int, total: int, *, unit: str | None = None) -> None:
        unit = unit or self.unit
        if (label, unit) != self._stage:
            self._finish_stage()
            self._stage = (label, unit)
            self._last_done = -1
            if self.terminal:
                columns, rows = _size(self.stream)
                self._bar = tqdm(
                    total=total or None,
                    desc=f"{label} {unit}",
                    unit=f" {unit}",
                    file=self.stream,
                    leave=False,
                    delay=self.delay,
                    ncols=columns,
                    nrows=rows,
                )
        if self._bar is not None:
            if total and self._bar.total != total:
                self._bar.total = total
            self._bar.update(done - self._bar.n)
            return
        now = monotonic()
        finished = bool(total) and done >= total
        if done == self._last_done or not (finished or now - self._last_line >= self.interval):
            return
        self._last_line, self._last_done = now, done
        counted = f"{done:,} of {total:,}" if total else f"{done:,}"
        self.stream.write(f"{label} {counted} {unit}\n")
        self.stream.flush()

    def _finish_stage(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def close(self) -> None:
        self._finish_stage()

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _size(stream: TextIO) -> tuple[int | None, int | None]:
    """The terminal's columns and rows; None lets tqdm decide (no terminal behind it)."""
    try:
        size = os.get_terminal_size(stream.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        return None, None
    # A terminal that reports no size (a bare pty, some serial consoles) would get an
    # empty or hidden bar from tqdm.
    return size.columns or 80, size.lines or 24
