"""Sending broadcasts: start the due ones, claim due recipients in batches, send a batch.

A claim is a SELECT of due pending recipients of one broadcast (`FOR UPDATE SKIP
LOCKED` on PostgreSQL) and an UPDATE that stamps them with a fresh token and a lease,
repeating the claim condition (SQLite has no row locks), as the sequence scheduler
does. A batch is sent through `pipeline.send_keyed` with the key `bc:<broadcast>:
<contact>`: a batch sent twice (its lease ran out while a killed worker held it) finds
its messages and sends nothing again, and only marks its recipients.

Within a batch, recipients go a chunk at a time, and the broadcast is read again
before each chunk, so a cancel stops a batch that is being sent.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, bindparam, or_, select, update
from sqlalchemy.orm import Session

from campaigns.broadcasts.audience import due_in_zone, freeze, message_key, set_due
from campaigns.broadcasts.definition import quiet_window
from campaigns.broadcasts.store import LIVE, experiment_of, variants_of
from campaigns.delivery.transport import Transport
from campaigns.email.mailconfig import MailConfig
from campaigns.email.overrides import Overrides
from campaigns.email.pipeline import send_keyed
from campaigns.sequences.caps import FrequencyCap, counted_sends
from nurture.contacts.zones import zone
from nurture.models import (
    Broadcast,
    BroadcastRecipient,
    BroadcastStatus,
    CapPolicy,
    Contact,
    MessageStatus,
    RecipientPhase,
    RecipientState,
)
from nurture.sqlsets import among

BATCH = 500
# Recipients per pipeline call within a batch; a cancel stops a batch between them.
CHUNK = 500
LEASE = timedelta(minutes=10)
NO_ADDRESS = "no_address"
# The outcome of a pending recipient the frequency cap postponed.
HELD = "held_by_cap"
# The table itself: an UPDATE per row with its own values (executemany) is Core's,
# the ORM would take a list of rows as an update by primary key only.
_RECIPIENTS = cast(Table, BroadcastRecipient.__table__)


@dataclass(frozen=True, slots=True)
class Claim:
    """A batch of one broadcast's recipients, held by `token` until its lease ends."""

    broadcast_id: int
    token: str
    size: int


@dataclass(slots=True)
class BatchResult:
    sent: int = 0
    skipped: int = 0
    postponed: int = 0
    stopped: bool = False  # the broadcast was cancelled mid-batch
    outcomes: dict[str, int] = field(default_factory=dict)


def due_to_start(session: Session, *, now: datetime) -> list[int]:
    """Scheduled broadcasts whose `send_at` has come."""
    return list(
        session.scalars(
            select(Broadcast.id)
            .where(
                Broadcast.status == BroadcastStatus.SCHEDULED.value,
                Broadcast.send_at <= now,
            )
            .order_by(Broadcast.send_at, Broadcast.id)
        )
    )


def start(session: Session, broadcast_id: int, *, now: datetime) -> bool:
    """Freeze the audience of a scheduled broadcast whose time has come and set it
    sending; False when someone else started it (or it was cancelled). The caller
    commits."""
    broadcast = session.get(Broadcast, broadcast_id, with_for_update=True)
    if broadcast is None or broadcast.status != BroadcastStatus.SCHEDULED.value:
        return False
    freeze(session, broadcast, experiment_of(session, broadcast_id), now=now)
    broadcast.status = BroadcastStatus.SENDING.value
    broadcast.started_at = now
    return True


def live_broadcasts(session: Session) -> list[int]:
    return list(
        session.scalars(
            select(Broadcast.id).where(Broadcast.status.in_(LIVE)).order_by(Broadcast.id)
        )
    )


def claim(
    session: Session,
    broadcast_id: int,
    *,
    now: datetime,
    limit: int = BATCH,
    lease: timedelta = LEASE,
) -> Claim | None:
    """Claim up to `limit` due pending recipients of a sending broadcast (those with a
    variant: the rest wait for the test's decision). The caller commits."""
    ids = list(
        session.scalars(
            select(BroadcastRecipient.contact_id)
            .join(Broadcast, Broadcast.id == BroadcastRecipient.broadcast_id)
            .where(
                BroadcastRecipient.broadcast_id == broadcast_id,
                Broadcast.status.in_(LIVE),
                _claimable(now),
            )
            .order_by(BroadcastRecipient.due_at)
            .limit(limit)
            .with_for_update(of=BroadcastRecipient, skip_locked=True)
        )
    )
    if not ids:
        return None
    token = secrets.token_hex(16)
    result = session.execute(
        update(BroadcastRecipient)
        # The claim condition again: on SQLite another claimer may have taken a row
        # between the two statements.
        .where(
            BroadcastRecipient.broadcast_id == broadcast_id,
            among(session, BroadcastRecipient.contact_id, ids, integers=True),
            _claimable(now),
        )
        .values(claim_token=token, claimed_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    size = int(getattr(result, "rowcount", 0) or 0)
    return Claim(broadcast_id, token, size) if size else None


def release(session: Session, claim_: Claim) -> None:
    """Drop a claim whose message never reached the queue, so the next tick takes it."""
    session.execute(
        update(BroadcastRecipient)
        .where(
            BroadcastRecipient.broadcast_id == claim_.broadcast_id,
            BroadcastRecipient.claim_token == claim_.token,
            BroadcastRecipient.state == RecipientState.PENDING.value,
        )
        .values(claim_token=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )


def send_claimed(
    session: Session,
    broadcast_id: int,
    token: str,
    *,
    now: datetime,
    transport: Transport,
    config: MailConfig,
    cap: FrequencyCap,
    chunk: int = CHUNK,
) -> BatchResult:
    """Send the recipients claimed with `token` that are still pending, a chunk at a
    time; commits after each chunk (the pipeline commits each message before sending)."""
    result = BatchResult()
    contents = {v.key: dict(v.content) for v in variants_of(session, broadcast_id)}
    while True:
        broadcast = session.get(Broadcast, broadcast_id, populate_existing=True)
        if broadcast is None or broadcast.status not in LIVE:
            result.stopped = True
            session.commit()
            return result
        rows = session.execute(
            select(BroadcastRecipient.contact_id, BroadcastRecipient.variant_key)
            .where(
                BroadcastRecipient.broadcast_id == broadcast_id,
                BroadcastRecipient.claim_token == token,
                BroadcastRecipient.state == RecipientState.PENDING.value,
            )
            .order_by(BroadcastRecipient.contact_id)
            .limit(chunk)
        ).all()
        if not rows:
            session.commit()
            return result
        pairs = [(int(cid), str(key or "a")) for cid, key in rows]
        if broadcast.cap_policy == CapPolicy.RESPECT.value:
            pairs = _hold_back_capped(session, broadcast, pairs, now=now, cap=cap, result=result)
        _send_chunk(session, broadcast, pairs, token, contents, transport, config, result)
        session.commit()


def advance(session: Session, broadcast_id: int, *, now: datetime) -> str:
    """Move a live broadcast on when a phase has run out of pending recipients: the
    test group sent → wait `test_hours` for the decision; everyone done → sent.
    Answers the status. The caller commits."""
    broadcast = session.get(Broadcast, broadcast_id, with_for_update=True)
    if broadcast is None:
        return ""
    if broadcast.status != BroadcastStatus.SENDING.value:
        return broadcast.status
    # Whether any is pending (of the test group, of anyone), not how many: this runs
    # after every batch, and counting a large audience each time adds up.
    waiting = _pending_exists(session, broadcast_id)
    # Test recipients the frequency cap held back go when one more e-mail fits (days,
    # maybe); the decision does not wait for them.
    testing = _pending_exists(session, broadcast_id, RecipientPhase.TEST.value, held=False)
    if broadcast.test_percent is not None and broadcast.decide_at is None:
        if not testing:
            broadcast.decide_at = now + timedelta(hours=broadcast.test_hours or 0)
            broadcast.status = BroadcastStatus.TESTING.value
        return broadcast.status
    if not waiting:
        broadcast.status = BroadcastStatus.SENT.value
        broadcast.finished_at = now
    return broadcast.status


def _pending_exists(
    session: Session, broadcast_id: int, phase: str | None = None, *, held: bool = True
) -> bool:
    stmt = select(BroadcastRecipient.contact_id).where(
        BroadcastRecipient.broadcast_id == broadcast_id,
        BroadcastRecipient.state == RecipientState.PENDING.value,
    )
    if phase is not None:
        stmt = stmt.where(BroadcastRecipient.phase == phase)
    if not held:
        stmt = stmt.where(
            or_(BroadcastRecipient.outcome.is_(None), BroadcastRecipient.outcome != HELD)
        )
    return session.scalar(stmt.limit(1)) is not None


def start_rest(session: Session, broadcast: Broadcast, variant_key: str, *, now: datetime) -> int:
    """Give the rest `variant_key`, due from now (in their local time, out of quiet
    hours), and set the broadcast sending again; answers how many. The caller commits."""
    result = session.execute(
        update(BroadcastRecipient)
        .where(
            BroadcastRecipient.broadcast_id == broadcast.id,
            BroadcastRecipient.phase == RecipientPhase.REST.value,
            BroadcastRecipient.state == RecipientState.PENDING.value,
        )
        .values(variant_key=variant_key)
        .execution_options(synchronize_session=False)
    )
    set_due(session, broadcast, phase=RecipientPhase.REST.value, start=now)
    broadcast.rest_variant = variant_key
    broadcast.status = BroadcastStatus.SENDING.value
    return int(getattr(result, "rowcount", 0) or 0)


def _claimable(now: datetime) -> ColumnElement[bool]:
    return (
        (BroadcastRecipient.state == RecipientState.PENDING.value)
        & BroadcastRecipient.variant_key.is_not(None)
        & (BroadcastRecipient.due_at <= now)
        & or_(BroadcastRecipient.claimed_until.is_(None), BroadcastRecipient.claimed_until < now)
    )


def _hold_back_capped(
    session: Session,
    broadcast: Broadcast,
    pairs: list[tuple[int, str]],
    *,
    now: datetime,
    cap: FrequencyCap,
    result: BatchResult,
) -> list[tuple[int, str]]:
    """Postpone the recipients the frequency cap holds back to when one more e-mail
    fits (and out of quiet hours there); answers the others."""
    if cap.limit <= 0:
        return pairs
    keys = {cid: message_key(broadcast.id, cid) for cid, _ in pairs}
    counted = counted_sends(session, keys, now=now, cap=cap)
    later: list[dict[str, Any]] = []
    quiet = quiet_window(broadcast.quiet_hours)
    zones: dict[int, str | None] = {}
    if quiet is not None:
        capped_ids = [cid for cid, _ in pairs if len(counted.get(cid, [])) >= cap.limit]
        zones = {
            int(cid): name
            for cid, name in session.execute(
                select(Contact.id, Contact.time_zone).where(
                    among(session, Contact.id, capped_ids, integers=True)
                )
            )
        }
    keep: list[tuple[int, str]] = []
    for cid, key in pairs:
        times = counted.get(cid, [])
        if len(times) < cap.limit:
            keep.append((cid, key))
            continue
        due = times[cap.limit - 1] + cap.window + timedelta(seconds=1)
        if quiet is not None:
            due = due_in_zone(due, zone(zones.get(cid)), local_time=None, quiet_hours=quiet)
        later.append({"b_id": broadcast.id, "c_id": cid, "due": due})
    if later:
        session.execute(
            update(_RECIPIENTS)
            .where(
                _RECIPIENTS.c.broadcast_id == bindparam("b_id"),
                _RECIPIENTS.c.contact_id == bindparam("c_id"),
            )
            .values(due_at=bindparam("due"), claim_token=None, claimed_until=None, outcome=HELD),
            later,
        )
        result.postponed += len(later)
    return keep


def _send_chunk(
    session: Session,
    broadcast: Broadcast,
    pairs: Sequence[tuple[int, str]],
    token: str,
    contents: dict[str, dict[str, Any]],
    transport: Transport,
    config: MailConfig,
    result: BatchResult,
) -> None:
    by_variant: dict[str, list[int]] = {}
    for cid, key in pairs:
        by_variant.setdefault(key, []).append(cid)
    marks: list[dict[str, Any]] = []
    for key, ids in by_variant.items():
        content = contents.get(key, {})
        template_id = int(content.get("template_id") or broadcast.template_id or 0)
        sends = [(message_key(broadcast.id, cid), cid) for cid in ids]
        done = send_keyed(
            session,
            template_id,
            sends,
            transport=transport,
            config=config,
            overrides=Overrides.from_json(content),
        )
        for msg_key, cid in sends:
            message_id, status = done.get(msg_key, (None, NO_ADDRESS))
            skipped = message_id is None or status == MessageStatus.SUPPRESSED.value
            state = RecipientState.SKIPPED.value if skipped else RecipientState.SENT.value
            if skipped:
                result.skipped += 1
            else:
                result.sent += 1
            result.outcomes[status] = result.outcomes.get(status, 0) + 1
            marks.append(
                {"b_id": broadcast.id, "c_id": cid, "s": state, "m": message_id, "o": status}
            )
    if marks:
        # Marked by token, whatever a cancel did meanwhile: these went (or were skipped).
        session.execute(
            update(_RECIPIENTS)
            .where(
                _RECIPIENTS.c.broadcast_id == bindparam("b_id"),
                _RECIPIENTS.c.contact_id == bindparam("c_id"),
                _RECIPIENTS.c.claim_token == token,
            )
            .values(state=bindparam("s"), message_id=bindparam("m"), outcome=bindparam("o")),
            marks,
        )
