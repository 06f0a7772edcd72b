"""The compiled SQL and the reference evaluator agree on random rules and random data."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nurture.db import session_scope
from segments.compiler import matching_contacts
from segments.schema import parse_rule
from segments.sqlfuncs import prepare_connection
from tests.segments.loading import clear, load
from tests.segments.reference import Dataset, evaluate
from tests.segments.strategies import NOW, datasets, rule_documents


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
    with session_scope(db_url) as db:
        clear(db)
