"""The reviews settings row: referral sequence, thank-you stages and template, reward."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from nurture.models import ReviewSettings


@dataclass(frozen=True, slots=True)
class SettingsInput:
    referral_sequence_id: int | None
    thank_stages: tuple[str, ...]
    thank_template_id: int | None
    reward_text: str


def get(session: Session) -> ReviewSettings:
    """The settings row (made with defaults the first time)."""
    raise NotImplementedError


def check(raw: Mapping[str, object]) -> SettingsInput:
    """InvalidInput naming referral_sequence_id, thank_stages, thank_template_id, reward_text."""
    raise NotImplementedError


def save(session: Session, data: SettingsInput, *, actor: str) -> ReviewSettings:
    """Store the settings (InvalidInput for an unknown sequence or template)."""
    raise NotImplementedError
