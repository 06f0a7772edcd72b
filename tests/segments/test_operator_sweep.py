"""Every operator, on every field, agrees with the reference evaluator."""

from __future__ import annotations

from nurture.db import session_scope
from segments.compiler import matching_contacts
from segments.schema import parse_rule
from segments.sqlfuncs import prepare_connection
from tests.segments.loading import load
from tests.segments.reference import evaluate
from tests.segments.strategies import NOW
from tests.segments.sweep import rich_dataset, single_conditions


def test_each_operator_selects_what_the_reference_selects(db_url: str) -> None:
    data = rich_dataset()
    conditions = list(single_conditions())
    mismatches: list[str] = []
    nontrivial = 0
    with session_scope(db_url) as db:
        load(db, data)
        prepare_connection(db)
        for condition in conditions:
            # Negated operators compile to NOT of their positive twin, so this covers `not` too.
            for document in ({"version": 1, "rule": condition},):
                rule = parse_rule(document)
                expected = evaluate(rule, data, NOW)
                found = set(db.scalars(matching_contacts(rule, now=NOW)))
                if found != expected:
                    mismatches.append(
                        f"{document['rule']}: sql {sorted(found)} != {sorted(expected)}"
                    )
                nontrivial += 0 < len(expected) < 54
    assert not mismatches, "\n".join(mismatches[:20])
    # The sweep is only worth something if most conditions split the contacts.
    assert nontrivial > len(conditions) * 0.6
