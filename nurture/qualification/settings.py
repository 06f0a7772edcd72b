"""The one row of qualification settings: read with defaults, changed only when all is valid.

Until the settings are first saved there is no row and qualification is off: a firm
turns it on deliberately (the settings page or PUT /api/v1/qualification/settings),
after it has scoring rules whose numbers the MQL rule can trust.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture import audit
from nurture.errors import InvalidInput, Problem
from nurture.models import QualificationSettings, Sequence
from nurture.qualification.sales_users import sales_user_problems
from nurture.qualification.sla import DEFAULT_WORK_DAYS, parse_clock, zone_named
from segments.validation import validate_rule

SETTINGS_ID = 1
MAX_SLA_HOURS = 1000
MAX_SCORE = 100_000
# Score 60 or more, fit grade B or better, and not a customer already.
DEFAULT_MQL_RULE: dict[str, Any] = {
    "version": 1,
    "rule": {
        "all": [
            {"field": "score", "op": "gte", "value": 60},
            {"field": "fit_grade", "op": "at_least", "value": "B"},
            {"field": "lifecycle_stage", "op": "not_in", "value": ["customer", "former_customer"]},
        ]
    },
}
FIELDS = (
    "enabled",
    "mql_rule",
    "sla_hours",
    "work_start",
    "work_end",
    "work_days",
    "default_time_zone",
    "fallback_owner_id",
    "recycle_sequence_id",
    "recycle_score_to",
)


@dataclass(frozen=True, slots=True)
class Settings:
    """The settings as plain values (`stored` is False while they are the defaults)."""

    enabled: bool
    mql_rule: dict[str, Any]
    sla_hours: int
    work_start: str
    work_end: str
    work_days: tuple[int, ...]
    default_time_zone: str
    fallback_owner_id: int | None
    recycle_sequence_id: int | None
    recycle_score_to: int | None
    stored: bool = True

    def as_dict(self) -> dict[str, Any]:
        values = {name: getattr(self, name) for name in FIELDS}
        values["work_days"] = list(self.work_days)
        return values


DEFAULTS = Settings(
    enabled=False,
    mql_rule=DEFAULT_MQL_RULE,
    sla_hours=8,
    work_start="09:00",
    work_end="17:00",
    work_days=DEFAULT_WORK_DAYS,
    default_time_zone="UTC",
    fallback_owner_id=None,
    recycle_sequence_id=None,
    recycle_score_to=None,
    stored=False,
)


def get(session: Session) -> Settings:
    """The stored settings, or the defaults (qualification off) if none were saved."""
    row = session.get(QualificationSettings, SETTINGS_ID)
    return DEFAULTS if row is None else _from_row(row)


def update(
    session: Session,
    changes: Mapping[str, Any],
    *,
    actor: str,
    user_id: int | None = None,
) -> Settings:
    """Apply `changes` (any of FIELDS) after checking all of them; InvalidInput names
    each bad field and nothing is written. The caller commits."""
    current = get(session)
    merged = current.as_dict()
    problems = [Problem(str(k), "is not a known setting") for k in changes if k not in FIELDS]
    merged.update({k: v for k, v in changes.items() if k in FIELDS})
    clean = _checked(session, merged, problems)
    if problems:
        raise InvalidInput(problems)
    row = session.get(QualificationSettings, SETTINGS_ID, with_for_update=True)
    if row is None:
        row = QualificationSettings(id=SETTINGS_ID)
        session.add(row)
    before = current.as_dict()
    for name in FIELDS:
        setattr(row, name, clean[name])
    row.work_days = {"days": list(clean["work_days"])}
    row.updated_by_id = user_id
    session.flush()
    after = _from_row(row)
    diff = {
        name: [before[name], value]
        for name, value in after.as_dict().items()
        if before[name] != value or not current.stored
    }
    audit.record(
        session,
        actor=actor,
        action="qualification.settings_changed",
        entity_type="qualification_settings",
        entity_id=SETTINGS_ID,
        changes=diff,
    )
    return after


def _checked(session: Session, values: dict[str, Any], problems: list[Problem]) -> dict[str, Any]:
    """The values in stored form; each bad one adds a problem naming its field."""
    clean = dict(values)

    def fail(field: str, message: str) -> None:
        problems.append(Problem(field, message))

    if not isinstance(values["enabled"], bool):
        fail("enabled", "must be true or false")
    try:
        validate_rule(session, values["mql_rule"])
    except InvalidInput as bad:
        problems.extend(
            Problem(f"mql_rule.{p.field}" if p.field else "mql_rule", p.message)
            for p in bad.problems
        )
    hours = values["sla_hours"]
    if not _is_int(hours) or not 1 <= hours <= MAX_SLA_HOURS:
        fail("sla_hours", f"must be a whole number of hours from 1 to {MAX_SLA_HOURS}")
    clocks = {}
    for name in ("work_start", "work_end"):
        try:
            if not isinstance(values[name], str):
                raise InvalidInput.single(name, "must be a time of day as HH:MM, e.g. 09:00")
            clocks[name] = parse_clock(values[name], name)
        except InvalidInput as bad:
            problems.extend(bad.problems)
    if len(clocks) == 2 and clocks["work_start"] >= clocks["work_end"]:
        fail("work_end", "must be later than work_start")
    days = values["work_days"]
    if (
        not isinstance(days, list | tuple)
        or not days
        or not all(_is_int(d) and 0 <= d <= 6 for d in days)
    ):
        fail("work_days", "must list at least one day, 0 (Monday) to 6 (Sunday)")
    else:
        clean["work_days"] = tuple(sorted(set(days)))
    zone = values["default_time_zone"]
    if not isinstance(zone, str):
        fail("default_time_zone", "must be an IANA time zone name, e.g. Europe/Berlin")
    else:
        try:
            zone_named(zone, "default_time_zone")
        except InvalidInput as bad:
            problems.extend(bad.problems)
    owner = values["fallback_owner_id"]
    if owner is not None and not _is_int(owner):
        fail("fallback_owner_id", "must be a user id or null")
    elif owner is not None:
        problems.extend(sales_user_problems(session, {"fallback_owner_id": owner}))
    sequence = values["recycle_sequence_id"]
    if sequence is not None and (
        not _is_int(sequence)
        or session.scalar(select(Sequence.id).where(Sequence.id == sequence)) is None
    ):
        fail("recycle_sequence_id", f"no sequence with id {sequence}")
    score = values["recycle_score_to"]
    if score is not None and (not _is_int(score) or not 0 <= score <= MAX_SCORE):
        fail("recycle_score_to", f"must be a whole number from 0 to {MAX_SCORE}, or null")
    return clean


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**62


def _from_row(row: QualificationSettings) -> Settings:
    stored_days = (row.work_days or {}).get("days")
    return Settings(
        enabled=row.enabled,
        mql_rule=row.mql_rule or DEFAULT_MQL_RULE,
        sla_hours=row.sla_hours,
        work_start=row.work_start,
        work_end=row.work_end,
        work_days=tuple(stored_days) if stored_days else DEFAULT_WORK_DAYS,
        default_time_zone=row.default_time_zone,
        fallback_owner_id=row.fallback_owner_id,
        recycle_sequence_id=row.recycle_sequence_id,
        recycle_score_to=row.recycle_score_to,
    )
