"""Demo content beyond people and events: the starter e-mail library and a few segments.

Kept apart from nurture/demo.py (people, companies, events) because it builds on
campaigns/ and segments/, the floors above the core that demo.py's data needs.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.email.seed import seed_starter_library
from nurture.models import Segment
from segments import membership, store

# Segments a consultancy's marketer would build first; refreshed once so they have members.
SEGMENTS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    (
        "Law firms in DACH, engaged",
        "Legal companies in Germany, Austria or Switzerland that clicked in the last 60 days",
        {
            "all": [
                {"field": "company.industry", "op": "equals", "value": "legal"},
                {"field": "company.country", "op": "in", "value": ["DE", "AT", "CH"]},
                {"event": "email.clicked", "op": "at_least", "times": 1, "within_last_days": 60},
                {"field": "lifecycle_stage", "op": "not_equals", "value": "customer"},
            ]
        },
    ),
    (
        "Webinar no-shows",
        "Registered for a webinar in the last 90 days and never attended one",
        {
            "all": [
                {
                    "event": "webinar.registered",
                    "op": "at_least",
                    "times": 1,
                    "within_last_days": 90,
                },
                {"event": "webinar.attended", "op": "never"},
            ]
        },
    ),
    (
        "Promoters",
        "Clients whose latest NPS answer was 9 or 10",
        {"all": [{"field": "nps_category", "op": "equals", "value": "promoter"}]},
    ),
)


def seed_demo_content(session: Session) -> tuple[int, int]:
    """Load what is missing; returns (templates added, segments added). Commits."""
    templates = len(seed_starter_library(session, actor="cli"))
    session.commit()
    have = set(session.scalars(select(Segment.name)))
    added = 0
    for name, description, rule in SEGMENTS:
        if name in have:
            continue
        segment = store.create_segment(
            session, name=name, description=description, rule={"version": 1, "rule": rule}
        )
        session.commit()
        membership.refresh_segment(session, segment.id)
        session.commit()
        added += 1
    return templates, added
