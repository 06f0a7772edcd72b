"""The cell rule of every CSV export: text that a spreadsheet would evaluate is written as text."""

from __future__ import annotations

import csv
import io

import pytest

from nurture.csv_cells import csv_writer, safe_cell


@pytest.mark.parametrize(
    "value",
    ['=HYPERLINK("http://evil.example","x")', "+1+1", "@SUM(A1)", "-2+3", "\t=1", "\r=1", "-"],
)
def test_text_starting_a_formula_gets_a_leading_quote(value: str) -> None:
    assert safe_cell(value) == f"'{value}"


@pytest.mark.parametrize("value", ["-2", "-0.5", "a=b", "", "Kanzlei", 3, -3, 1.5, None])
def test_plain_values_and_negative_numbers_stay_as_they_are(value: object) -> None:
    assert safe_cell(value) == value


def test_the_writer_neutralises_every_cell_and_stays_valid_csv() -> None:
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(["line", "reason"])
    writer.writerow([3, '=cmd|" /C calc"!A0: is not an e-mail'])
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows == [["line", "reason"], ["3", '\'=cmd|" /C calc"!A0: is not an e-mail']]


def test_a_cell_holding_a_semicolon_is_quoted_for_spreadsheets_that_split_on_it() -> None:
    out = io.StringIO()
    csv_writer(out).writerow(["Kanzlei;=HYPERLINK(1)", "a,b", 'say "hi"', None, 2.5, -1])
    assert out.getvalue() == '"Kanzlei;=HYPERLINK(1)","a,b","say ""hi""",,2.5,-1\r\n'
    assert next(csv.reader(io.StringIO(out.getvalue())))[0] == "Kanzlei;=HYPERLINK(1)"
