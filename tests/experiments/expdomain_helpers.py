"""Builders for the experiments-domain tests: a sequence with a mail and a split step,
exposures with their messages, and events about those messages."""

from __future__ import annotations

from datetime import datetime
from itertools import count
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from campaigns.experiments.assign import Member, choose
from campaigns.sequences.versions import create_sequence
from nurture.events import EventInput, ingest
from nurture.models import Contact, EmailMessage, Exposure, Sequence
from tests.email.conftest import make_template

_keys = count(1)


def make_sequence(db: Session, template_id: int) -> Sequence:
    """A draft sequence: mail step "intro", split step "fork" with 60/40 paths."""
    sequence = create_sequence(
        db,
        name=f"Compliance nurture {next(_keys)}",
        steps_definition={
            "steps": [
                {"key": "intro", "type": "email", "template_id": template_id},
                {
                    "key": "fork",
                    "type": "split",
                    "paths": [
                        {"percent": 60, "steps": [{"key": "p0", "type": "goal"}]},
                        {"percent": 40, "steps": [{"key": "p1", "type": "exit"}]},
                    ],
                },
            ]
        },
    )
    db.commit()
    return sequence


def template(db: Session) -> int:
    return make_template(db, name=f"Guide {next(_keys)}")


def expose(
    db: Session, experiment_id: int, contact_ids: list[int], *, now: datetime
) -> dict[int, Exposure]:
    """Expose the contacts through the real assignment, each with a message key."""
    choose(
        db,
        experiment_id,
        [Member(cid, message_key=f"test:{experiment_id}:{cid}") for cid in contact_ids],
        now=now,
    )
    db.flush()
    rows = db.query(Exposure).filter(Exposure.experiment_id == experiment_id).all()
    return {row.contact_id: row for row in rows}


def message_for(db: Session, exposure: Exposure) -> EmailMessage:
    """The message row the pipeline would have stored under the exposure's key."""
    assert exposure.message_key is not None
    message = EmailMessage(
        idempotency_key=exposure.message_key,
        kind="marketing",
        contact_id=exposure.contact_id,
        status="sent",
    )
    db.add(message)
    db.flush()
    return message


def event(
    db: Session,
    kind: str,
    contact_id: int,
    at: datetime,
    **properties: Any,
) -> None:
    ingest(
        db,
        [(0, EventInput(kind, at, dict(properties), f"t:{next(_keys)}", contact_id=contact_id))],
        source="test",
    )


def bulk_contacts(db: Session, n: int) -> list[int]:
    """`n` contacts in one statement (results tests need hundreds)."""
    tag = next(_keys)
    rows = [{"email": f"bulk{tag}-{i}@example.com", "attributes": {}} for i in range(n)]
    db.execute(insert(Contact), rows)
    return list(
        db.scalars(
            select(Contact.id).where(Contact.email.like(f"bulk{tag}-%")).order_by(Contact.id)
        )
    )


def bulk_exposures(
    db: Session,
    experiment_id: int,
    variant_key: str,
    contact_ids: list[int],
    *,
    at: datetime,
    delivered: int,
    **successes: int,
) -> None:
    """Exposures of one variant: the first `delivered` delivered, and of those the first
    `successes[stamp]` with that outcome (opened=3 stamps opened_at on three)."""
    rows = []
    for index, cid in enumerate(contact_ids):
        row: dict[str, Any] = {
            "experiment_id": experiment_id,
            "variant_key": variant_key,
            "contact_id": cid,
            "exposed_at": at,
            "delivered_at": at if index < delivered else None,
        }
        for stamp, how_many in successes.items():
            row[f"{stamp}_at"] = at if index < how_many else None
        rows.append(row)
    db.execute(insert(Exposure), rows)
