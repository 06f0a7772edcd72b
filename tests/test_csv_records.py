"""Reading CSV records: every line is a row or a named problem, whatever its quotes."""

from __future__ import annotations

import io

from nurture.imports.records import BROKEN_QUOTE, MAX_RECORD_LINES, Record, read_records


def records(text: str, delimiter: str = ",") -> list[Record]:
    return list(read_records(io.StringIO(text, newline="\n"), delimiter=delimiter))


def test_a_quote_open_to_the_end_of_the_file_costs_its_own_line_only() -> None:
    found = records('email,name\na@x.example,"A\nb@x.example,B\nc@x.example,C\n')
    assert found == [
        Record(1, ["email", "name"]),
        Record(2, [], BROKEN_QUOTE),
        Record(3, ["b@x.example", "B"]),
        Record(4, ["c@x.example", "C"]),
    ]


def test_values_spanning_lines_and_doubled_quotes_are_read_as_csv() -> None:
    found = records('email;notes\r\na@x.example;"one\r\n""two"";three"\r\nb@x.example;x\r\n', ";")
    assert found == [
        Record(1, ["email", "notes"]),
        Record(2, ["a@x.example", 'one\r\n"two";three']),
        Record(4, ["b@x.example", "x"]),
    ]


def test_a_multi_line_record_with_the_wrong_number_of_cells_is_a_broken_quote() -> None:
    # The quote opened on line 2 closes cleanly on line 3, but the "row" it makes
    # has one cell where the header has two: lines 3 was a row of its own.
    found = records('email,name\n"a@x.example,A\nb@x.example,B"\n')
    assert [(r.line, r.problem) for r in found] == [(1, None), (2, BROKEN_QUOTE), (3, None)]
    assert found[2].cells == ["b@x.example", 'B"']


def test_every_line_broken_is_every_line_reported_and_the_read_stays_bounded() -> None:
    lines = MAX_RECORD_LINES * 3
    found = records("email\n" + "".join(f'"p{n}@x.example\n' for n in range(lines)))
    assert [r.line for r in found] == list(range(1, lines + 2))
    assert all(r.problem == BROKEN_QUOTE for r in found[1:])


def test_a_stray_carriage_return_is_a_problem_of_its_line() -> None:
    found = records("email,name\na@x.example,A\rB\nb@x.example,B\n")
    assert [(r.line, r.problem is not None) for r in found] == [(1, False), (2, True), (3, False)]
