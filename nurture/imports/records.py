"""Splitting CSV text into records: a broken quote costs one line, never the rest of the file.

Python's csv reader treats a quote that is never closed as a value running to
the end of the file: every line after it vanishes into one cell, and an import
reports fewer rows than the file has. Here each record's extent is found
first: a quoted value may span lines (that is valid CSV: notes, addresses), but
only when it closes cleanly within MAX_RECORD_LINES lines and the record then
has as many cells as the first one (the header). Otherwise the record's first
line is reported as a problem and reading starts again on the next line, so
every line is either a row or a named problem.
"""

from __future__ import annotations

import csv
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

QUOTE = '"'
# A real multi-line value (a note, an address) is a few lines long; a quote still
# open after this many lines is a broken one, and the cap keeps a file full of
# broken quotes linear to read.
MAX_RECORD_LINES = 100
BROKEN_QUOTE = (
    'has a quote (") that is not closed where its value should end; '
    "the line is skipped and the lines after it are read on their own"
)


@dataclass(frozen=True, slots=True)
class Record:
    """One CSV record: `line` is where it starts; `problem` says why it has no cells."""

    line: int
    cells: list[str]
    problem: str | None = None


def read_records(lines: Iterable[str], *, delimiter: str = ",") -> Iterator[Record]:
    """The records of `lines` (physical lines with their endings, the first is line 1).

    Every non-blank line ends up in exactly one record; a record with a
    problem holds no cells.
    """
    numbered = enumerate(lines, start=1)
    pending: deque[tuple[int, str]] = deque()
    parse = _Parser(delimiter)
    width: int | None = None
    while True:
        first = pending.popleft() if pending else next(numbered, None)
        if first is None:
            return
        taken = [first]
        still_open, malformed = _scan(first[1], delimiter, in_quotes=False)
        while still_open and len(taken) < MAX_RECORD_LINES:
            following = pending.popleft() if pending else next(numbered, None)
            if following is None:
                break
            taken.append(following)
            still_open, bad = _scan(following[1], delimiter, in_quotes=True)
            malformed = malformed or bad
        record = parse(first[0], [text for _, text in taken])
        spans_lines = len(taken) > 1
        if still_open or (
            spans_lines and (malformed or (width is not None and len(record.cells) != width))
        ):
            pending.extendleft(reversed(taken[1:]))
            yield Record(first[0], [], BROKEN_QUOTE)
            continue
        if width is None and record.problem is None and any(record.cells):
            width = len(record.cells)
        yield record


class _Parser:
    """One csv reader fed record by record: building a reader per line costs more than reading."""

    def __init__(self, delimiter: str) -> None:
        self._lines: deque[str] = deque()
        self._reader = csv.reader(self, delimiter=delimiter)

    def __iter__(self) -> _Parser:
        return self

    def __next__(self) -> str:
        # Empty between records: the reader sees the end of its input and is fed again later.
        if not self._lines:
            raise StopIteration
        return self._lines.popleft()

    def __call__(self, line: int, texts: list[str]) -> Record:
        self._lines.extend(texts)
        try:
            cells = next(self._reader, [])
        except csv.Error as exc:
            self._lines.clear()
            return Record(line, [], f"is not valid CSV: {exc}")
        if self._lines:  # a stray carriage return inside the line split it
            self._lines.clear()
            return Record(line, [], "is not valid CSV: holds a line break outside quotes")
        return Record(line, cells)


def _scan(text: str, delimiter: str, *, in_quotes: bool) -> tuple[bool, bool]:
    """(quote still open at the end of `text`, text followed a closing quote).

    Follows the csv module's reading: a quote opens a value only as the value's
    first character, `""` inside quotes is a quote, and a closing quote should
    be followed by the delimiter or the line's end.
    """
    if not in_quotes and QUOTE not in text:
        return False, False
    end = len(text.rstrip("\r\n"))
    malformed = False
    i = 0
    while True:
        if in_quotes:
            close = text.find(QUOTE, i)
            if close < 0:
                return True, malformed
            if text.startswith(QUOTE, close + 1):
                i = close + 2
                continue
            in_quotes = False
            i = close + 1
            if i < end and text[i] != delimiter:
                malformed = True
        elif text.startswith(QUOTE, i):
            in_quotes = True
            i += 1
            continue
        # Unquoted text up to the next delimiter, where a new value starts.
        comma = text.find(delimiter, i, end)
        if comma < 0:
            return False, malformed
        i = comma + 1
