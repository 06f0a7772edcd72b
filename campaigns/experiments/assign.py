"""Which variant a contact gets, decided once and kept as an exposure.

The choice is a keyed hash of (experiment salt, contact id) mapped onto the variants'
shares: the same contact lands in the same place on every retry, batch, worker and
version of the sequence. The first choice is written as an exposure row (insert,
ignoring a row that exists); later calls read it back, so a bandit that moves the
shares afterwards never moves anyone already exposed.

Only a running experiment exposes anyone. A draft gives everyone its default variant
unrecorded; a decided one gives the winner, a stopped one the default, both unrecorded
(the test is over; new contacts are not part of it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from nurture.models import (
    AllocationMode,
    Experiment,
    ExperimentStatus,
    ExperimentVariant,
    Exposure,
)
from nurture.sqlsets import among

_SCALE = float(2**64)


@dataclass(frozen=True, slots=True)
class Member:
    """A contact about to be exposed, with what the exposure should remember."""

    contact_id: int
    enrolment_id: int | None = None
    message_key: str | None = None


@dataclass(frozen=True, slots=True)
class Choice:
    variant_key: str
    # True when this contact is counted in the test (an exposure row exists).
    exposed: bool


def bucket(salt: str, contact_id: int) -> float:
    """A number in [0, 1), uniform over contacts and fixed for (salt, contact)."""
    digest = hashlib.sha256(f"{salt}:{contact_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


def pick(u: float, shares: Sequence[tuple[str, float]]) -> str:
    """The variant whose slice of [0, 1) holds `u` (shares in order; they add up to 1)."""
    if not shares:
        raise ValueError("an experiment needs at least one variant to pick from")
    total = sum(share for _, share in shares)
    edge = 0.0
    for key, share in shares:
        edge += share / total if total > 0 else 1 / len(shares)
        if u < edge:
            return key
    return shares[-1][0]  # rounding left u above the last edge


def shares(
    experiment: Experiment, variants: Iterable[ExperimentVariant]
) -> list[tuple[str, float]]:
    """The shares new contacts are assigned by: the weights (or the bandit's allocation)
    of the variants that are not stopped, in their order."""
    live = sorted((v for v in variants if v.stopped_at is None), key=lambda v: (v.position, v.key))
    bandit = experiment.mode == AllocationMode.BANDIT.value
    out = []
    for variant in live:
        share = variant.allocation if bandit and variant.allocation is not None else variant.weight
        out.append((variant.key, max(0.0, float(share))))
    if out and sum(s for _, s in out) <= 0:
        out = [(key, 1.0) for key, _ in out]
    return out


def choose(
    session: Session, experiment_id: int, members: Sequence[Member], *, now: datetime
) -> dict[int, Choice]:
    """Contact id -> its variant, exposing those not exposed yet (running experiments
    only). Set-based: one read of the experiment, one of earlier exposures, one insert.
    The caller commits (with the step runs or recipients it writes in the same turn)."""
    experiment = session.get(Experiment, experiment_id)
    if experiment is None or not members:
        return {}
    variants = list(
        session.scalars(
            select(ExperimentVariant).where(ExperimentVariant.experiment_id == experiment_id)
        )
    )
    if experiment.status != ExperimentStatus.RUNNING.value:
        ended = experiment.winner_variant or experiment.default_variant
        return {m.contact_id: Choice(ended, exposed=False) for m in members}
    ids = list(dict.fromkeys(m.contact_id for m in members))
    known = _exposed(session, experiment_id, ids)
    fresh = [
        m for m in dict((m.contact_id, m) for m in members).values() if m.contact_id not in known
    ]
    if fresh:
        slices = shares(experiment, variants) or [(experiment.default_variant, 1.0)]
        rows = [
            {
                "experiment_id": experiment_id,
                "variant_key": pick(bucket(experiment.salt, m.contact_id), slices),
                "contact_id": m.contact_id,
                "enrolment_id": m.enrolment_id,
                "message_key": m.message_key,
                "exposed_at": now,
            }
            for m in fresh
        ]
        insert = (
            postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        )
        session.execute(
            insert(Exposure).on_conflict_do_nothing(
                index_elements=[Exposure.experiment_id, Exposure.contact_id]
            ),
            rows,
        )
        # A concurrent runner may have exposed some first: theirs is the one that counts.
        known.update(_exposed(session, experiment_id, [m.contact_id for m in fresh]))
    return {cid: Choice(known[cid], exposed=True) for cid in ids if cid in known}


def _exposed(session: Session, experiment_id: int, contact_ids: list[int]) -> dict[int, str]:
    if not contact_ids:
        return {}
    return {
        int(cid): str(key)
        for cid, key in session.execute(
            select(Exposure.contact_id, Exposure.variant_key).where(
                Exposure.experiment_id == experiment_id,
                among(session, Exposure.contact_id, contact_ids, integers=True),
            )
        )
    }
