"""Rendering budgets: how much output, work and time one render of one template may take.

A template is untrusted input, and the sandbox alone keeps it away from Python's
internals, not from the machine's memory and CPU: a replace, a format width or two
nested loops can build gigabytes or run for hours. Every render of a sandboxed
template (preview, test send, the check on save, real sends) gets a fresh `Budget`:

- output: characters written by expressions, plus the text of every loop, macro or
  call-block body each time it runs (intermediate output of macros and `{% set %}`
  blocks counts too, so nothing large is built in a buffer unseen);
- steps: loop iterations and calls (macros, methods), which also ends runaway
  recursion long before Python's stack does;
- time: a deadline checked at every step, filter and checked operation; nothing is
  interrupted from outside, so a render over budget ends with an error, never a
  killed process;
- size of any one value: checked before a string is built where its size can be
  known in advance (replace, %-format and str.format widths, join, padding), after
  the operation otherwise.

Going over raises `BudgetExceeded`, a SecurityError naming the limit, which the
renderer reports with the part and line like any refused operation.
"""

from __future__ import annotations

import re
import string
import time
from collections.abc import Iterable
from contextvars import ContextVar
from typing import Any

from jinja2.exceptions import SecurityError

MAX_OUTPUT_CHARS = 2_000_000
MAX_VALUE_LENGTH = 1_000_000
MAX_STEPS = 200_000
MAX_SECONDS = 2.0
# Integers stay within what `str()` can print anyway (about 4,300 digits).
MAX_INT_BITS = 16_384

_CURRENT: ContextVar[Budget | None] = ContextVar("nurture_render_budget", default=None)

# %-conversions: optional mapping key, flags, width, precision, length modifier, type.
_PRINTF_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d*))?[hlL]?[a-zA-Z%]")
_DIGITS = re.compile(r"\d+")


class BudgetExceeded(SecurityError):
    """A render went over one of its budgets; the message names which."""


class Budget:
    """What one render has spent so far."""

    __slots__ = ("chars", "deadline", "steps")

    def __init__(self) -> None:
        self.chars = 0
        self.steps = 0
        self.deadline = time.monotonic() + MAX_SECONDS

    def step(self, chars: int = 0) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise BudgetExceeded(f"more than {MAX_STEPS:,} loop iterations and calls (the budget)")
        if chars:
            self.output(chars)
        self.check_time()

    def output(self, chars: int) -> None:
        self.chars += chars
        if self.chars > MAX_OUTPUT_CHARS:
            raise BudgetExceeded(f"output over {MAX_OUTPUT_CHARS:,} characters (the budget)")

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise BudgetExceeded(f"rendering took over {MAX_SECONDS:g} seconds (the budget)")


def current() -> Budget:
    """The running render's budget (a throwaway one outside a render, e.g. constant folding)."""
    return _CURRENT.get() or Budget()


def start() -> Any:
    """Give the render about to run a fresh budget; pass the result to `finish`."""
    return _CURRENT.set(Budget())


def finish(token: Any) -> None:
    _CURRENT.reset(token)


def too_long(length: int | None = None) -> BudgetExceeded:
    size = "" if length is None else f" ({length:,})"
    return BudgetExceeded(
        f"a value over {MAX_VALUE_LENGTH:,} characters or items{size} (the budget)"
    )


def check_size(value: object) -> None:
    """Refuse a string or collection longer than a value may be."""
    if isinstance(value, str | list | tuple | dict) and len(value) > MAX_VALUE_LENGTH:
        raise too_long(len(value))


def check_length(length: int) -> None:
    if length > MAX_VALUE_LENGTH:
        raise too_long(length)


def check_int(bits: int) -> None:
    if bits > MAX_INT_BITS:
        raise BudgetExceeded(f"a number over {MAX_INT_BITS:,} bits (the budget)")


def printed_length(value: object) -> int:
    """About how many characters `str(value)` has; BudgetExceeded, before building it, if too many.

    Containers can hold one long string many times over (`[s] * 100000`, lists of
    such lists), so their printed size is added up without printing them.
    """
    if isinstance(value, str):
        return len(value)
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item) + 2
        elif isinstance(item, list | tuple | set | frozenset):
            total += 2 + 2 * len(item)
            if total > MAX_VALUE_LENGTH:
                raise too_long()
            stack.extend(item)
        elif isinstance(item, dict):
            total += 2 + 4 * len(item)
            if total > MAX_VALUE_LENGTH:
                raise too_long()
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, int):
            total += item.bit_length() // 3 + 1
        else:
            total += len(str(item))
        if total > MAX_VALUE_LENGTH:
            raise too_long()
    return total


def check_replace(s: str, old: str, new: str, count: object = None) -> None:
    """Refuse a replace whose result would be too long, before building it."""
    times = s.count(old) if old else len(s) + 1
    if isinstance(count, int) and count >= 0:
        times = min(times, count)
    check_length(len(s) + times * (len(new) - len(old)))


def check_join(separator: str, items: Iterable[object]) -> None:
    """Refuse a join whose result would be too long, before building it."""
    total = -len(separator)
    for item in items:
        total += len(separator) + printed_length(item)
        check_length(total)


def check_printf(fmt: str, args: object) -> None:
    """Refuse `fmt % args` whose widths and precisions add up to too long a result."""
    total = len(fmt)
    for width, precision in _PRINTF_SPEC.findall(fmt):
        if width == "*" or precision == "*":
            raise BudgetExceeded("a '*' width or precision is not allowed in a format")
        total += int(width or 0) + int(precision or 0)
    values: Iterable[object]
    if isinstance(args, dict):
        values = args.values()
    elif isinstance(args, tuple | list):
        values = args
    else:
        values = (args,)
    for value in values:
        total += printed_length(value)
        check_length(total)


def check_str_format(fmt: str, args: Iterable[object]) -> None:
    """Refuse a `str.format` whose field widths and arguments add up to too long a result."""
    total = len(fmt)
    for value in args:
        total += printed_length(value)
        check_length(total)
    for _literal, _field, spec, _conversion in string.Formatter().parse(fmt):
        if not spec:
            continue
        if "{" in spec:
            raise BudgetExceeded("a width taken from an argument is not allowed in a format")
        total += sum(int(d) for d in _DIGITS.findall(spec))
    check_length(total)
