"""After a webinar: who attended and who did not, from a CSV export or the API.

Each marked contact gets a `webinar.attended` or `webinar.no_show` event (at most one
of each per webinar, by idempotency key) and their registration's state, which
sequence branches read through the ordinary event condition. Rules:

- attended wins: a later "no" never turns an attended contact into a no-show;
- an attendee who had not registered (a forwarded link) gets a registration row
  marked attended, without taking a seat (the event is over);
- `mark_rest_no_show` marks every registration still without an outcome as a no-show;
- rows naming an unknown address or holding bad values are reported (CSV by line,
  API by index) and skipped; the valid rows are still recorded.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from nurture.contacts.addresses import normalise_email
from nurture.errors import Conflict, InvalidInput, NotFound, Problem
from nurture.event_writes import find_contacts_by_email
from nurture.events import EventInput, ingest
from nurture.imports.records import read_records
from nurture.models import Attendance, Contact, Webinar, WebinarRegistration

MAX_ROWS = 50_000
_YES = frozenset({"yes", "y", "true", "1", "attended", "да"})
_NO = frozenset({"no", "n", "false", "0", "no_show", "no-show", "нет"})


@dataclass(frozen=True, slots=True)
class Mark:
    """One reported attendee. `index` is the CSV line or the API item it came from."""

    index: int
    email: str
    attended: bool
    minutes: int | None = None


@dataclass(slots=True)
class Report:
    attended: int = 0
    no_show: int = 0
    problems: list[Problem] = field(default_factory=list)
    # The events stored by this call, for the caller to hand to the event workers.
    event_ids: list[int] = field(default_factory=list)


def marks_from_csv(data: bytes) -> tuple[list[Mark], list[Problem]]:
    """Rows of a CSV with a header naming `email` and `attended` (yes/no) or `duration`
    (minutes; above zero means attended). Problems name the line (header = line 1)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput.single("file", "is not UTF-8 text; save it as 'CSV UTF-8'") from None
    records = read_records(io.StringIO(text))
    first = next(records, None)
    header = [h.strip().lower() for h in first.cells] if first else []
    if "email" not in header or not {"attended", "duration"} & set(header):
        raise InvalidInput.single(
            "file", "line 1 must name the columns: email, and attended or duration"
        )
    raw: list[tuple[int, dict[str, object]]] = []
    unreadable: list[Problem] = []
    for record in records:
        if record.problem is not None:
            # A broken quote costs its own line, reported, never the lines after it.
            unreadable.append(Problem("line", record.problem, record.line))
            continue
        cells = record.cells
        if not any(c.strip() for c in cells):
            continue
        row: dict[str, object] = dict(zip(header, (c.strip() for c in cells), strict=False))
        raw.append((record.line, row))
        if len(raw) > MAX_ROWS:
            raise InvalidInput.single("file", f"holds more than {MAX_ROWS} rows")
    marks, problems = _marks(raw)
    return marks, unreadable + problems


def marks_from_items(items: object) -> tuple[list[Mark], list[Problem]]:
    """API items `{"email": ..., "attended": true|false, "minutes": N}` (minutes optional);
    problems name the item's index."""
    if not isinstance(items, list):
        raise InvalidInput.single("attendees", "must be a list of {email, attended}")
    if len(items) > MAX_ROWS:
        raise InvalidInput.single("attendees", f"must hold at most {MAX_ROWS} items")
    raw: list[tuple[int, dict[str, object]]] = []
    problems: list[Problem] = []
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            problems.append(Problem("", "must be an object", index))
            continue
        unknown = sorted(str(k) for k in item if k not in ("email", "attended", "minutes"))
        if unknown:
            problems.append(Problem(unknown[0], "is not a known field", index))
            continue
        raw.append((index, dict(item)))
    marks, more = _marks(raw)
    return marks, problems + more


def record_attendance(
    session: Session,
    webinar_id: int,
    marks: Sequence[Mark],
    *,
    now: datetime,
    mark_rest_no_show: bool = False,
    problems: Iterable[Problem] = (),
) -> Report:
    """Record the marks (and optionally every other registration as a no-show); answers
    counts and problems (unknown addresses added to `problems`). The caller commits.

    NotFound for an unknown webinar; Conflict before the webinar has started.
    """
    webinar = session.get(Webinar, webinar_id)
    if webinar is None:
        raise NotFound("webinar", webinar_id)
    if webinar.starts_at > now:
        raise Conflict("attendance can be reported once the webinar has started")
    report = Report(problems=list(problems))
    ids = find_contacts_by_email(session, sorted({m.email for m in marks}))
    rows = {
        r.contact_id: r
        for r in session.scalars(
            select(WebinarRegistration).where(WebinarRegistration.webinar_id == webinar_id)
        )
    }
    # Attended wins within one upload too, whatever the order of the rows.
    outcome: dict[int, Mark] = {}
    for mark in marks:
        contact_id = ids.get(mark.email)
        if contact_id is None:
            report.problems.append(Problem("email", "no contact has this address", mark.index))
            continue
        if contact_id not in outcome or mark.attended:
            outcome[contact_id] = mark
    ended = min(now, webinar.starts_at + timedelta(minutes=webinar.duration_minutes))
    events: list[EventInput] = []
    for contact_id, mark in outcome.items():
        row = rows.get(contact_id)
        if row is None:
            if not mark.attended:
                continue  # not registered and not there: nothing to say
            row = WebinarRegistration(webinar_id=webinar_id, contact_id=contact_id)
            row.registered_at = now
            session.add(row)
            rows[contact_id] = row
        if row.attendance == Attendance.ATTENDED.value and not mark.attended:
            continue
        row.attendance = (Attendance.ATTENDED if mark.attended else Attendance.NO_SHOW).value
        row.attendance_at = now
        if mark.minutes is not None:
            row.minutes_attended = mark.minutes
        events.append(_event(webinar, contact_id, mark.attended, ended, mark.minutes))
    session.flush()
    if mark_rest_no_show:
        rest = session.scalars(
            update(WebinarRegistration)
            .where(
                WebinarRegistration.webinar_id == webinar_id,
                WebinarRegistration.attendance == Attendance.REGISTERED.value,
            )
            .values(attendance=Attendance.NO_SHOW.value, attendance_at=now)
            .returning(WebinarRegistration.contact_id)
        ).all()
        events += [_event(webinar, contact_id, False, ended, None) for contact_id in rest]
    if events:
        stored = ingest(session, list(enumerate(events)), source="webinars")
        report.event_ids = stored.stored_event_ids
    report.attended = sum(1 for e in events if e.type == "webinar.attended")
    report.no_show = len(events) - report.attended
    return report


def _event(
    webinar: Webinar, contact_id: int, attended: bool, when: datetime, minutes: int | None
) -> EventInput:
    kind = "webinar.attended" if attended else "webinar.no_show"
    properties: dict[str, object] = {"webinar_id": webinar.id, "topic": webinar.topic}
    if minutes is not None:
        properties["minutes"] = minutes
    return EventInput(kind, when, properties, f"{kind}:{webinar.id}:{contact_id}", contact_id)


def _marks(raw: Iterable[tuple[int, Mapping[str, object]]]) -> tuple[list[Mark], list[Problem]]:
    marks: list[Mark] = []
    problems: list[Problem] = []
    for index, row in raw:
        email = row.get("email")
        try:
            address = normalise_email(email) if isinstance(email, str) else None
        except ValueError:
            address = None
        if address is None:
            problems.append(Problem("email", "must be an e-mail address", index))
            continue
        try:
            minutes = _minutes(row.get("minutes", row.get("duration")))
        except ValueError:
            name = "minutes" if "minutes" in row else "duration"
            problems.append(Problem(name, "must be a whole number of minutes", index))
            continue
        attended = _yes_no(row.get("attended"))
        if attended is None and minutes is not None:
            attended = minutes > 0
        if attended is None:
            problems.append(Problem("attended", "must be yes or no", index))
            continue
        marks.append(Mark(index, address, attended, minutes))
    return marks, problems


def _yes_no(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _YES:
            return True
        if word in _NO:
            return False
    return None


def _minutes(value: object) -> int | None:
    """Minutes as a number, None when absent; ValueError when not a whole number."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100_000:
        raise ValueError("not minutes")
    return value


@dataclass(frozen=True, slots=True)
class RosterLine:
    contact_id: int
    email: str | None
    name: str
    registered_at: datetime
    attendance: str
    minutes: int | None


def roster(session: Session, webinar_id: int, *, limit: int = 2000) -> list[RosterLine]:
    """The webinar's registrations with who they are and whether they came, by time."""
    rows = session.execute(
        select(WebinarRegistration, Contact.email, Contact.first_name, Contact.last_name)
        .join(Contact, Contact.id == WebinarRegistration.contact_id)
        .where(WebinarRegistration.webinar_id == webinar_id)
        .order_by(WebinarRegistration.registered_at, WebinarRegistration.id)
        .limit(limit)
    )
    return [
        RosterLine(
            r.contact_id,
            email,
            " ".join(p for p in (first, last) if p),
            r.registered_at,
            r.attendance,
            r.minutes_attended,
        )
        for r, email, first, last in rows
    ]
