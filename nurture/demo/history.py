"""The demo contacts' lifecycle history: how each reached the stage it is in today.

The reports read `lifecycle_changes` (time in stage, conversion, movement); without
it the demo's funnel would be flat. Each demo contact gets a plausible path up to
its current stage over the six months of history: forward moves days to weeks
apart, and now and then a step back with the reason a rep would give. No creation
row is written: the reports take the stage a contact was created in from the
`from_stage` of its first change, at `created_at`. A client moved to customer when
its deal was won (the loader's `deal.won`, after its weeks of keenest engagement), the
moves before that leading up to it.

Deterministic (each contact's path comes from the seed and its e-mail address) and
loaded once: when any demo change exists, nothing is added. No `lifecycle.changed`
events are written: this is history, not news for segments or sequences.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from sqlalchemy import exists, func, insert, select
from sqlalchemy.orm import Session

from nurture.demo.loader import HISTORY_DAYS
from nurture.models import Contact, Enrolment, Event, LifecycleChange, utcnow

SOURCE = "demo"
BATCH = 2000
FORWARD = ("subscriber", "lead", "mql", "sql", "opportunity", "customer")
# Days a contact typically spends in a stage before the next forward move.
STAY_DAYS = {
    "subscriber": (7, 60),
    "lead": (7, 45),
    "mql": (2, 14),
    "sql": (5, 25),
    "opportunity": (14, 50),
    "customer": (60, 150),
}
REASONS = {
    "lead": ("downloaded a whitepaper", "asked for an assessment", "filled in the contact form"),
    "mql": ("score over 55 with grade B or better", "attended a webinar and read case studies"),
    "sql": ("accepted by sales after a discovery call",),
    "opportunity": ("proposal sent", "scoping workshop agreed"),
    "customer": ("deal won",),
    "former_customer": ("contract ended, not renewed", "project finished, no follow-on work"),
}
# Steps back a rep records, with why: (from, to, reasons); taken by a few contacts
# on their way, after which they move forward again.
DETOURS = (
    ("sql", "lead", ("no budget this year", "not the decision maker")),
    ("mql", "lead", ("not ready to buy yet", "asked to be called after the summer")),
    ("opportunity", "sql", ("project postponed to next quarter", "scope changed, new proposal")),
)
DETOUR_SHARE = 0.12
QUALIFIED_STAGES = {"mql", "sql", "opportunity", "customer", "former_customer"}
# Changes made by a rep carry the contact's owner as the one who made them.
BY_REP = {"sql", "opportunity", "customer", "former_customer"}


def seed_demo_history(session: Session, *, seed: int = 2026, now: datetime | None = None) -> int:
    """Write the demo contacts' lifecycle changes, once; returns how many. Commits.

    Run after the sequences are seeded: a qualified contact in a demo sequence
    qualifies after enrolling, so the sequence gets the credit for it.
    """
    if session.scalar(select(exists().where(LifecycleChange.source == SOURCE))):
        return 0
    end = now or utcnow()
    start = end - timedelta(days=HISTORY_DAYS)
    enrolled: dict[int, datetime] = {
        contact_id: at
        for contact_id, at in session.execute(
            select(Enrolment.contact_id, func.min(Enrolment.enrolled_at)).group_by(
                Enrolment.contact_id
            )
        )
    }
    # A client's move to customer is the day its deal was won (the loader spent the
    # weeks before that on its reading and asking).
    signed: dict[int, datetime] = {
        contact_id: at
        for contact_id, at in session.execute(
            select(Event.contact_id, func.min(Event.occurred_at))
            .where(Event.type == "deal.won", Event.source == "demo")
            .group_by(Event.contact_id)
        )
    }
    people = session.execute(
        select(
            Contact.id, Contact.email, Contact.lifecycle_stage, Contact.created_at, Contact.owner_id
        )
        .where(
            Contact.email.like("%.example"),
            # Someone's real changes (or the qualification engine's) are not overwritten.
            ~exists().where(LifecycleChange.contact_id == Contact.id),
        )
        .order_by(Contact.id)
    ).all()
    # A demo whose sequences hold no qualified contact (a small one) still has a
    # sequence that qualified someone: its first lead, qualified and sent back since.
    recycle_one = not any(
        person.id in enrolled and person.lifecycle_stage in QUALIFIED_STAGES for person in people
    )
    rows: list[dict[str, Any]] = []
    nurtured = 0
    for contact_id, email, stage, created_at, owner_id in people:
        rng = random.Random(f"{seed}:lifecycle:{email}")
        since = enrolled.get(contact_id)
        recycled = recycle_one and since is not None and stage == "lead"
        recycle_one = recycle_one and not recycled
        path = _path(rng, stage, recycled=recycled)
        # Every other qualified contact in a demo sequence qualified while in it (the
        # first one always, so even a small demo credits a sequence).
        if since is not None and (stage in QUALIFIED_STAGES or recycled):
            nurtured += 1
            if nurtured % 2 == 0:
                since = None
        else:
            since = None
        won = signed.get(contact_id)
        if won is not None and "customer" in path:
            times = _times_signed(rng, path, max(created_at, start), won, end)
        else:
            times = _times(rng, path, max(created_at, start), end, since)
        for (before, after), at in zip(pairwise(path), times, strict=True):
            rows.append(
                {
                    "contact_id": contact_id,
                    "from_stage": before,
                    "to_stage": after,
                    "reason": _reason(rng, before, after),
                    "source": SOURCE,
                    "changed_by_id": owner_id if after in BY_REP else None,
                    "occurred_at": at,
                }
            )
    table = LifecycleChange.metadata.tables["lifecycle_changes"]
    for first in range(0, len(rows), BATCH):
        session.execute(insert(table), rows[first : first + BATCH])
    session.commit()
    return len(rows)


def _path(rng: random.Random, stage: str, *, recycled: bool = False) -> list[str]:
    """The stages a contact went through, the one it was created in first (`recycled`:
    a lead that qualified once and was sent back)."""
    if stage not in FORWARD and stage != "former_customer":
        return [stage]
    target = "customer" if stage == "former_customer" else stage
    # Most arrive as newsletter subscribers; many as leads (a form, an event, a referral).
    first = "subscriber" if target == "subscriber" or rng.random() < 0.55 else "lead"
    path = list(FORWARD[FORWARD.index(first) : FORWARD.index(target) + 1])
    if recycled or rng.random() < DETOUR_SHARE:
        if target == "lead":
            # Recycled: qualified once, sent back by sales, a lead again today.
            back_from = rng.choice(("mql", "sql"))
            path += [*FORWARD[FORWARD.index("mql") : FORWARD.index(back_from) + 1], "lead"]
        else:
            detours = [d for d in DETOURS if d[0] in path]
            if detours:
                # Back, then forward again to where it went back from, and on.
                back_from, back_to, _ = rng.choice(detours)
                at = path.index(back_from) + 1
                again = FORWARD[FORWARD.index(back_to) + 1 : FORWARD.index(back_from) + 1]
                path[at:at] = [back_to, *again]
    if stage == "former_customer":
        path.append("former_customer")
    return path


def _times(
    rng: random.Random, path: list[str], lo: datetime, end: datetime, enrolled: datetime | None
) -> list[datetime]:
    """When each move of `path` happened: stays of realistic length, fitted between `lo`
    (the later of creation and the start of the history) and a few hours before `end`;
    with `enrolled`, the qualification comes after that moment."""
    moves = len(path) - 1
    if moves <= 0:
        return []
    hi = end - timedelta(hours=2)
    stays = [rng.uniform(*STAY_DAYS.get(stage, (3, 20))) for stage in path[:-1]]
    span = max((hi - lo).total_seconds() / 86400, 0.01)
    # Leave room after the last move (the current stay) when there is some to spare.
    total = sum(stays)
    scale = min(1.0, 0.9 * span / total)
    offset = rng.uniform(0, max(0.0, span - total * scale))
    times: list[datetime] = []
    day = offset
    for stay in stays:
        day += stay * scale
        times.append(lo + timedelta(days=day))
    times = [min(t, hi) for t in times]
    if enrolled is not None and enrolled < hi and "mql" in path[1:]:
        # Qualified while in a demo sequence: the first move into MQL or beyond comes
        # after the enrolment, and every later move after it in turn.
        k = next(i for i, s in enumerate(path[1:]) if FORWARD.index(s) >= 2)
        gap = (hi - enrolled) / (moves - k + 1)
        for i in range(k, moves):
            times[i] = max(times[i], enrolled + gap * (i - k + 1))
    return times


def _times_signed(
    rng: random.Random, path: list[str], lo: datetime, signed: datetime, end: datetime
) -> list[datetime]:
    """When each move of a client's `path` happened: into customer at `signed`, the
    moves before it back from there by stays of realistic length (shortened to fit
    after `lo`), and any after it (leaving) a stay later, before `end`."""
    into = path.index("customer")
    stays = [rng.uniform(*STAY_DAYS.get(stage, (3, 20))) for stage in path[1:into]]
    room = max((signed - lo).total_seconds() / 86400, 0.01)
    scale = min(1.0, 0.95 * room / sum(stays)) if stays else 1.0
    times = [signed]
    for stay in reversed(stays):
        times.insert(0, times[0] - timedelta(days=stay * scale))
    hi = end - timedelta(hours=2)
    for stage in path[into:-1]:
        later = times[-1] + timedelta(days=rng.uniform(*STAY_DAYS.get(stage, (3, 20))))
        times.append(max(times[-1], min(later, hi)))
    return times


def _reason(rng: random.Random, before: str, after: str) -> str:
    for back_from, back_to, reasons in DETOURS:
        if (before, after) == (back_from, back_to):
            return rng.choice(reasons)
    return rng.choice(REASONS.get(after, ("",)))
