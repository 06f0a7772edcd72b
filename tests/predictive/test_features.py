"""The feature rows built in SQL, value by value, on both databases; and the segment
field that lets a rule read the probability."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from nurture.models import Contact, Event, LifecycleChange
from nurture.scoring import features
from nurture.scoring.features import FeatureSpec
from segments.compiler import matching_contacts
from segments.schema import parse_rule
from tests.factories import make_contact
from tests.predictive.synthetic import NOW


def _events(db: Session, contact_id: int, *rows: tuple[str, timedelta, bool]) -> None:
    db.execute(
        insert(Event),
        [
            {
                "contact_id": contact_id,
                "type": kind,
                "occurred_at": NOW - ago,
                "properties": {"machine": True} if machine else {"url": "/x"},
                "source": "test",
            }
            for kind, ago, machine in rows
        ],
    )


def test_attributes_and_engagement_are_read_for_each_contact(db: Session) -> None:
    lead = make_contact(
        db,
        title="Managing Director",
        locale="de-AT",
        company={
            "name": "Kanzlei",
            "domain": "kanzlei.example",
            "industry": "legal",
            "size_band": "51-200",
            "country": "at",
        },
    )
    quiet = make_contact(db, title="Office manager")
    bare = make_contact(db)
    day = timedelta(days=1)
    _events(
        db,
        lead.id,
        ("email.opened", 2 * day, False),
        ("email.opened", 3 * day, False),
        ("email.opened", 4 * day, False),
        ("email.opened", 4 * day, True),  # a scanner's open: not a person's
        ("email.clicked", 5 * day, False),
        ("email.opened", 91 * day, False),  # before the 90-day window
        ("page.visited", 10 * day, False),
        ("page.visited", 11 * day, False),
        ("webinar.attended", 30 * day, False),
        ("form.submitted", 60 * day, False),
        ("nps.answered", 2 * day, False),  # not a feature
    )
    _events(db, quiet.id, ("email.opened", -day, False))  # after `as_of`: not seen yet
    db.flush()
    rows = features.read_features(
        db, features.scoring_population(now=NOW, contact_ids=[lead.id, quiet.id, bare.id])
    )
    assert rows.contact_ids.tolist() == sorted([lead.id, quiet.id, bare.id])
    at = {int(i): n for n, i in enumerate(rows.contact_ids)}
    counts = dict(
        zip((name for name, _, _ in features.ENGAGEMENT), rows.counts[at[lead.id]], strict=True)
    )
    assert counts == {
        "email_opens": 3,
        "email_clicks": 1,
        "email_replies": 0,
        "webinar_registrations": 0,
        "webinar_attendance": 1,
        "page_visits": 2,
        "form_submissions": 1,
    }
    assert rows.counts[at[quiet.id]].tolist() == [0] * len(features.ENGAGEMENT)
    values = {name: column[at[lead.id]] for name, column in rows.attributes.items()}
    assert values == {
        "size_band": "51-200",
        "industry": "legal",
        "country": "AT",
        "language": "de",
        "seniority": "executive",
    }
    assert rows.attributes["seniority"][at[quiet.id]] == "manager"
    assert all(column[at[bare.id]] is None for column in rows.attributes.values())


def test_training_rows_are_labelled_and_looked_at_before_conversion(db: Session) -> None:
    old = NOW - timedelta(days=200)
    won, moved, customer, lost, young = (make_contact(db) for _ in range(5))
    db.execute(
        update(Contact).where(Contact.id.in_([won.id, moved.id, lost.id])).values(created_at=old)
    )
    # Too young to count as a negative: it has not had the chance to convert.
    db.execute(
        update(Contact).where(Contact.id == young.id).values(created_at=NOW - timedelta(days=10))
    )
    db.execute(
        update(Contact)
        .where(Contact.id == customer.id)
        .values(lifecycle_stage="customer", created_at=NOW - timedelta(days=10))
    )
    conversion = timedelta(days=30)
    _events(
        db,
        won.id,
        ("deal.won", conversion, False),
        ("page.visited", conversion + timedelta(days=5), False),  # before the deal: counts
        ("page.visited", timedelta(days=2), False),  # after it: does not
    )
    db.execute(
        insert(LifecycleChange),
        [
            {
                "contact_id": moved.id,
                "to_stage": "customer",
                "from_stage": "sql",
                "reason": "",
                "source": "test",
                "occurred_at": NOW - conversion,
            }
        ],
    )
    db.flush()
    population = features.training_population(now=NOW)
    labels = dict(db.execute(select(population.c.contact_id, population.c.label)).all())
    assert labels == {won.id: 1, moved.id: 1, customer.id: 1, lost.id: 0}
    rows = features.read_features(db, population)
    visits = dict(zip(rows.contact_ids.tolist(), rows.counts[:, 5].tolist(), strict=True))
    assert visits[won.id] == 1


def test_one_hot_columns_keep_the_commonest_values_up_to_the_cap() -> None:
    ids = np.arange(1, 201, dtype=np.int64)
    industries = np.array([f"i{n % 12}" for n in range(190)] + [None] * 10, dtype=object)
    rows = features.FeatureRows(
        ids,
        {name: np.array([None] * 200, dtype=object) for name in features.ATTRIBUTES}
        | {"industry": industries},
        np.zeros((200, len(features.ENGAGEMENT))),
    )
    spec = FeatureSpec.choose(rows)
    assert len(spec.categories["industry"]) == features.MAX_CATEGORIES
    assert spec.categories["size_band"] == []
    matrix = spec.matrix(rows)
    assert matrix.shape == (200, features.MAX_CATEGORIES + len(features.ENGAGEMENT))
    assert matrix[:, : features.MAX_CATEGORIES].sum(axis=1).max() == 1


def test_a_segment_rule_can_ask_for_a_predicted_probability(db: Session) -> None:
    likely = make_contact(db)
    unlikely = make_contact(db)
    make_contact(db)  # never scored: matches no positive test
    db.execute(update(Contact).where(Contact.id == likely.id).values(predicted_probability=0.42))
    db.execute(update(Contact).where(Contact.id == unlikely.id).values(predicted_probability=0.1))
    rule = parse_rule(
        {"version": 1, "rule": {"field": "predicted_probability", "op": "gte", "value": 0.3}}
    )
    assert list(db.scalars(matching_contacts(rule, now=NOW))) == [likely.id]
