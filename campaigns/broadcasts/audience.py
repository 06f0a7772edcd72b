"""Freezing a broadcast's audience into recipients, and when each one is due.

The audience is copied in one INSERT ... SELECT (from the segment's members, or the
list), so a contact joining the segment later does not get it and one leaving does.
With a test phase, the test group is exactly `test_percent` of the recipients, those
with the smallest keyed hash of the experiment's salt (the same contacts on every run),
split across the variants by `assign.choose`, which records their exposures; the
rest wait, with no variant, for the decision.

Due times are set per time zone, not per contact: one UPDATE for each zone present.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta, tzinfo

from sqlalchemy import ColumnElement, Subquery, func, insert, literal, select, update
from sqlalchemy.orm import Session

from campaigns.broadcasts.definition import quiet_window
from campaigns.experiments.assign import Member, bucket, choose
from campaigns.experiments.store import start_experiment
from campaigns.sequences.definition import Window
from campaigns.sequences.waits import next_allowed
from nurture.contacts.zones import zone
from nurture.models import (
    Broadcast,
    BroadcastRecipient,
    Contact,
    Experiment,
    RecipientPhase,
    RecipientState,
    SegmentMember,
)
from nurture.sqlsets import among

CHUNK = 5000
CONTROL = "a"


def message_key(broadcast_id: int, contact_id: int) -> str:
    """The idempotency key of a recipient's e-mail (and its exposure's message key)."""
    return f"bc:{broadcast_id}:{contact_id}"


def freeze(
    session: Session, broadcast: Broadcast, experiment: Experiment | None, *, now: datetime
) -> int:
    """Write the recipients of `broadcast` and start its experiment; answers how many.
    The caller commits."""
    testing = experiment is not None and broadcast.test_percent is not None
    start = max(broadcast.send_at or now, now) if broadcast.local_time is None else now
    for source in _audience(session, broadcast):
        session.execute(
            insert(BroadcastRecipient).from_select(
                ["broadcast_id", "contact_id", "phase", "variant_key", "state", "due_at"],
                select(
                    literal(broadcast.id),
                    source.c.contact_id,
                    literal(RecipientPhase.REST.value if testing else RecipientPhase.ALL.value),
                    literal(None if testing else CONTROL),
                    literal(RecipientState.PENDING.value),
                    literal(start, BroadcastRecipient.due_at.type),
                ),
            )
        )
    if testing and experiment is not None:
        # Started as any experiment is (its plan fixed, its events read from now on,
        # audited), so the test group's exposures count.
        start_experiment(session, experiment.id, actor=broadcast.created_by or "broadcast", now=now)
        session.flush()
        _draw_test_group(session, broadcast, experiment, now=now)
    set_due(session, broadcast, phase=None, start=broadcast.send_at or now)
    total = _count(session, broadcast.id)
    broadcast.total = total
    return total


def set_due(session: Session, broadcast: Broadcast, *, phase: str | None, start: datetime) -> None:
    """Give the pending recipients (of one phase, or all) their due time from `start`:
    the next `local_time` in their zone, moved out of quiet hours; `start` itself
    when the broadcast has neither."""
    quiet = quiet_window(broadcast.quiet_hours)
    if broadcast.local_time is None and quiet is None:
        _update_due(session, broadcast.id, phase, None, start, by_zone=False)
        return
    zones = session.execute(
        select(Contact.time_zone)
        .join(BroadcastRecipient, BroadcastRecipient.contact_id == Contact.id)
        .where(_pending(broadcast.id, phase))
        .distinct()
    ).scalars()
    for name in list(zones):
        due = due_in_zone(start, zone(name), local_time=broadcast.local_time, quiet_hours=quiet)
        _update_due(session, broadcast.id, phase, name, due, by_zone=True)


def due_in_zone(
    start: datetime,
    tz: tzinfo,
    *,
    local_time: str | None,
    quiet_hours: tuple[str, str] | None,
) -> datetime:
    """The first moment at or after `start` that is `local_time` in `tz` (or `start`),
    then the first one outside quiet hours."""
    due = start
    if local_time is not None:
        hour, minute = (int(part) for part in local_time.split(":"))
        day = start.astimezone(tz).date()
        for offset in range(3):
            candidate = datetime.combine(day + timedelta(days=offset), time(hour, minute), tz)
            candidate = candidate.astimezone(UTC)
            if candidate >= start:
                due = candidate
                break
    if quiet_hours is not None:
        quiet = Window(_clock(quiet_hours[0]), _clock(quiet_hours[1]))
        due = next_allowed(due, tz, window=None, quiet=quiet)
    return due


def _draw_test_group(
    session: Session, broadcast: Broadcast, experiment: Experiment, *, now: datetime
) -> None:
    """The `test_percent` of the recipients with the smallest keyed hashes: exactly that
    many (a draw per contact would make a small audience's test group any size, even
    empty), the same contacts on every run; kept to their ids while streaming, so a
    large audience costs the test group's memory, not the audience's."""
    size = round(_count(session, broadcast.id) * (broadcast.test_percent or 0) / 100)
    if size <= 0:
        return
    # Its own key: being in the test group says nothing about which variant one gets.
    salt = f"{experiment.salt}:test"
    drawn = heapq.nsmallest(
        size,
        (
            (bucket(salt, cid), cid)
            for chunk in _contact_chunks(session, broadcast.id)
            for cid in chunk
        ),
    )
    group = sorted(cid for _, cid in drawn)
    for start in range(0, len(group), CHUNK):
        members = [
            Member(contact_id=cid, message_key=message_key(broadcast.id, cid))
            for cid in group[start : start + CHUNK]
        ]
        by_variant: dict[str, list[int]] = {}
        for cid, choice in choose(session, experiment.id, members, now=now).items():
            by_variant.setdefault(choice.variant_key, []).append(cid)
        for key, ids in by_variant.items():
            session.execute(
                update(BroadcastRecipient)
                .where(
                    BroadcastRecipient.broadcast_id == broadcast.id,
                    among(session, BroadcastRecipient.contact_id, ids, integers=True),
                )
                .values(phase=RecipientPhase.TEST.value, variant_key=key)
                .execution_options(synchronize_session=False)
            )


def _contact_chunks(session: Session, broadcast_id: int) -> Iterator[list[int]]:
    after = 0
    while True:
        chunk = list(
            session.scalars(
                select(BroadcastRecipient.contact_id)
                .where(
                    BroadcastRecipient.broadcast_id == broadcast_id,
                    BroadcastRecipient.contact_id > after,
                )
                .order_by(BroadcastRecipient.contact_id)
                .limit(CHUNK)
            )
        )
        if not chunk:
            return
        yield chunk
        after = chunk[-1]


def _audience(session: Session, broadcast: Broadcast) -> Iterator[Subquery]:
    """The contact ids of the audience as it is now (contacts without an address, such
    as erased ones, left out): the segment in one piece, a list in chunks (SQLite takes
    only so many parameters in one statement: 32,766 unless built with more)."""
    if broadcast.segment_id is not None:
        yield (
            select(SegmentMember.contact_id.label("contact_id"))
            .join(Contact, Contact.id == SegmentMember.contact_id)
            .where(SegmentMember.segment_id == broadcast.segment_id, Contact.email.is_not(None))
            .subquery()
        )
        return
    ids = [int(c) for c in (broadcast.contact_ids or {}).get("ids", [])]
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        yield (
            select(Contact.id.label("contact_id"))
            .where(among(session, Contact.id, chunk, integers=True), Contact.email.is_not(None))
            .subquery()
        )


def _pending(broadcast_id: int, phase: str | None) -> ColumnElement[bool]:
    condition = (BroadcastRecipient.broadcast_id == broadcast_id) & (
        BroadcastRecipient.state == RecipientState.PENDING.value
    )
    if phase is not None:
        condition = condition & (BroadcastRecipient.phase == phase)
    return condition


def _update_due(
    session: Session,
    broadcast_id: int,
    phase: str | None,
    zone_name: str | None,
    due: datetime,
    *,
    by_zone: bool,
) -> None:
    stmt = update(BroadcastRecipient).where(_pending(broadcast_id, phase))
    if by_zone:
        in_zone = (
            Contact.time_zone.is_(None) if zone_name is None else Contact.time_zone == zone_name
        )
        stmt = stmt.where(BroadcastRecipient.contact_id.in_(select(Contact.id).where(in_zone)))
    session.execute(stmt.values(due_at=due).execution_options(synchronize_session=False))


def _count(session: Session, broadcast_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(BroadcastRecipient)
            .where(BroadcastRecipient.broadcast_id == broadcast_id)
        )
        or 0
    )


def _clock(text: str) -> time:
    hour, minute = (int(part) for part in text.split(":"))
    return time(hour, minute)
