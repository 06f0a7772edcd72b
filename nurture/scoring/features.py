"""What the predictive model sees of a contact, built in grouped SQL on both databases.

A population is a subquery of `(contact_id, as_of)`: the moment each contact is
looked at. Two statements read it whatever its size, one per feature family:
fit attributes (company size band, industry, country, the locale's language,
title seniority) and engagement (counts of events of a few kinds in the
WINDOW_DAYS before `as_of`). numpy then one-hot encodes the attributes (the
categories a model keeps are fixed when it is fitted) and log1p-scales the counts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import (
    ColumnElement,
    Subquery,
    and_,
    bindparam,
    case,
    func,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

from nurture.models import Company, Contact, Event, LifecycleChange, LifecycleStage
from nurture.models.base import UTCDateTime
from nurture.sqlsets import among
from segments.sqlfuncs import JsonValue

Floats = NDArray[np.float64]

WINDOW_DAYS = 90
# Attribute values seen fewer times than this in the training rows get no column
# of their own (they join "other or unknown", the baseline every one-hot leaves out).
MIN_CATEGORY_ROWS = 5
# At most this many columns per attribute: the commonest values.
MAX_CATEGORIES = 8

# A contact became a customer when it is one now (or was), when its lifecycle
# history shows a move to customer, or when a deal with it was won.
CUSTOMER_STAGES = (LifecycleStage.CUSTOMER.value, LifecycleStage.FORMER_CUSTOMER.value)
WON_EVENTS = ("deal.won",)
# Contacts that did not convert count as negatives only once they had this long to.
NEGATIVE_MIN_AGE_DAYS = 90

# (feature name, event type, people only: machine opens and clicks left out)
ENGAGEMENT: tuple[tuple[str, str, bool], ...] = (
    ("email_opens", "email.opened", True),
    ("email_clicks", "email.clicked", True),
    ("email_replies", "email.replied", False),
    ("webinar_registrations", "webinar.registered", False),
    ("webinar_attendance", "webinar.attended", False),
    ("page_visits", "page.visited", False),
    ("form_submissions", "form.submitted", False),
)
ENGAGEMENT_LABELS = {
    "email_opens": "E-mail opens",
    "email_clicks": "E-mail clicks",
    "email_replies": "E-mail replies",
    "webinar_registrations": "Webinar registrations",
    "webinar_attendance": "Webinars attended",
    "page_visits": "Page visits",
    "form_submissions": "Forms submitted",
}

# Title keywords, tried in this order (lower-cased substrings of the job title).
SENIORITY: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "executive",
        ("chief", "ceo", "founder", "owner", "partner", "president", "managing director"),
    ),
    ("director", ("director", "head of", "vp ", "vice president")),
    ("manager", ("manager", "lead", "principal", "senior")),
)
ATTRIBUTES = ("size_band", "industry", "country", "language", "seniority")
ATTRIBUTE_LABELS = {
    "size_band": "Company size",
    "industry": "Industry",
    "country": "Country",
    "language": "Language",
    "seniority": "Seniority",
}


class DaysBefore(ColumnElement[datetime]):
    """`moment - N days` on either database (SQLite has no interval arithmetic)."""

    inherit_cache = True
    type = UTCDateTime()
    _traverse_internals = [
        ("moment", InternalTraversal.dp_clauseelement),
        ("days", InternalTraversal.dp_plain_obj),
    ]

    def __init__(self, moment: ColumnElement[Any], days: int) -> None:
        self.moment = moment
        self.days = int(days)


@compiles(DaysBefore, "postgresql")
def _days_before_pg(element: DaysBefore, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.moment, **kw)} - make_interval(days => {element.days}))"


@compiles(DaysBefore, "sqlite")
def _days_before_sqlite(element: DaysBefore, compiler: SQLCompiler, **kw: Any) -> str:
    # Stored as naive 'YYYY-MM-DD HH:MM:SS.ffffff' text, which datetime() reads and
    # which compares as text with what it returns.
    return f"datetime({compiler.process(element.moment, **kw)}, '-{element.days} days')"


def _moment(value: datetime) -> ColumnElement[datetime]:
    return bindparam(None, value, type_=UTCDateTime())


def training_population(*, now: datetime) -> Subquery:
    """Labelled history: `(contact_id, label, as_of)` for every live contact that
    converted (label 1, looked at just before it converted when that moment is
    known) or that had NEGATIVE_MIN_AGE_DAYS to and did not (label 0, looked at now)."""
    changed = (
        select(
            LifecycleChange.contact_id.label("contact_id"),
            func.min(LifecycleChange.occurred_at).label("at"),
        )
        .where(LifecycleChange.to_stage == LifecycleStage.CUSTOMER.value)
        .group_by(LifecycleChange.contact_id)
        .subquery("changed")
    )
    won = (
        select(Event.contact_id.label("contact_id"), func.min(Event.occurred_at).label("at"))
        .where(Event.type.in_(WON_EVENTS))
        .group_by(Event.contact_id)
        .subquery("won")
    )
    converted_at = case(
        (changed.c.at.is_(None), won.c.at),
        (won.c.at.is_(None), changed.c.at),
        (changed.c.at < won.c.at, changed.c.at),
        else_=won.c.at,
    )
    positive = or_(
        Contact.lifecycle_stage.in_(CUSTOMER_STAGES),
        changed.c.at.is_not(None),
        won.c.at.is_not(None),
    )
    cutoff = DaysBefore(_moment(now), NEGATIVE_MIN_AGE_DAYS)
    return (
        select(
            Contact.id.label("contact_id"),
            case((positive, 1), else_=0).label("label"),
            func.coalesce(converted_at, _moment(now)).label("as_of"),
        )
        .select_from(Contact)
        .outerjoin(changed, changed.c.contact_id == Contact.id)
        .outerjoin(won, won.c.contact_id == Contact.id)
        .where(Contact.erased_at.is_(None), or_(positive, Contact.created_at < cutoff))
        .subquery("population")
    )


def scoring_population(
    *,
    now: datetime,
    contact_ids: list[int] | None = None,
    after_id: int = 0,
    limit: int | None = None,
    session: Session | None = None,
) -> Subquery:
    """Live contacts looked at `now`: the given ones, or a page of all by id.

    With `session`, the ids travel as one array parameter on PostgreSQL (a thousand
    placeholders cost more to plan than the statement takes to run)."""
    stmt = select(Contact.id.label("contact_id"), _moment(now).label("as_of")).where(
        Contact.erased_at.is_(None)
    )
    if contact_ids is not None:
        stmt = stmt.where(
            Contact.id.in_(contact_ids)
            if session is None
            else among(session, Contact.id, contact_ids, integers=True)
        )
    if after_id:
        stmt = stmt.where(Contact.id > after_id)
    if limit is not None:
        stmt = stmt.order_by(Contact.id).limit(limit)
    return stmt.subquery("population")


def _seniority() -> ColumnElement[Any]:
    title = func.lower(func.coalesce(Contact.title, ""))
    return case(
        *(
            (or_(*(title.contains(word, autoescape=True) for word in words)), level)
            for level, words in SENIORITY
        ),
        else_=None,
    )


@dataclass(frozen=True, slots=True)
class FeatureRows:
    """Raw features of a population, rows in contact id order."""

    contact_ids: NDArray[np.int64]
    # Attribute name -> one text value (or None) per row.
    attributes: dict[str, NDArray[np.object_]]
    # Rows x ENGAGEMENT: event counts in the window.
    counts: Floats
    # The population's `label` column when it has one (read in the same statement as
    # the attributes, so rows and labels cannot drift apart under concurrent writes).
    labels: Floats | None = None


def read_features(session: Session, population: Subquery) -> FeatureRows:
    """Two grouped statements, whatever the population's size."""
    labelled = "label" in population.c
    attribute_rows = session.execute(
        select(
            population.c.contact_id,
            Company.size_band,
            Company.industry,
            func.upper(Company.country),
            func.lower(func.substr(Contact.locale, 1, 2)),
            _seniority(),
            *([population.c.label] if labelled else []),
        )
        .select_from(population)
        .join(Contact, Contact.id == population.c.contact_id)
        .outerjoin(Company, Company.id == Contact.company_id)
        .order_by(population.c.contact_id)
    ).all()
    ids = np.fromiter((row[0] for row in attribute_rows), dtype=np.int64, count=len(attribute_rows))
    attributes: dict[str, NDArray[np.object_]] = {}
    for position, name in enumerate(ATTRIBUTES, start=1):
        column = np.empty(len(attribute_rows), dtype=object)
        column[:] = [row[position] or None for row in attribute_rows]
        attributes[name] = column
    counts = np.zeros((len(ids), len(ENGAGEMENT)))
    for row in session.execute(_engagement(population)):
        position = int(np.searchsorted(ids, row[0]))
        if position < len(ids) and ids[position] == row[0]:
            counts[position] = [float(value or 0) for value in row[1:]]
    labels = (
        np.fromiter((row[-1] for row in attribute_rows), dtype=np.float64, count=len(ids))
        if labelled
        else None
    )
    return FeatureRows(ids, attributes, counts, labels)


def _engagement(population: Subquery) -> Any:
    machine = JsonValue(Event.__table__.c.properties, "machine", "boolean")
    human: ColumnElement[bool] = or_(machine.is_(None), not_(machine))
    columns = [
        func.sum(
            case((and_(Event.type == kind, human if people_only else true()), 1), else_=0)
        ).label(name)
        for name, kind, people_only in ENGAGEMENT
    ]
    return (
        select(Event.contact_id, *columns)
        .select_from(Event)
        .join(population, population.c.contact_id == Event.contact_id)
        .where(
            Event.type.in_([kind for _, kind, _ in ENGAGEMENT]),
            Event.occurred_at >= DaysBefore(population.c.as_of, WINDOW_DAYS),
            Event.occurred_at < population.c.as_of,
        )
        .group_by(Event.contact_id)
    )


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """The columns of a model: the attribute values that got a one-hot column each,
    then one log1p count per engagement kind."""

    categories: dict[str, list[str]]

    @classmethod
    def choose(cls, rows: FeatureRows) -> FeatureSpec:
        """Keep each attribute's commonest values, at most MAX_CATEGORIES seen at least
        MIN_CATEGORY_ROWS times (ties by value, so a refit on the same data agrees)."""
        categories: dict[str, list[str]] = {}
        for name in ATTRIBUTES:
            counted = Counter(v for v in rows.attributes[name].tolist() if v is not None)
            common = sorted(counted.items(), key=lambda item: (-item[1], item[0]))
            categories[name] = [v for v, n in common[:MAX_CATEGORIES] if n >= MIN_CATEGORY_ROWS]
        return cls(categories)

    @property
    def names(self) -> list[str]:
        one_hot = [f"{name}={value}" for name in ATTRIBUTES for value in self.categories[name]]
        return [*one_hot, *(name for name, _, _ in ENGAGEMENT)]

    def matrix(self, rows: FeatureRows) -> Floats:
        """Rows x names: 0/1 per kept category, log1p of each count."""
        columns = [
            (rows.attributes[name] == value).astype(np.float64)
            for name in ATTRIBUTES
            for value in self.categories.get(name, [])
        ]
        one_hot = np.column_stack(columns) if columns else np.zeros((len(rows.contact_ids), 0))
        return np.hstack([one_hot, np.log1p(rows.counts)])


def feature_label(name: str) -> str:
    """A feature name as a person reads it: "Industry: legal", "Page visits (90 days)"."""
    if "=" in name:
        attribute, value = name.split("=", 1)
        return f"{ATTRIBUTE_LABELS.get(attribute, attribute)}: {value}"
    return f"{ENGAGEMENT_LABELS.get(name, name)} ({WINDOW_DAYS} days)"
