"""Scoring rules and settings: read, create, change, delete, each change audited.

Every function checks the whole resulting rule (or settings) before writing
anything, so bad input changes nothing, and marks the settings row so the next
full rescore (`workers.scoring.rescore`, sent after the commit by the caller, or
found by the tick) applies the change to every contact.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from nurture import audit
from nurture.errors import NotFound
from nurture.models import BehaviourRule, Contact, FitRule, ScoringSettings, utcnow
from nurture.scoring.rules import (
    BEHAVIOUR_FIELDS,
    FIT_FIELDS,
    SETTINGS_FIELDS,
    SettingsSpec,
    check_behaviour_rule,
    check_fit_rule,
    check_settings,
)

SETTINGS_ID = 1


def get_settings(session: Session) -> ScoringSettings:
    """The settings row, created with the defaults (half-life 30 days, A 40, B 25, C 10)
    on first use."""
    row = session.get(ScoringSettings, SETTINGS_ID)
    if row is None:
        row = ScoringSettings(
            id=SETTINGS_ID, half_life_days=30.0, grade_a=40, grade_b=25, grade_c=10
        )
        # A savepoint: two first uses at once must not spoil the caller's transaction.
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:  # the other writer created it: read theirs
            found = session.get(ScoringSettings, SETTINGS_ID)
            if found is None:
                raise
            row = found
    return row


def settings_spec(session: Session) -> SettingsSpec:
    """The settings as the engine reads them."""
    row = get_settings(session)
    return SettingsSpec(
        half_life_days=row.half_life_days,
        grade_a=row.grade_a,
        grade_b=row.grade_b,
        grade_c=row.grade_c,
    )


def settings_document(row: ScoringSettings) -> dict[str, Any]:
    return {name: getattr(row, name) for name in SETTINGS_FIELDS}


def update_settings(
    session: Session, changes: Mapping[str, object], *, actor: str
) -> ScoringSettings:
    """Change the half-life and grade thresholds (fields left out keep their value)."""
    row = get_settings(session)
    before = settings_document(row)
    spec = check_settings({**before, **changes})
    after = {name: getattr(spec, name) for name in SETTINGS_FIELDS}
    changed = _changed(before, after)
    if changed:
        for name, value in after.items():
            setattr(row, name, value)
        row.updated_by = actor[:100]
        _rules_changed(session)
        audit.record(
            session,
            actor=actor,
            action="scoring.settings_updated",
            entity_type="scoring_settings",
            entity_id=SETTINGS_ID,
            changes=changed,
        )
    return row


def live_contact(session: Session, contact_id: int) -> int:
    """The id of a contact that exists and is not erased; NotFound otherwise."""
    contact = session.get(Contact, contact_id)
    if contact is None or contact.erased_at is not None:
        raise NotFound("contact", contact_id)
    return contact.id


# Behaviour rules


def list_behaviour_rules(session: Session, *, active_only: bool = False) -> list[BehaviourRule]:
    """Behaviour rules by id (the order they were made in)."""
    stmt = select(BehaviourRule).order_by(BehaviourRule.id)
    if active_only:
        stmt = stmt.where(BehaviourRule.active.is_(True))
    return list(session.scalars(stmt))


def get_behaviour_rule(session: Session, rule_id: int) -> BehaviourRule:
    rule = session.get(BehaviourRule, rule_id)
    if rule is None:
        raise NotFound("behaviour rule", rule_id)
    return rule


def behaviour_document(rule: BehaviourRule) -> dict[str, Any]:
    """A stored rule as the JSON the API answers and `update_behaviour_rule` merges into."""
    return {name: getattr(rule, name) for name in BEHAVIOUR_FIELDS}


def create_behaviour_rule(
    session: Session, document: Mapping[str, object], *, actor: str
) -> BehaviourRule:
    """Store a new behaviour rule (see nurture.scoring.rules for its fields)."""
    spec = check_behaviour_rule(document)
    rule = BehaviourRule(**{name: getattr(spec, name) for name in BEHAVIOUR_FIELDS})
    session.add(rule)
    session.flush()
    _rules_changed(session)
    _record(
        session,
        actor,
        "scoring.behaviour_rule_created",
        "scoring_behaviour_rule",
        rule.id,
        behaviour_document(rule),
    )
    return rule


def update_behaviour_rule(
    session: Session, rule_id: int, changes: Mapping[str, object], *, actor: str
) -> BehaviourRule:
    """Change some fields of a behaviour rule; the rule is checked whole as it would become.

    A field given as None clears it (caps and thresholds); left out keeps it.
    """
    rule = get_behaviour_rule(session, rule_id)
    before = behaviour_document(rule)
    spec = check_behaviour_rule({**before, **changes})
    after = {name: getattr(spec, name) for name in BEHAVIOUR_FIELDS}
    changed = _changed(before, after)
    if changed:
        for name, value in after.items():
            setattr(rule, name, value)
        _rules_changed(session)
        _record(
            session,
            actor,
            "scoring.behaviour_rule_updated",
            "scoring_behaviour_rule",
            rule.id,
            changed,
        )
    return rule


def delete_behaviour_rule(session: Session, rule_id: int, *, actor: str) -> None:
    rule = get_behaviour_rule(session, rule_id)
    document = behaviour_document(rule)
    session.delete(rule)
    _rules_changed(session)
    _record(
        session,
        actor,
        "scoring.behaviour_rule_deleted",
        "scoring_behaviour_rule",
        rule_id,
        document,
    )


# Fit rules


def list_fit_rules(session: Session, *, active_only: bool = False) -> list[FitRule]:
    """Fit rules by id."""
    stmt = select(FitRule).order_by(FitRule.id)
    if active_only:
        stmt = stmt.where(FitRule.active.is_(True))
    return list(session.scalars(stmt))


def get_fit_rule(session: Session, rule_id: int) -> FitRule:
    rule = session.get(FitRule, rule_id)
    if rule is None:
        raise NotFound("fit rule", rule_id)
    return rule


def fit_document(rule: FitRule) -> dict[str, Any]:
    return {name: getattr(rule, name) for name in FIT_FIELDS}


def create_fit_rule(session: Session, document: Mapping[str, object], *, actor: str) -> FitRule:
    """Store a new fit rule (see nurture.scoring.rules for its fields)."""
    spec = check_fit_rule(document)
    rule = FitRule(**{name: getattr(spec, name) for name in FIT_FIELDS})
    session.add(rule)
    session.flush()
    _rules_changed(session)
    _record(
        session, actor, "scoring.fit_rule_created", "scoring_fit_rule", rule.id, fit_document(rule)
    )
    return rule


def update_fit_rule(
    session: Session, rule_id: int, changes: Mapping[str, object], *, actor: str
) -> FitRule:
    """Change some fields of a fit rule; the rule is checked whole as it would become."""
    rule = get_fit_rule(session, rule_id)
    before = fit_document(rule)
    spec = check_fit_rule({**before, **changes})
    after = {name: getattr(spec, name) for name in FIT_FIELDS}
    changed = _changed(before, after)
    if changed:
        for name, value in after.items():
            setattr(rule, name, value)
        _rules_changed(session)
        _record(session, actor, "scoring.fit_rule_updated", "scoring_fit_rule", rule.id, changed)
    return rule


def delete_fit_rule(session: Session, rule_id: int, *, actor: str) -> None:
    rule = get_fit_rule(session, rule_id)
    document = fit_document(rule)
    session.delete(rule)
    _rules_changed(session)
    _record(session, actor, "scoring.fit_rule_deleted", "scoring_fit_rule", rule_id, document)


def mark_rules_changed(session: Session, *, now: datetime, actor: str) -> None:
    """Ask for a full rescore by hand (the tick sends it), recorded in the audit log."""
    _rules_changed(session, now)
    audit.record(
        session,
        actor=actor,
        action="scoring.rescore_requested",
        entity_type="scoring_settings",
        entity_id=SETTINGS_ID,
    )


def _rules_changed(session: Session, now: datetime | None = None) -> None:
    get_settings(session).rules_changed_at = now or utcnow()


def _changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    return {k: {"from": before.get(k), "to": v} for k, v in after.items() if before.get(k) != v}


def _record(
    session: Session,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: int,
    changes: dict[str, Any],
) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        changes=changes,
    )
