"""Static lists: contacts added and removed by hand or imported from a CSV of e-mails.

Adding and removing use the same membership rows as dynamic segments, so
they emit segment.entered / segment.exited the same way, once per change.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO, cast

from sqlalchemy import Table, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from nurture.contacts.addresses import normalise_email
from nurture.errors import Conflict, InvalidInput, Problem
from nurture.event_writes import find_contacts_by_email, insert_events, live_contact_ids
from nurture.imports.records import read_records
from nurture.models import Contact, Segment, SegmentKind, SegmentMember, utcnow
from segments.membership import ENTERED, EVENT_SOURCE, EXITED, Change, event_row
from segments.store import get_segment

MAX_IDS = 10_000
MAX_CSV_ROWS = 100_000
_BATCH = 1000
members = cast(Table, SegmentMember.__table__)


@dataclass(slots=True)
class CsvImport:
    """What a CSV import did: contacts added, already members, lines not used and why."""

    added: list[int] = field(default_factory=list)
    already_members: int = 0
    unknown: list[tuple[int, str]] = field(default_factory=list)  # (line, e-mail)
    invalid: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)
    event_ids: list[int] = field(default_factory=list)


def add_members(
    session: Session, segment_id: int, contact_ids: Sequence[int], *, now: datetime | None = None
) -> Change:
    """Add live contacts to a static list; unknown or erased ids reject the whole call."""
    _static(session, segment_id)
    ids = _checked_ids(contact_ids)
    live = live_contact_ids(session, ids)
    problems = [
        Problem("contact_ids", f"no contact with id {cid}", index=i)
        for i, cid in enumerate(ids)
        if cid not in live
    ]
    if problems:
        raise InvalidInput(problems)
    return _insert(session, segment_id, sorted(set(ids)), now or utcnow())


def remove_members(
    session: Session, segment_id: int, contact_ids: Sequence[int], *, now: datetime | None = None
) -> Change:
    """Remove contacts from a static list; ids that are not members are ignored."""
    _static(session, segment_id)
    ids = sorted(set(_checked_ids(contact_ids)))
    now = now or utcnow()
    gone = session.execute(
        delete(members)
        .where(members.c.segment_id == segment_id, members.c.contact_id.in_(ids))
        .returning(members.c.contact_id, members.c.since)
    ).all()
    rows = [event_row(segment_id, EXITED, cid, since=since, now=now) for cid, since in gone]
    event_ids = [i for i in insert_events(session, rows, source=EVENT_SOURCE) if i is not None]
    return Change(segment_id, exited=sorted(c for c, _ in gone), event_ids=event_ids)


def import_csv(
    session: Session, segment_id: int, source: str | TextIO, *, now: datetime | None = None
) -> CsvImport:
    """Add the contacts named by e-mail in a CSV to a static list.

    The e-mails are read from the column headed `email` (any case) or, without
    such a header, from the first column. Lines with unknown or malformed
    addresses are reported by line number, and so is a line with a broken quote
    (the lines after it are still read); the others are still added.
    """
    _static(session, segment_id)
    now = now or utcnow()
    lines = io.StringIO(source) if isinstance(source, str) else source
    result = CsvImport()
    wanted: dict[str, int] = {}
    column = 0
    for record in read_records(lines):
        line = record.line
        if line > MAX_CSV_ROWS:
            raise InvalidInput.single("file", f"at most {MAX_CSV_ROWS} lines per import")
        if record.problem is not None:
            result.invalid.append((line, record.problem))
            continue
        cells = [c.strip() for c in record.cells]
        if line == 1 and "email" in (c.lower() for c in cells):
            column = [c.lower() for c in cells].index("email")
            continue
        if not any(cells):
            continue
        raw = cells[column] if column < len(cells) else ""
        try:
            wanted.setdefault(normalise_email(raw), line)
        except ValueError as exc:
            result.invalid.append((line, f"email: {exc}"))
    found: dict[str, int] = {}
    addresses = list(wanted)
    for start in range(0, len(addresses), _BATCH):
        found.update(find_contacts_by_email(session, addresses[start : start + _BATCH]))
    live = _live(session, list(found.values()))
    result.unknown = sorted(
        (line, email) for email, line in wanted.items() if found.get(email) not in live
    )
    ids = sorted({found[e] for e in wanted if found.get(e) in live})
    change = Change(segment_id)
    for start in range(0, len(ids), _BATCH):
        part = _insert(session, segment_id, ids[start : start + _BATCH], now)
        change.entered += part.entered
        change.event_ids += part.event_ids
    result.added = change.entered
    result.already_members = len(ids) - len(change.entered)
    result.event_ids = change.event_ids
    return result


def _insert(session: Session, segment_id: int, ids: list[int], now: datetime) -> Change:
    if not ids:
        return Change(segment_id)
    insert = (
        postgresql.insert(members)
        if session.get_bind().dialect.name == "postgresql"
        else sqlite.insert(members)
    )
    added = list(
        session.scalars(
            insert.values([{"segment_id": segment_id, "contact_id": c, "since": now} for c in ids])
            .on_conflict_do_nothing()
            .returning(members.c.contact_id)
        )
    )
    rows = [event_row(segment_id, ENTERED, cid, since=now, now=now) for cid in sorted(added)]
    event_ids = [i for i in insert_events(session, rows, source=EVENT_SOURCE) if i is not None]
    return Change(segment_id, entered=sorted(added), event_ids=event_ids)


def _live(session: Session, ids: list[int]) -> set[int]:
    live: set[int] = set()
    for start in range(0, len(ids), _BATCH):
        chunk = ids[start : start + _BATCH]
        live |= set(
            session.scalars(
                select(Contact.id).where(Contact.id.in_(chunk), Contact.erased_at.is_(None))
            )
        )
    return live


def _static(session: Session, segment_id: int) -> Segment:
    segment = get_segment(session, segment_id)
    if segment.kind != SegmentKind.STATIC.value:
        raise Conflict(f"segment {segment_id} is dynamic: its rule decides who is in it")
    return segment


def _checked_ids(contact_ids: Sequence[int]) -> list[int]:
    if len(contact_ids) > MAX_IDS:
        raise InvalidInput.single("contact_ids", f"at most {MAX_IDS} ids at a time")
    bad = [
        Problem("contact_ids", "must be a positive whole number", index=i)
        for i, cid in enumerate(contact_ids)
        if isinstance(cid, bool) or not isinstance(cid, int) or cid < 1
    ]
    if bad:
        raise InvalidInput(bad)
    return list(contact_ids)
