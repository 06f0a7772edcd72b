"""How far broadcasts have gone: recipients by state and phase, one grouped count."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.models import BroadcastRecipient, RecipientState
from nurture.sqlsets import among


@dataclass(slots=True)
class Counts:
    """Recipients of one phase (or all of them) by state."""

    sent: int = 0
    skipped: int = 0
    pending: int = 0
    cancelled: int = 0

    @property
    def total(self) -> int:
        return self.sent + self.skipped + self.pending + self.cancelled

    @property
    def done(self) -> int:
        return self.sent + self.skipped

    def add(self, state: str, n: int) -> None:
        if state == RecipientState.SENT.value:
            self.sent += n
        elif state == RecipientState.SKIPPED.value:
            self.skipped += n
        elif state == RecipientState.CANCELLED.value:
            self.cancelled += n
        else:
            self.pending += n


@dataclass(slots=True)
class Progress:
    """`all` over every recipient, `phases` per phase ("test", "rest", "all")."""

    broadcast_id: int
    all: Counts = field(default_factory=Counts)
    phases: dict[str, Counts] = field(default_factory=dict)

    @property
    def percent(self) -> float:
        """Share of the audience finished (sent or skipped), 0-100; a cancelled
        broadcast's unsent recipients count as not done."""
        total = self.all.total
        return 100.0 * self.all.done / total if total else 0.0

    def as_dict(self) -> dict[str, object]:
        def counts(c: Counts) -> dict[str, int]:
            return {
                "sent": c.sent,
                "skipped": c.skipped,
                "pending": c.pending,
                "cancelled": c.cancelled,
                "total": c.total,
            }

        return {
            **counts(self.all),
            "percent": round(self.percent, 1),
            "phases": {phase: counts(c) for phase, c in sorted(self.phases.items())},
        }


def progress(session: Session, broadcast_id: int) -> Progress:
    """Sent / skipped / pending / cancelled of one broadcast, in total and by phase
    (all zero before the audience is frozen)."""
    return progress_many(session, [broadcast_id])[broadcast_id]


def progress_many(session: Session, broadcast_ids: Sequence[int]) -> dict[int, Progress]:
    """`progress` of many broadcasts in one query (the list page)."""
    out = {bid: Progress(bid) for bid in broadcast_ids}
    if not out:
        return out
    rows = session.execute(
        select(
            BroadcastRecipient.broadcast_id,
            BroadcastRecipient.phase,
            BroadcastRecipient.state,
            func.count(),
        )
        .where(among(session, BroadcastRecipient.broadcast_id, list(out), integers=True))
        .group_by(
            BroadcastRecipient.broadcast_id, BroadcastRecipient.phase, BroadcastRecipient.state
        )
    )
    for broadcast_id, phase, state, n in rows:
        entry = out[int(broadcast_id)]
        entry.all.add(str(state), int(n))
        entry.phases.setdefault(str(phase), Counts()).add(str(state), int(n))
    return out
