"""Shared set-up for broadcast tests: contacts, a broadcast input, settings on an SMTP server."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.broadcasts.definition import BroadcastInput, VariantInput
from nurture.config import Settings
from nurture.models import BroadcastRecipient
from tests.factories import make_contact


def contacts(db: Session, n: int, **fields: object) -> list[int]:
    return [make_contact(db, **fields).id for _ in range(n)]


def plain(template_id: int, contact_ids: Sequence[int] | None, **fields: object) -> BroadcastInput:
    data = BroadcastInput(name="Monthly news", template_id=template_id, contact_ids=contact_ids)
    return dataclasses.replace(data, **fields)  # type: ignore[arg-type]


def with_test(template_id: int, contact_ids: Sequence[int], **fields: object) -> BroadcastInput:
    test: dict[str, object] = {
        "test_percent": 50,
        "test_hours": 4.0,
        "metric": "opens",
        "accept_small_test": True,
        "variants": (
            VariantInput("a", "Control"),
            VariantInput("b", "Question", subject="Did you read this, {{ contact.first_name }}?"),
        ),
    }
    return plain(template_id, contact_ids, **{**test, **fields})


def on_smtp(settings: Settings, port: int) -> Settings:
    return dataclasses.replace(settings, smtp_url=f"smtp://127.0.0.1:{port}")


def states(db: Session, broadcast_id: int) -> dict[int, tuple[str, str, str | None]]:
    """Contact id -> (phase, state, variant) of each recipient."""
    return {
        int(cid): (str(phase), str(state), variant)
        for cid, phase, state, variant in db.execute(
            select(
                BroadcastRecipient.contact_id,
                BroadcastRecipient.phase,
                BroadcastRecipient.state,
                BroadcastRecipient.variant_key,
            )
            .where(BroadcastRecipient.broadcast_id == broadcast_id)
            .execution_options(populate_existing=True)
        )
    }


def due_times(db: Session, broadcast_id: int) -> dict[int, datetime]:
    return {
        int(cid): due
        for cid, due in db.execute(
            select(BroadcastRecipient.contact_id, BroadcastRecipient.due_at).where(
                BroadcastRecipient.broadcast_id == broadcast_id
            )
        )
        if due is not None
    }
