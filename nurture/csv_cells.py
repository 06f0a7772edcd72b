"""Writing CSV that spreadsheets open safely: no cell of ours is read as a formula.

Excel, LibreOffice and Google Sheets evaluate a cell whose text starts with
`=`, `+`, `-` or `@` (and tab or CR, which some of them skip first), so a
contact named `=HYPERLINK(...)` would become a live link, or worse, in the
marketer's spreadsheet. Following OWASP's CSV-injection rule such a cell gets a
leading single quote, which the spreadsheets take as "this is text".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import IO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A plain negative number ("-2", "-0.5") is read by every spreadsheet as that
# number: with nothing after the digits there is no operator, reference or
# function to run, so it stays a number instead of turning into the text "'-2".
# Anything longer ("-2+3", "-1e5", "- 2") is quoted like any other formula start.
_PLAIN_NEGATIVE = re.compile(r"-[0-9]+(?:\.[0-9]+)?")
_NEEDS_QUOTES = re.compile(r'[,;\t"\r\n]')


def safe_cell(value: object) -> object:
    """`value` as a spreadsheet should show it: text that would start a formula gets a `'`.

    Python numbers and None pass unchanged (they cannot hold a formula).
    """
    if (
        isinstance(value, str)
        and value.startswith(FORMULA_STARTS)
        and not _PLAIN_NEGATIVE.fullmatch(value)
    ):
        return f"'{value}"
    return value


class SafeWriter:
    """Writes rows as RFC 4180 CSV (comma, CRLF), every cell through `safe_cell`.

    A cell holding a semicolon or tab is quoted as well as one holding a comma:
    spreadsheets in many locales (German Excel among them) split a .csv on `;`,
    and an unquoted `x;=HYPERLINK(...)` would start a formula in the next column.
    """

    def __init__(self, out: IO[str]) -> None:
        self._out = out

    def writerow(self, row: Iterable[object]) -> None:
        self._out.write(",".join(_field(safe_cell(value)) for value in row) + "\r\n")


def _field(value: object) -> str:
    text = "" if value is None else str(value)
    if _NEEDS_QUOTES.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_writer(out: IO[str]) -> SafeWriter:
    """The writer every CSV export uses (member lists, rejected lines, reports)."""
    return SafeWriter(out)
