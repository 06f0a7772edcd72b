"""Reading contact CSV files: whole-file checks, rows with their line numbers, column mapping.

A file is refused as a whole (CsvProblem, naming the line) when it is not
UTF-8, its header cannot be read, it is empty or it repeats a column name; such
problems are found by `inspect_csv` before an import writes anything. A data
line that cannot be read (a broken quote) is a row with a problem, which the
import reports as rejected (see records.py).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from nurture.errors import InvalidInput, Problem
from nurture.imports.records import Record, read_records

IGNORE = "-"
ATTRIBUTE_PREFIX = "attributes."
# Contact columns a CSV column can fill directly.
CONTACT_TARGETS = (
    "email",
    "first_name",
    "last_name",
    "title",
    "phone",
    "time_zone",
    "locale",
    "lifecycle_stage",
)
# CSV target -> field of the contact's company.
COMPANY_TARGETS = {
    "company": "name",
    "company_domain": "domain",
    "industry": "industry",
    "size_band": "size_band",
    "country": "country",
}
TARGETS = (*CONTACT_TARGETS, "owner_email", *COMPANY_TARGETS)

# Header spellings (lower-cased, runs of space/-/. turned into _) -> target.
_ALIASES = {
    **{name: name for name in TARGETS},
    "e_mail": "email",
    "email_address": "email",
    "e_mail_address": "email",
    "mail": "email",
    "first": "first_name",
    "firstname": "first_name",
    "given_name": "first_name",
    "last": "last_name",
    "lastname": "last_name",
    "surname": "last_name",
    "family_name": "last_name",
    "job_title": "title",
    "position": "title",
    "phone_number": "phone",
    "telephone": "phone",
    "mobile": "phone",
    "timezone": "time_zone",
    "tz": "time_zone",
    "language": "locale",
    "stage": "lifecycle_stage",
    "lifecycle": "lifecycle_stage",
    "owner": "owner_email",
    "company_name": "company",
    "organisation": "company",
    "organization": "company",
    "account": "company",
    "domain": "company_domain",
    "website": "company_domain",
    "company_website": "company_domain",
    "web": "company_domain",
    "company_size": "size_band",
    "size": "size_band",
    "employees": "size_band",
    "company_country": "country",
    "company_industry": "industry",
}
_SEPARATORS = re.compile(r"[\s\-./]+")
_SLUG_JUNK = re.compile(r"[^a-z0-9_]+")
_ATTRIBUTE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


class CsvProblem(InvalidInput):
    """The file as a whole cannot be imported; nothing was written."""

    def __init__(self, message: str) -> None:
        super().__init__([Problem("file", message)])


@dataclass(frozen=True, slots=True)
class CsvSummary:
    """What a first look at a file found: its columns, row count and a few sample rows."""

    headers: list[str]
    rows: int
    delimiter: str
    samples: list[list[str]]


# ---------------------------------------------------------------- the file


def inspect_csv(path: Path, *, sample_rows: int = 3) -> CsvSummary:
    """Check the whole file (UTF-8, a usable header) and count its rows.

    A row that cannot be read (a broken quote) still counts: the import reports
    it as rejected. Raises CsvProblem naming the line of the first file-level problem.
    """
    with path.open("rb") as handle:
        delimiter = _sniff_delimiter(handle)
        records = read_records(_decoded_lines(handle), delimiter=delimiter)
        headers = _read_headers(records)
        rows = 0
        samples: list[list[str]] = []
        for record in _data(records):
            rows += 1
            if record.problem is None and len(samples) < sample_rows:
                samples.append(record.cells)
    return CsvSummary(headers, rows, delimiter, samples)


def preview_csv(path: Path, *, sample_rows: int = 3) -> tuple[list[str], list[list[str]]]:
    """The headers and the first few readable rows, reading only the start of the file."""
    with path.open("rb") as handle:
        delimiter = _sniff_delimiter(handle)
        records = read_records(_decoded_lines(handle), delimiter=delimiter)
        headers = _read_headers(records)
        samples: list[list[str]] = []
        for record in _data(records):
            if len(samples) >= sample_rows:
                break
            if record.problem is None:
                samples.append(record.cells)
    return headers, samples


def iter_rows(path: Path, delimiter: str) -> Iterator[Record]:
    """Each non-blank data record (header = line 1); one with a `problem` has no cells."""
    with path.open("rb") as handle:
        records = read_records(_decoded_lines(handle), delimiter=delimiter)
        next(records, None)
        yield from _data(records)


def _data(records: Iterator[Record]) -> Iterator[Record]:
    """The records that are rows: blank lines are not."""
    return (r for r in records if r.problem is not None or any(r.cells))


def _sniff_delimiter(handle: IO[bytes]) -> str:
    """Comma, or semicolon/tab when the header uses those (spreadsheets in many locales do)."""
    first = handle.readline()
    handle.seek(0)
    counts = {d: first.count(d.encode()) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _decoded_lines(handle: IO[bytes]) -> Iterator[str]:
    """Lines decoded strictly as UTF-8 (a leading BOM dropped); errors name the line."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    for number, raw in enumerate(handle, start=1):
        try:
            text = decoder.decode(raw)
        except UnicodeDecodeError:
            raise CsvProblem(
                f"line {number}: is not UTF-8 text; save the file as 'CSV UTF-8' and try again"
            ) from None
        if number == 1:
            text = text.removeprefix("\ufeff")
        yield text


def _read_headers(records: Iterator[Record]) -> list[str]:
    record = next(records, None)
    if record is not None and record.problem is not None:
        raise CsvProblem(f"line 1: {record.problem}")
    first = record.cells if record else None
    if first is None or not any(cell.strip() for cell in first):
        raise CsvProblem("is empty: the first line must name the columns")
    headers = [cell.strip() for cell in first]
    seen: dict[str, int] = {}
    for position, header in enumerate(headers, start=1):
        if header and header.lower() in seen:
            raise CsvProblem(
                f"column {header!r} appears twice (columns {seen[header.lower()]} and {position})"
            )
        seen[header.lower()] = position
    return headers


# ---------------------------------------------------------------- mapping


def default_mapping(headers: Sequence[str]) -> dict[str, str]:
    """Each header mapped by name; unknown ones become custom attributes, blank ones ignored."""
    mapping: dict[str, str] = {}
    for header in headers:
        key = _SEPARATORS.sub("_", header.strip().lower()).strip("_")
        if not key:
            mapping[header] = IGNORE
        elif key in _ALIASES:
            mapping[header] = _ALIASES[key]
        else:
            slug = _SLUG_JUNK.sub("_", key).strip("_")[:64]
            if slug and slug[0].isdigit():
                slug = f"_{slug}"[:64]
            mapping[header] = f"{ATTRIBUTE_PREFIX}{slug}" if slug else IGNORE
    return mapping


def resolve_mapping(
    headers: Sequence[str], overrides: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The default mapping with `overrides` (header -> target) applied, checked.

    A target is a contact field, `owner_email`, a company field, `attributes.<name>`
    or "-" to skip the column. Raises InvalidInput naming `mapping.<header>`.
    """
    mapping = default_mapping(headers)
    problems: list[Problem] = []
    for header, target in (overrides or {}).items():
        target = target.strip()
        if header not in mapping:
            problems.append(
                Problem(f"mapping.{header}", f"the file has no such column ({', '.join(headers)})")
            )
        elif not _valid_target(target):
            problems.append(
                Problem(
                    f"mapping.{header}",
                    f"{target!r} is not a field: use one of {', '.join(TARGETS)}, "
                    "attributes.<name> or - to skip the column",
                )
            )
        else:
            mapping[header] = target
    taken: dict[str, str] = {}
    for header, target in mapping.items():
        if target == IGNORE:
            continue
        if target in taken:
            problems.append(
                Problem(
                    f"mapping.{header}",
                    f"columns {taken[target]!r} and {header!r} both fill {target}; "
                    f"map one of them to another field or to -",
                )
            )
        taken[target] = header
    if "email" not in taken and not problems:
        problems.append(Problem("mapping", "no column is mapped to email, which identifies a row"))
    if problems:
        raise InvalidInput(problems)
    return mapping


def _valid_target(target: str) -> bool:
    if target == IGNORE or target in TARGETS:
        return True
    name = target.removeprefix(ATTRIBUTE_PREFIX)
    return target.startswith(ATTRIBUTE_PREFIX) and bool(_ATTRIBUTE_KEY.match(name))
