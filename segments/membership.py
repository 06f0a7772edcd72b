"""Keeping segment_members true: full refresh, incremental checks, enter/exit events.

Set-based: each segment costs one INSERT ... SELECT (who joined) and one
DELETE (who left), both RETURNING the rows they changed. Those rows are the
only source of segment.entered / segment.exited events, so each change is
announced exactly once, however many refreshes and checks run at once: a
row can be inserted or deleted by one statement only. Each event also
carries an idempotency key naming the membership period
(`segment:<id>:<contact>:entered:<since>`) as a second guard.

Feedback loops: the events emitted here are `segment.*` events, and
`check_after_events` ignores those when choosing segments to re-check. A
segment that depends on another is re-checked in the same call, after it
(dependency order), so nothing needs those events to propagate. Rules that
count `segment.*` events are therefore brought up to date by the periodic
full refresh only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Select, Table, delete, func, literal, select, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from nurture.event_writes import EventRow, insert_events
from nurture.models import Event, Segment, SegmentKind, SegmentMember, SegmentSizeHistory, utcnow
from nurture.models.base import UTCDateTime
from segments import pg_apply
from segments.compiler import RULE_FROM, compile_rule, contacts
from segments.schema import (
    Rule,
    parse_rule,
    referenced_event_types,
    referenced_segments,
    uses_activity,
)
from segments.sqlfuncs import prepare_connection
from segments.validation import dependency_graph, dependency_order, dependents

ENTERED = "segment.entered"
EXITED = "segment.exited"
EVENT_SOURCE = "segments"
members = cast(Table, SegmentMember.__table__)


@dataclass(slots=True)
class Change:
    """What one refresh or check changed in one segment."""

    segment_id: int
    entered: list[int] = field(default_factory=list)
    exited: list[int] = field(default_factory=list)
    event_ids: list[int] = field(default_factory=list)
    size: int | None = None  # set by full refreshes


def refresh_segment(session: Session, segment_id: int, *, now: datetime | None = None) -> Change:
    """Bring one dynamic segment's members up to date and record its size; the caller commits.

    A static list is left as it is (its size is still recorded).
    """
    now = now or utcnow()
    segment = session.get(Segment, segment_id)
    if segment is None:
        return Change(segment_id)
    if segment.kind == SegmentKind.DYNAMIC.value and segment.rule is not None:
        rule = _parsed((segment_id, segment.revision, segment.updated_at), segment.rule)
        if rule is None:
            raise RuntimeError("rule is None, but a stored dynamic rule parses")
        if session.get_bind().dialect.name == "postgresql":
            change = _refresh_postgres(session, segment_id, rule, now)
        else:
            change = apply_rule(session, segment_id, rule, now=now)
            change.size = _size(session, segment_id)
    else:
        change = Change(segment_id, size=_size(session, segment_id))
    session.add(SegmentSizeHistory(segment_id=segment_id, at=now, size=change.size))
    session.execute(update(Segment).where(Segment.id == segment_id).values(refreshed_at=now))
    return change


def refresh_order(session: Session, segment_ids: Iterable[int] | None = None) -> list[int]:
    """The given segments (default: every dynamic one) in the order to refresh them."""
    if segment_ids is None:
        segment_ids = session.scalars(
            select(Segment.id).where(Segment.kind == SegmentKind.DYNAMIC.value)
        )
    return dependency_order(dependency_graph(session), segment_ids)


def claim_due_segments(session: Session, *, now: datetime, every: timedelta) -> list[int]:
    """Dynamic segments due for their periodic refresh, claimed so that concurrent
    schedulers do not refresh the same segment twice; in refresh order."""
    due = (
        update(Segment)
        .where(
            Segment.kind == SegmentKind.DYNAMIC.value,
            (Segment.next_refresh_at.is_(None)) | (Segment.next_refresh_at <= now),
        )
        .values(next_refresh_at=now + every)
        .returning(Segment.id)
    )
    return refresh_order(session, list(session.scalars(due)))


def check_contacts(
    session: Session,
    contact_ids: Sequence[int],
    *,
    segment_ids: Iterable[int] | None = None,
    now: datetime | None = None,
) -> list[Change]:
    """Re-evaluate these contacts in the given dynamic segments (default: all), dependencies
    first, inserting and deleting their membership rows; the caller commits."""
    if not contact_ids:
        return []
    rules, graph = _load_segments(session)
    wanted = rules.keys() if segment_ids is None else set(segment_ids) & rules.keys()
    return _check(session, rules, graph, contact_ids, wanted, now or utcnow())


def check_after_events(
    session: Session, event_ids: Sequence[int], *, now: datetime | None = None
) -> list[Change]:
    """The incremental check for newly ingested events: re-check the contacts they
    touch in the segments those event types can affect (and the segments built on
    those). segment.* events are ignored, so emitted events never loop back."""
    if not event_ids:
        return []
    rows = session.execute(
        select(Event.contact_id, Event.type).where(
            Event.id.in_(list(event_ids)), Event.type.not_like("segment.%")
        )
    ).all()
    if not rows:
        return []
    types = {kind for _, kind in rows}
    rules, graph = _load_segments(session)
    touched = {
        sid
        for sid, rule in rules.items()
        if uses_activity(rule.root) or referenced_event_types(rule.root) & types
    }
    if not touched:
        return []
    affected = dependents(graph, touched) & rules.keys()
    contact_ids = [contact_id for contact_id, _ in rows]
    return _check(session, rules, graph, contact_ids, affected, now or utcnow(), touched)


def _check(
    session: Session,
    rules: dict[int, Rule],
    graph: dict[int, set[int]],
    contact_ids: Sequence[int],
    segment_ids: Iterable[int],
    now: datetime,
    direct: set[int] | None = None,
) -> list[Change]:
    """Check the contacts in segment_ids, dependencies first; those not in `direct`
    (default: all are) only when a segment they test changed."""
    segment_ids = list(segment_ids)
    if direct is None:
        direct = set(segment_ids)
    ids = sorted(set(contact_ids))
    changes: list[Change] = []
    moved: set[int] = set()
    for level in _levels(graph, dependency_order(graph, segment_ids)):
        # A segment reached only through its dependencies can change only if one of
        # them did, for these contacts; otherwise it need not be evaluated at all.
        due = [sid for sid in level if sid in direct or graph.get(sid, set()) & moved]
        if not due:
            continue
        done = _apply(session, [(sid, rules[sid]) for sid in due], now=now, contact_ids=ids)
        moved |= {c.segment_id for c in done if c.entered or c.exited}
        changes += done
    return changes


def _levels(graph: dict[int, set[int]], ordered: Sequence[int]) -> list[list[int]]:
    """The segments (in dependency order) in groups that can be applied together: a
    segment comes after every segment of the set whose membership it tests."""
    level: dict[int, int] = {}
    for sid in ordered:
        level[sid] = 1 + max((level[d] for d in graph.get(sid, set()) if d in level), default=-1)
    groups: list[list[int]] = [[] for _ in range(1 + max(level.values(), default=-1))]
    for sid in ordered:
        groups[level[sid]].append(sid)
    return groups


def apply_rule(
    session: Session,
    segment_id: int,
    rule: Rule,
    *,
    now: datetime,
    contact_ids: Sequence[int] | None = None,
) -> Change:
    """Insert who matches and is not a member, delete members who no longer match
    (only among `contact_ids` when given), and emit one event per changed row."""
    return _apply(session, [(segment_id, rule)], now=now, contact_ids=contact_ids)[0]


def _apply(
    session: Session,
    rules: Sequence[tuple[int, Rule]],
    *,
    now: datetime,
    contact_ids: Sequence[int] | None = None,
) -> list[Change]:
    """apply_rule for several segments none of which tests another's membership; on
    PostgreSQL one statement does all (pg_apply), elsewhere one rule at a time."""
    if session.get_bind().dialect.name == "postgresql":
        if contact_ids is None:
            return [_refresh_postgres(session, sid, rule, now) for sid, rule in rules]
        done = pg_apply.apply_rules(
            session, rules, now=now, event_source=EVENT_SOURCE, contact_ids=contact_ids
        )
        return [Change(sid, *done[sid]) for sid, _ in rules]
    return [_apply_generic(session, sid, rule, now, contact_ids) for sid, rule in rules]


def _refresh_postgres(session: Session, segment_id: int, rule: Rule, now: datetime) -> Change:
    done = pg_apply.refresh_rule(session, segment_id, rule, now=now, event_source=EVENT_SOURCE)
    return Change(segment_id, *done)


def _apply_generic(
    session: Session,
    segment_id: int,
    rule: Rule,
    now: datetime,
    contact_ids: Sequence[int] | None,
) -> Change:
    prepare_connection(session)
    matches = compile_rule(rule, now=now)
    joined = _joining(segment_id, matches, now, contact_ids)
    insert = sqlite.insert(members).from_select(["segment_id", "contact_id", "since"], joined)
    entered = list(session.scalars(insert.on_conflict_do_nothing().returning(members.c.contact_id)))
    still = (
        select(literal(1))
        .select_from(RULE_FROM)
        .where(contacts.c.id == members.c.contact_id, contacts.c.erased_at.is_(None), matches)
        .correlate(members)
    )
    leaving = delete(members).where(members.c.segment_id == segment_id, ~still.exists())
    if contact_ids is not None:
        leaving = leaving.where(members.c.contact_id.in_(list(contact_ids)))
    exited = session.execute(leaving.returning(members.c.contact_id, members.c.since)).all()
    rows = [event_row(segment_id, ENTERED, cid, since=now, now=now) for cid in sorted(entered)]
    rows += [event_row(segment_id, EXITED, cid, since=since, now=now) for cid, since in exited]
    event_ids = [i for i in insert_events(session, rows, source=EVENT_SOURCE) if i is not None]
    return Change(segment_id, sorted(entered), sorted(c for c, _ in exited), event_ids)


def _size(session: Session, segment_id: int) -> int:
    stmt = select(func.count()).select_from(members).where(members.c.segment_id == segment_id)
    return session.scalar(stmt) or 0


def _joining(
    segment_id: int, matches: ColumnElement[bool], now: datetime, contact_ids: Sequence[int] | None
) -> Select[int, int, datetime]:
    stmt = (
        select(literal(segment_id), contacts.c.id, literal(now, UTCDateTime()))
        .select_from(RULE_FROM)
        .where(contacts.c.erased_at.is_(None), matches)
    )
    if contact_ids is not None:
        # For a handful of contacts ON CONFLICT alone skips members cheaply; an
        # anti-join would only lengthen planning.
        return stmt.where(contacts.c.id.in_(list(contact_ids))).order_by(contacts.c.id)
    current = members.alias("current_members")
    already = (
        select(literal(1))
        .select_from(current)
        .where(current.c.segment_id == segment_id, current.c.contact_id == contacts.c.id)
        .correlate(contacts)
    )
    stmt = stmt.where(~already.exists())
    # One row order for every writer: concurrent inserts then wait on each other
    # instead of deadlocking on each other's keys.
    return stmt.order_by(contacts.c.id)


def event_row(
    segment_id: int, kind: str, contact_id: int, *, since: datetime, now: datetime
) -> EventRow:
    """The enter/exit event of one membership row; its key names the membership period."""
    stamp = since.strftime("%Y%m%dT%H%M%S.%f")
    verb = kind.removeprefix("segment.")
    return EventRow(
        contact_id=contact_id,
        type=kind,
        occurred_at=now,
        properties={"segment_id": segment_id},
        idempotency_key=f"segment:{segment_id}:{contact_id}:{verb}:{stamp}",
    )


# Parsed rules by segment id, revision and last update (ids alone can be reused by a
# new database or, on SQLite, after a delete): the incremental check, which runs for
# every ingested batch, then parses each rule once per process.
_Key = tuple[int, int, datetime]
_PARSED: dict[_Key, Rule | None] = {}


def _parsed(key: _Key, document: dict[str, Any] | None) -> Rule | None:
    if key not in _PARSED:
        if len(_PARSED) > 10_000:
            _PARSED.clear()
        _PARSED[key] = None if document is None else parse_rule(document)
    return _PARSED[key]


def _load_segments(session: Session) -> tuple[dict[int, Rule], dict[int, set[int]]]:
    """Parsed rules of the dynamic segments, and every segment's references.

    Reads ids and revisions; rule documents only of segments not parsed before."""
    listed = [
        (sid, kind, (sid, revision, updated))
        for sid, kind, revision, updated in session.execute(
            select(Segment.id, Segment.kind, Segment.revision, Segment.updated_at)
        )
    ]
    missing = [sid for sid, _, key in listed if key not in _PARSED]
    if missing:
        stmt = select(Segment.id, Segment.rule).where(Segment.id.in_(missing))
        documents: dict[int, dict[str, Any] | None] = {
            sid: document for sid, document in session.execute(stmt)
        }
        for sid, _, key in listed:
            if sid in documents:
                _parsed(key, documents[sid])
    rules: dict[int, Rule] = {}
    graph: dict[int, set[int]] = {}
    for segment_id, kind, key in listed:
        rule = _PARSED.get(key)
        graph[segment_id] = set() if rule is None else referenced_segments(rule.root)
        if rule is not None and kind == SegmentKind.DYNAMIC.value:
            rules[segment_id] = rule
    return rules, graph
