"""The compiled SQL and the reference evaluator agree on random rules and random data."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.contacts.addresses import email_hash
from nurture.db import session_scope
from nurture.models import (
    Company,
    Contact,
    Event,
    LifecycleStage,
    Segment,
    SegmentMember,
    Suppression,
    User,
)
from segments.compiler import matching_contacts
from segments.schema import parse_rule
from segments.sqlfuncs import prepare_connection
from tests.segments.loading import load
from tests.segments.reference import Dataset, evaluate
from tests.segments.strategies import (
    MOMENTS,
    NOW,
    SEGMENT_IDS,
    USER_IDS,
    datasets,
    rule_documents,
)

# Every table `load` writes to.
LOADED_TABLES = (Company, Contact, Event, Suppression, User, Segment, SegmentMember)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(document=rule_documents, data=datasets(), restrict=st.booleans())
def test_compiled_rule_selects_exactly_the_contacts_the_reference_selects(
    db_url: str, document: dict[str, Any], data: Dataset, restrict: bool
) -> None:
    rule = parse_rule(document)
    expected = evaluate(rule, data, NOW)
    subset = [c["id"] for c in data.contacts][::2] if restrict else None
    if subset is not None:
        expected &= set(subset)
    with session_scope(db_url) as db:
        try:
            load(db, data)
            prepare_connection(db)
            found = set(db.scalars(matching_contacts(rule, now=NOW, contact_ids=subset)))
        finally:
            db.rollback()
    assert found == expected, document


def test_loading_leaves_no_rows_behind(db_url: str) -> None:
    """The property test loads fixed ids into the shared database; its rollback must
    take every one of them away again, or later tests would find them."""
    with session_scope(db_url) as db:
        try:
            load(db, _small_dataset())
            loaded = _row_counts(db)
        finally:
            db.rollback()
    with session_scope(db_url) as db:
        left = _row_counts(db)

    assert all(loaded.values()), loaded
    assert left == dict.fromkeys(loaded, 0)


def _small_dataset() -> Dataset:
    """One row of everything `load` writes: a company, a contact, an event, a
    suppression and a list membership."""
    data = Dataset()
    data.companies[1] = {
        "id": 1,
        "name": "Brandt",
        "domain": "1.law.example",
        "industry": "legal",
        "size_band": None,
        "country": "DE",
    }
    data.contacts.append(
        {
            "id": 1,
            "email": "p1@law.example",
            "first_name": "Ann",
            "last_name": None,
            "title": "Partner",
            "lifecycle_stage": LifecycleStage.LEAD.value,
            "owner_id": USER_IDS[0],
            "locale": "de",
            "time_zone": None,
            "created_at": MOMENTS[1],
            "last_activity_at": None,
            "score": 10,
            "fit_grade": None,
            "company_id": 1,
            "attributes": {"plan": "pro"},
            "erased_at": None,
        }
    )
    data.events.append(
        {
            "id": 1,
            "contact_id": 1,
            "type": "email.clicked",
            "occurred_at": MOMENTS[2],
            "properties": {"url": "x"},
        }
    )
    data.suppressed_hashes.add(email_hash("p1@law.example"))
    data.members[SEGMENT_IDS[0]] = {1}
    return data


def _row_counts(db: Session) -> dict[str, int]:
    return {
        model.__tablename__: db.scalar(select(func.count()).select_from(model)) or 0
        for model in LOADED_TABLES
    }
