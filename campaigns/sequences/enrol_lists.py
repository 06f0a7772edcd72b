"""Enrolling a list of people: contact ids and e-mail addresses, or a CSV file of addresses.

Each person is enrolled or skipped with a reason on their own; a bad id, a
malformed address or an unknown one never stops the others. Reasons are those
of `enrol.enrol_contacts` plus `invalid_email`, `unknown_email` and
`duplicate` (a CSV line repeating an earlier address).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.sequences.enrol import enrol_contacts
from nurture.contacts.addresses import normalise_email
from nurture.errors import InvalidInput, Problem
from nurture.event_writes import find_contacts_by_email
from nurture.imports.records import read_records
from nurture.models import Contact
from nurture.validation import is_id

MAX_PEOPLE = 10_000
MAX_CSV_LINES = 100_000
_BATCH = 1000


@dataclass(frozen=True, slots=True)
class Skip:
    """Someone not enrolled: why, and how they were named (id, e-mail, CSV line)."""

    reason: str
    contact_id: int | None = None
    email: str | None = None
    line: int | None = None


@dataclass(slots=True)
class ListEnrolment:
    enrolled: list[int] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)


def addresses(session: Session, *, contact_ids: Sequence[int]) -> dict[int, str | None]:
    """Contact id -> e-mail address (None when erased or never known), for reporting who a
    list enrolment took; ids of no contact are left out."""
    if not contact_ids:
        return {}
    rows = session.execute(
        select(Contact.id, Contact.email).where(Contact.id.in_(sorted(set(contact_ids))))
    )
    return {cid: email for cid, email in rows}


def enrol_people(
    session: Session,
    sequence_id: int,
    *,
    contact_ids: object = (),
    emails: object = (),
    now: datetime,
) -> ListEnrolment:
    """Enrol contacts named by id or by e-mail address. The caller commits.

    InvalidInput (naming `contact_ids[i]` / `emails[i]`) only when the lists
    themselves are malformed; Conflict when the sequence takes nobody.
    """
    ids = _id_list(contact_ids)
    addresses = _text_list(emails)
    if not ids and not addresses:
        raise InvalidInput.single("contact_ids", "name at least one contact by id or e-mail")
    skipped: list[Skip] = []
    wanted: dict[str, str] = {}  # normalised -> as given
    for raw in addresses:
        try:
            wanted.setdefault(normalise_email(raw), raw)
        except ValueError as exc:
            skipped.append(Skip(f"invalid_email: {exc}", email=raw))
    found = _find(session, list(wanted))
    skipped += [Skip("unknown_email", email=raw) for e, raw in wanted.items() if e not in found]
    by_email = {cid: email for email, cid in found.items()}
    everyone = list(dict.fromkeys([*ids, *by_email]))
    result = enrol_contacts(session, sequence_id, everyone, now=now)
    named_by_id = set(ids)
    skipped += [
        Skip(reason, contact_id=cid, email=None if cid in named_by_id else by_email[cid])
        for cid, reason in sorted(result.skipped.items())
    ]
    return ListEnrolment(result.enrolled, skipped)


def enrol_csv(session: Session, sequence_id: int, text: str, *, now: datetime) -> ListEnrolment:
    """Enrol the contacts named in the `email` column of a CSV; skips are reported by line.

    The first line must be a header with a column named `email` (any case).
    """
    records = read_records(io.StringIO(text))
    header = next(records, None)
    names = [cell.strip().lower() for cell in header.cells] if header else []
    if "email" not in names:
        raise InvalidInput.single("file", "line 1 must be a header with a column named email")
    column = names.index("email")
    skipped: list[Skip] = []
    first_line: dict[str, int] = {}
    for record in records:
        line = record.line
        if line > MAX_CSV_LINES:
            raise InvalidInput.single("file", f"at most {MAX_CSV_LINES} lines per upload")
        if record.problem is not None:
            # A broken quote costs its own line, reported, never the lines after it.
            skipped.append(Skip(f"unreadable: {record.problem}", line=line))
            continue
        row = record.cells
        raw = row[column].strip() if column < len(row) else ""
        if not raw and not any(cell.strip() for cell in row):
            continue
        try:
            email = normalise_email(raw)
        except ValueError as exc:
            skipped.append(Skip(f"invalid_email: {exc}", email=raw, line=line))
            continue
        if email in first_line:
            skipped.append(Skip(f"duplicate of line {first_line[email]}", email=email, line=line))
        else:
            first_line[email] = line
    found = _find(session, list(first_line))
    skipped += [
        Skip("unknown_email", email=email, line=line)
        for email, line in first_line.items()
        if email not in found
    ]
    result = enrol_contacts(session, sequence_id, found.values(), now=now)
    by_contact = {cid: email for email, cid in found.items()}
    skipped += [
        Skip(reason, contact_id=cid, email=by_contact[cid], line=first_line[by_contact[cid]])
        for cid, reason in result.skipped.items()
    ]
    skipped.sort(key=lambda skip: skip.line or 0)
    return ListEnrolment(result.enrolled, skipped)


def _find(session: Session, emails: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(emails), _BATCH):
        found.update(find_contacts_by_email(session, emails[start : start + _BATCH]))
    return found


def _id_list(raw: object) -> list[int]:
    items = _list(raw, "contact_ids")
    problems = [
        Problem("contact_ids", "must be a contact id (a positive integer)", index=index)
        for index, item in enumerate(items)
        if not is_id(item)
    ]
    if problems:
        raise InvalidInput(problems)
    return [item for item in items if isinstance(item, int)]


def _text_list(raw: object) -> list[str]:
    items = _list(raw, "emails")
    problems = [
        Problem("emails", "must be an e-mail address (text)", index=index)
        for index, item in enumerate(items)
        if not isinstance(item, str)
    ]
    if problems:
        raise InvalidInput(problems)
    return [str(item) for item in items]


def _list(raw: object, name: str) -> list[object]:
    if not isinstance(raw, (list, tuple)):
        raise InvalidInput.single(name, "must be a list")
    if len(raw) > MAX_PEOPLE:
        raise InvalidInput.single(name, f"holds {len(raw)} items; send at most {MAX_PEOPLE}")
    return list(raw)
