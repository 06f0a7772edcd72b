"""Qualification settings: defaults until saved, every bad field named, nothing half-saved."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.errors import InvalidInput
from nurture.models import AuditEntry, QualificationSettings
from nurture.qualification import settings
from tests.factories import make_user
from tests.qualification.helpers import rep


def test_defaults_until_saved_then_the_saved_values(db: Session) -> None:
    assert settings.get(db) == settings.DEFAULTS
    assert settings.get(db).enabled is False
    owner = rep(db)

    saved = settings.update(
        db,
        {"enabled": True, "sla_hours": 4, "work_days": [4, 0, 0], "fallback_owner_id": owner.id},
        actor="ann@example.com",
    )

    assert saved.work_days == (0, 4)
    assert settings.get(db) == saved
    entry = db.scalars(
        select(AuditEntry).where(AuditEntry.entity_type == "qualification_settings")
    ).one()
    assert entry.changes["sla_hours"] == [8, 4]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"sla_hours": 0}, "sla_hours"),
        ({"sla_hours": "8"}, "sla_hours"),
        ({"work_start": "9"}, "work_start"),
        ({"work_start": "18:00"}, "work_end"),
        ({"work_days": []}, "work_days"),
        ({"default_time_zone": "Mars/Base"}, "default_time_zone"),
        ({"recycle_sequence_id": 12345}, "recycle_sequence_id"),
        ({"recycle_score_to": -1}, "recycle_score_to"),
        ({"enabled": "yes"}, "enabled"),
        ({"colour": "red"}, "colour"),
        (
            {"mql_rule": {"version": 1, "rule": {"field": "shoe_size", "op": "gte", "value": 9}}},
            "mql_rule.rule.field",
        ),
    ],
)
def test_a_bad_field_is_named_and_nothing_is_saved(
    db: Session, changes: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        settings.update(db, {"enabled": True, "sla_hours": 4, **changes}, actor="test")
    assert field in [p.field for p in refused.value.problems]
    assert db.get(QualificationSettings, settings.SETTINGS_ID) is None


def test_the_fallback_owner_must_be_an_active_sales_user(db: Session) -> None:
    marketer = make_user(db, role="marketer")
    with pytest.raises(InvalidInput) as refused:
        settings.update(db, {"fallback_owner_id": marketer.id}, actor="test")
    assert refused.value.problems[0].describe() == (
        f"fallback_owner_id: user {marketer.id} is not an active sales user"
    )
