"""Synthetic firm histories for the predictive score, written as real rows in bulk.

`history(signal=True)`: being in legal or consulting, a senior title and recent
page visits and webinars raise the chance of becoming a customer; with
`signal=False` who becomes a customer is a coin toss unrelated to anything.
Some customers have a known conversion moment (a `deal.won` event or a lifecycle
change), and their engagement is placed before it; machine opens and events
outside the window are sprinkled in and must not count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from nurture.models import Company, Contact, Event, LifecycleChange

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
INDUSTRIES = ("legal", "consulting", "retail", "logistics")
TITLES = ("Managing Partner", "Head of Operations", "Analyst", "Office Manager", None)


@dataclass(frozen=True, slots=True)
class History:
    contact_ids: list[int]
    labels: list[int]


def history(db: Session, *, rows: int, signal: bool, seed: int, prefix: str = "p") -> History:
    rng = np.random.default_rng(seed)
    companies = []
    for n, industry in enumerate(INDUSTRIES):
        companies.append(
            db.execute(
                insert(Company).returning(Company.id),
                [
                    {
                        "name": f"{prefix} {industry} {n}",
                        "domain": f"{prefix}-{industry}.example",
                        "industry": industry,
                        "size_band": ("11-50", "201-1000")[n % 2],
                        "country": ("DE", "FR")[n % 2],
                    }
                ],
            ).scalar_one()
        )
    company_pick = rng.integers(0, len(INDUSTRIES), rows)
    title_pick = rng.integers(0, len(TITLES), rows)
    visits = rng.poisson(2.0, rows)
    webinars = rng.binomial(1, 0.3, rows)
    if signal:
        z = (
            -2.2
            + 1.4 * (company_pick <= 1)
            + 0.9 * (title_pick <= 1)
            + 0.9 * np.log1p(visits)
            + 0.8 * webinars
        )
        converted = rng.random(rows) < 1 / (1 + np.exp(-z))
    else:
        converted = rng.random(rows) < 0.3
    contact_rows = [
        {
            "email": f"{prefix}{i}@example.com",
            "title": TITLES[title_pick[i]],
            "locale": ("de-AT", "en-GB", "fr")[i % 3],
            "company_id": companies[company_pick[i]],
            "lifecycle_stage": "lead",
            "attributes": {},
            "created_at": NOW - timedelta(days=200 + i % 50),
            "updated_at": NOW - timedelta(days=200),
        }
        for i in range(rows)
    ]
    ids = list(
        db.execute(
            insert(Contact).returning(Contact.id, sort_by_parameter_order=True), contact_rows
        ).scalars()
    )
    events: list[dict[str, object]] = []
    changes: list[dict[str, object]] = []
    stages: dict[int, str] = {}
    for i, contact_id in enumerate(ids):
        as_of = NOW
        if converted[i]:
            # A third each: a won deal, a lifecycle change, only the current stage.
            kind = i % 3
            as_of = NOW - timedelta(days=20 + i % 60)
            if kind == 0:
                events.append(_event(contact_id, "deal.won", as_of, f"{prefix}w{i}"))
            elif kind == 1:
                changes.append(
                    {
                        "contact_id": contact_id,
                        "from_stage": "sql",
                        "to_stage": "customer",
                        "reason": "",
                        "source": "test",
                        "occurred_at": as_of,
                    }
                )
            else:
                as_of = NOW
            stages[contact_id] = "customer" if kind != 1 else "former_customer"
        for v in range(int(visits[i])):
            events.append(
                _event(
                    contact_id,
                    "page.visited",
                    as_of - timedelta(days=1 + v * 7 % 80),
                    f"{prefix}v{i}.{v}",
                )
            )
        if webinars[i]:
            events.append(
                _event(contact_id, "webinar.attended", as_of - timedelta(days=10), f"{prefix}a{i}")
            )
        # Noise that must not count: a machine open, a visit long before the window.
        events.append(
            _event(
                contact_id, "email.opened", as_of - timedelta(days=3), f"{prefix}m{i}", machine=True
            )
        )
        events.append(
            _event(contact_id, "page.visited", as_of - timedelta(days=120), f"{prefix}o{i}")
        )
    db.execute(insert(Event), events)
    if changes:
        db.execute(insert(LifecycleChange), changes)
    if stages:
        db.execute(
            update(Contact), [{"id": i, "lifecycle_stage": stage} for i, stage in stages.items()]
        )
    db.flush()
    return History(ids, [int(c) for c in converted])


def _event(
    contact_id: int, kind: str, at: datetime, key: str, *, machine: bool = False
) -> dict[str, object]:
    return {
        "contact_id": contact_id,
        "type": kind,
        "occurred_at": at,
        "received_at": at,
        "properties": {"machine": True} if machine else {},
        "source": "test",
        "idempotency_key": key,
        "processed_at": at,
    }
