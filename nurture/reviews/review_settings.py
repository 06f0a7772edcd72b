"""The reviews settings row: referral sequence, thank-you stages and template, reward."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from nurture import audit
from nurture.errors import InvalidInput, Problem
from nurture.models import EmailTemplate, ReferralStatus, ReviewSettings, Sequence
from nurture.validation import holds_nul, is_id, parse_id

SETTINGS_ID = 1
MAX_REWARD_TEXT = 500
# The stages at which an advocate can be thanked (refused submissions are never).
THANK_STAGES = (
    ReferralStatus.LEAD.value,
    ReferralStatus.QUALIFIED.value,
    ReferralStatus.WON.value,
    ReferralStatus.REWARDED.value,
)
DEFAULT_THANK_STAGES = [ReferralStatus.LEAD.value, ReferralStatus.WON.value]


@dataclass(frozen=True, slots=True)
class SettingsInput:
    referral_sequence_id: int | None
    thank_stages: tuple[str, ...]
    thank_template_id: int | None
    reward_text: str


def get(session: Session) -> ReviewSettings:
    """The settings row (made with defaults the first time)."""
    row = session.get(ReviewSettings, SETTINGS_ID)
    if row is not None:
        return row
    row = ReviewSettings(id=SETTINGS_ID, thank_stages=list(DEFAULT_THANK_STAGES), reward_text="")
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        found = session.get(ReviewSettings, SETTINGS_ID)
        if found is None:
            raise
        return found
    return row


def check(raw: Mapping[str, object]) -> SettingsInput:
    """InvalidInput naming referral_sequence_id, thank_stages, thank_template_id, reward_text."""
    problems: list[Problem] = []
    sequence_id = _optional_id(raw.get("referral_sequence_id"), "referral_sequence_id", problems)
    template_id = _optional_id(raw.get("thank_template_id"), "thank_template_id", problems)
    stages_raw = raw.get("thank_stages", [])
    stages: list[str] = []
    if not isinstance(stages_raw, list | tuple):
        problems.append(Problem("thank_stages", "must be a list of stages"))
    else:
        for index, stage in enumerate(stages_raw):
            if stage not in THANK_STAGES:
                problems.append(
                    Problem("thank_stages", f"must each be one of {', '.join(THANK_STAGES)}", index)
                )
            elif stage not in stages:
                stages.append(stage)
    reward = raw.get("reward_text", "")
    if reward is None:
        reward = ""
    if not isinstance(reward, str) or holds_nul(reward):
        problems.append(Problem("reward_text", "must be text"))
        reward = ""
    elif len(reward.strip()) > MAX_REWARD_TEXT:
        problems.append(Problem("reward_text", f"must be at most {MAX_REWARD_TEXT} characters"))
    if problems:
        raise InvalidInput(problems)
    ordered = tuple(s for s in THANK_STAGES if s in stages)
    return SettingsInput(sequence_id, ordered, template_id, reward.strip())


def save(session: Session, data: SettingsInput, *, actor: str) -> ReviewSettings:
    """Store the settings; the caller commits. InvalidInput for an unknown sequence or
    template (or one that is not marketing mail, which a thank-you is)."""
    problems: list[Problem] = []
    if data.referral_sequence_id is not None and (
        session.get(Sequence, data.referral_sequence_id) is None
    ):
        problems.append(Problem("referral_sequence_id", "no such sequence"))
    if data.thank_template_id is not None:
        kind = session.scalar(
            select(EmailTemplate.kind).where(EmailTemplate.id == data.thank_template_id)
        )
        if kind is None:
            problems.append(Problem("thank_template_id", "no such template"))
        elif kind != "marketing":
            problems.append(Problem("thank_template_id", "must be a marketing template"))
    if problems:
        raise InvalidInput(problems)
    row = get(session)
    before = _snapshot(row)
    row.referral_sequence_id = data.referral_sequence_id
    row.thank_stages = list(data.thank_stages)
    row.thank_template_id = data.thank_template_id
    row.reward_text = data.reward_text
    row.updated_by = actor[:200]
    after = _snapshot(row)
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if changes:
        audit.record(
            session,
            actor=actor,
            action="review_settings.updated",
            entity_type="review_settings",
            entity_id=SETTINGS_ID,
            changes=changes,
        )
    session.flush()
    return row


def _snapshot(row: ReviewSettings) -> dict[str, object]:
    return {
        "referral_sequence_id": row.referral_sequence_id,
        "thank_stages": list(row.thank_stages or []),
        "thank_template_id": row.thank_template_id,
        "reward_text": row.reward_text,
    }


def _optional_id(value: object, field: str, problems: list[Problem]) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = parse_id(value)
    if not isinstance(value, int) or not is_id(value):
        problems.append(Problem(field, "must be an id or empty"))
        return None
    return value
