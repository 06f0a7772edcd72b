"""Scores from events: the incremental path, the full rescore (decay), resets.

A contact's behaviour score is a pure function of its events, the active rules,
its adjustments and the moment `now`:

    score = round( Σ points_i · 2^(-age_i / half_life) )      age_i = now - t_i in days

over every award of nurture.scoring.awards and every adjustment (an award or
adjustment after `now` counts in full). The fit grade maps the sum of the points of
the fit rules a contact matches to A-D by the settings' thresholds (no active fit
rule: no grade). Both are computed by one statement, written to `contacts.score` and
`contacts.fit_grade` only where they differ, and each change is logged in
`score_history` (one row per contact and UTC day, the day's last value).

Because the score is recomputed from events rather than counted up, a redelivered
batch, events arriving out of order and concurrent workers all end in the same
numbers, and the incremental path (`apply_events`, a handful of contacts) and the
full rescore (`rescore_all`, every contact) are the same statement with and
without a restriction.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Date,
    Float,
    Select,
    String,
    Table,
    case,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from nurture.errors import InvalidInput
from nurture.models import (
    BehaviourRule,
    Contact,
    Event,
    FitRule,
    ScoreAdjustment,
    ScoreHistory,
    utcnow,
)
from nurture.scoring.awards import LoadedRule, award_rows
from nurture.scoring.rules import SettingsSpec, property_tests
from nurture.scoring.sqlmath import Epoch, RoundInt, exp_of
from nurture.scoring.store import get_settings, settings_spec
from nurture.sqlsets import among
from segments.compiler import RULE_FROM, compile_node
from segments.schema import Node, parse_rule

contacts = cast(Table, Contact.__table__)
events = cast(Table, Event.__table__)
adjustments = cast(Table, ScoreAdjustment.__table__)
history = cast(Table, ScoreHistory.__table__)
# Contacts per statement on the incremental path (well under SQLite's bind limit).
CHUNK = 1000
MAX_SET_VALUE = 1_000_000


@dataclass(frozen=True, slots=True)
class ScoringModel:
    """The active rules and settings, loaded once per run."""

    behaviour: tuple[LoadedRule, ...]
    fit: tuple[tuple[int, int, Node], ...]  # (rule id, points, condition)
    settings: SettingsSpec


def load_model(session: Session) -> ScoringModel:
    """Read the active rules and the settings (rules that no longer parse are skipped:
    every write checks them, so this only guards against hand-edited rows)."""
    behaviour: list[LoadedRule] = []
    for rule in session.scalars(select(BehaviourRule).where(BehaviourRule.active.is_(True))):
        try:
            tests = property_tests(rule.event_type, rule.where)
        except InvalidInput:
            continue
        threshold = rule.threshold_count is not None and rule.threshold_days is not None
        capped = rule.cap_points is not None and rule.cap_days is not None
        behaviour.append(LoadedRule(rule.id, tests, threshold or capped, threshold, capped))
    fit: list[tuple[int, int, Node]] = []
    for fit_rule in session.scalars(select(FitRule).where(FitRule.active.is_(True))):
        try:
            node = parse_rule({"version": 1, "rule": fit_rule.condition}).root
        except InvalidInput:
            continue
        fit.append((fit_rule.id, fit_rule.points, node))
    return ScoringModel(tuple(behaviour), tuple(fit), settings_spec(session))


def decay_factor(
    t: ColumnElement[float], now: datetime, half_life_days: float
) -> ColumnElement[float]:
    """2^(-age/half-life) for a time `t` in seconds since 1970; 1 for times after `now`."""
    rate = math.log(2) / (half_life_days * 86400.0)
    moment = literal(now.timestamp(), Float())
    return case(
        (t >= moment, literal(1.0, Float())), else_=exp_of((t - moment) * literal(rate, Float()))
    )


def point_rows(model: ScoringModel, *, contact_ids: Sequence[int] | None) -> Select[Any]:
    """SELECT contact_id, rule_id (NULL for adjustments), event_id, adjustment_id, t, points."""
    parts: list[Select[Any]] = []
    awarded = award_rows(model.behaviour, contact_ids=contact_ids)
    if awarded is not None:
        a = awarded.cte("awarded")
        parts.append(
            select(
                a.c.contact_id,
                a.c.rule_id,
                a.c.event_id,
                null().label("adjustment_id"),
                a.c.t,
                a.c.points,
            )
        )
    adjusted = select(
        adjustments.c.contact_id,
        null().label("rule_id"),
        null().label("event_id"),
        adjustments.c.id.label("adjustment_id"),
        Epoch(adjustments.c.occurred_at).label("t"),
        adjustments.c.points,
    )
    if contact_ids is not None:
        adjusted = adjusted.where(adjustments.c.contact_id.in_(list(contact_ids)))
    parts.append(adjusted)
    if len(parts) == 1:
        return parts[0]
    both = union_all(*parts).cte("points_union")
    return select(*both.c)


def totals(model: ScoringModel, *, now: datetime, contact_ids: Sequence[int] | None) -> Select[Any]:
    """SELECT contact_id, total: the exact (unrounded) decayed sum per contact with points."""
    rows = point_rows(model, contact_ids=contact_ids).cte("scored_points")
    decayed = rows.c.points * decay_factor(rows.c.t, now, model.settings.half_life_days)
    return select(rows.c.contact_id, func.sum(decayed).label("total")).group_by(rows.c.contact_id)


def fit_points(model: ScoringModel, *, now: datetime) -> ColumnElement[Any] | None:
    """The sum of the matched fit rules' points, over RULE_FROM; None without fit rules."""
    if not model.fit:
        return None
    terms = [case((compile_node(node, now), points), else_=0) for _, points, node in model.fit]
    total: ColumnElement[Any] = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def grade_of(points: ColumnElement[Any] | None, settings: SettingsSpec) -> ColumnElement[Any]:
    if points is None:
        return null()
    return case(
        (points >= settings.grade_a, "A"),
        (points >= settings.grade_b, "B"),
        (points >= settings.grade_c, "C"),
        else_="D",
    )


def target(model: ScoringModel, *, now: datetime, contact_ids: Sequence[int] | None) -> Select[Any]:
    """SELECT id, score, grade: what every live contact (or these) should hold at `now`."""
    sums = totals(model, now=now, contact_ids=contact_ids).cte("totals")
    score = RoundInt(func.coalesce(sums.c.total, literal(0.0, Float())))
    grade = grade_of(fit_points(model, now=now), model.settings)
    stmt = (
        select(contacts.c.id, score.label("score"), grade.label("grade"))
        .select_from(RULE_FROM.outerjoin(sums, sums.c.contact_id == contacts.c.id))
        .where(contacts.c.erased_at.is_(None))
    )
    if contact_ids is not None:
        stmt = stmt.where(contacts.c.id.in_(list(contact_ids)))
    return stmt


def apply_events(session: Session, event_ids: Iterable[int], *, now: datetime) -> set[int]:
    """Bring the scores and grades of the contacts these events belong to up to date.

    Answers the ids of contacts whose score or grade changed (for qualification).
    Idempotent: the contacts are recomputed from all their events, so a redelivered
    batch changes nothing.
    """
    return rescore_contacts(session, contacts_of(session, event_ids), now=now)


def contacts_of(session: Session, event_ids: Iterable[int]) -> set[int]:
    """The contacts these events belong to: what `process_events` rescores and predicts."""
    ids = list(event_ids)
    if not ids:
        return set()
    return set(
        session.scalars(
            select(events.c.contact_id).where(among(session, events.c.id, ids, integers=True))
        )
    )


def rescore_contacts(session: Session, contact_ids: Iterable[int], *, now: datetime) -> set[int]:
    """Recompute these contacts' scores and grades; answers the ids that changed.

    For anything that changes a few contacts' inputs outside the event stream
    (a contact's title or company edited, an adjustment).
    """
    ids = sorted(set(contact_ids))
    if not ids:
        return set()
    model = load_model(session)
    changed: set[int] = set()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        if _is_postgres(session):
            # Lock first (in id order, so two batches cannot deadlock): the computing
            # statement then starts after any concurrent writer of these contacts
            # committed, and sees its events.
            session.execute(
                select(contacts.c.id)
                .where(contacts.c.id.in_(chunk))
                .order_by(contacts.c.id)
                .with_for_update()
            )
        written = _write(session, model, now=now, contact_ids=chunk, want_ids=True)
        if isinstance(written, set):
            changed.update(written)
    _expire_loaded(session, changed)
    return changed


def rescore_all(session: Session, *, now: datetime) -> int:
    """Recompute every live contact's score (with decay to `now`) and grade in one
    set-based statement; answers how many contacts changed."""
    started = utcnow()
    model = load_model(session)
    result = _write(session, model, now=now, contact_ids=None, want_ids=False)
    _expire_loaded(session, None)
    # Bookkeeping on the real clock (the claim compares it with rule changes).
    get_settings(session).rescored_at = started
    return result if isinstance(result, int) else len(result)


def set_score(
    session: Session, contact_ids: Iterable[int], value: int, *, now: datetime, reason: str
) -> set[int]:
    """Make these contacts' score `value` at `now` (a recycled lead's reset), by an
    adjustment of the difference that decays like any points, so the explanation
    still adds up. Answers the ids whose score or grade changed."""
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_SET_VALUE:
        raise InvalidInput.single(
            "value", f"must be an integer from -{MAX_SET_VALUE} to {MAX_SET_VALUE}"
        )
    ids = sorted(set(contact_ids))
    if not ids:
        return set()
    model = load_model(session)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        sums = totals(model, now=now, contact_ids=chunk).cte("current")
        difference = literal(float(value), Float()) - func.coalesce(
            sums.c.total, literal(0.0, Float())
        )
        session.execute(
            adjustments.insert().from_select(
                ["contact_id", "points", "occurred_at", "reason"],
                select(
                    contacts.c.id,
                    difference,
                    literal(now, adjustments.c.occurred_at.type),
                    literal(reason[:500], String()),
                )
                .select_from(contacts.outerjoin(sums, sums.c.contact_id == contacts.c.id))
                .where(contacts.c.id.in_(chunk), contacts.c.erased_at.is_(None)),
            )
        )
    return rescore_contacts(session, ids, now=now)


def _write(
    session: Session,
    model: ScoringModel,
    *,
    now: datetime,
    contact_ids: Sequence[int] | None,
    want_ids: bool,
) -> set[int] | int:
    wanted = target(model, now=now, contact_ids=contact_ids).cte("target")
    differs = or_(
        contacts.c.score != wanted.c.score,
        contacts.c.fit_grade.is_distinct_from(wanted.c.grade),
    )
    change = (
        update(contacts)
        .where(contacts.c.id == wanted.c.id, differs)
        .values(score=wanted.c.score, fit_grade=wanted.c.grade)
    )
    day = literal(now.date(), Date())
    if _is_postgres(session):
        if contact_ids is None:
            # Every contact, in one long transaction: take only rows nobody else holds,
            # and never wait. Waiting here while `process_events` (which locks its
            # contacts, then waits for ours) holds one would deadlock; a contact
            # skipped now is being recomputed by that transaction, or after the
            # rescore by the actor's late pass, or tomorrow.
            free = (
                select(contacts.c.id)
                .select_from(contacts.join(wanted, contacts.c.id == wanted.c.id))
                .where(differs)
                .with_for_update(skip_locked=True, of=contacts)
                .cte("free")
            )
            change = (
                update(contacts)
                .where(contacts.c.id == wanted.c.id, contacts.c.id.in_(select(free.c.id)))
                .values(score=wanted.c.score, fit_grade=wanted.c.grade)
            )
        changed = change.returning(contacts.c.id, contacts.c.score).cte("changed")
        logged_insert = postgresql.insert(history).from_select(
            ["contact_id", "day", "score"], select(changed.c.id, day, changed.c.score)
        )
        logged = (
            logged_insert.on_conflict_do_update(
                index_elements=[history.c.contact_id, history.c.day],
                set_={"score": logged_insert.excluded.score},
            )
            .returning(history.c.contact_id)
            .cte("logged")
        )
        if want_ids:
            return set(session.scalars(select(logged.c.contact_id)))
        return int(session.scalar(select(func.count()).select_from(logged)) or 0)
    # SQLite has no writing CTEs: log the changes first, then make them.
    log_insert = sqlite.insert(history).from_select(
        ["contact_id", "day", "score"],
        select(wanted.c.id, day, wanted.c.score)
        .select_from(wanted.join(contacts, contacts.c.id == wanted.c.id))
        .where(differs),
    )
    session.execute(
        log_insert.on_conflict_do_update(
            index_elements=[history.c.contact_id, history.c.day],
            set_={"score": log_insert.excluded.score},
        )
    )
    if want_ids:
        return set(session.scalars(change.returning(contacts.c.id)))
    session.execute(change)
    # The driver reports no row count for a statement that starts with WITH.
    return int(session.scalar(select(func.changes())) or 0)


def _expire_loaded(session: Session, contact_ids: set[int] | None) -> None:
    """The statements bypass the ORM: make contacts already loaded in this session read
    their new score and grade (None: every loaded contact)."""
    for instance in list(session.identity_map.values()):
        if isinstance(instance, Contact) and (contact_ids is None or instance.id in contact_ids):
            session.expire(instance, ["score", "fit_grade", "updated_at"])


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"
