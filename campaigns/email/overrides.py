"""What an experiment's variant changes about a message: its subject, preheader, sender
name, or the template version it is rendered from.

The pipeline takes them as one value (`Overrides`), stores them on the message row
(`email_messages.overrides`, see `as_json`) and reads them back when it builds a
message again, so a resent or resumed message is the same variant as the first try.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.errors import Problem
from nurture.models import EmailTemplateVersion
from templates.context import ALLOWED_NAMES
from templates.problems import Part
from templates.sandbox import static_problems

# As long as the template's own subject and preheader may be (the variant columns).
MAX_SUBJECT = 1000
MAX_PREHEADER = 1000
# A display name longer than this only ends up cut off in every mail client.
MAX_FROM_NAME = 200
_FIELDS = ("subject", "preheader", "from_name", "version")


@dataclass(frozen=True, slots=True)
class Overrides:
    """None in a field means "as the template has it"."""

    subject: str | None = None
    preheader: str | None = None
    from_name: str | None = None
    version: int | None = None

    @property
    def empty(self) -> bool:
        return all(getattr(self, name) is None for name in _FIELDS)

    @property
    def texts(self) -> tuple[str | None, str | None]:
        """The parts that change the compiled template (its cache key with the variant)."""
        return (self.subject, self.preheader)

    def as_json(self) -> dict[str, Any] | None:
        """The stored form: the fields that are set; None when nothing is overridden."""
        values = {name: getattr(self, name) for name in _FIELDS}
        kept = {name: value for name, value in values.items() if value is not None}
        return kept or None

    @classmethod
    def from_json(cls, value: Mapping[str, Any] | None) -> Overrides | None:
        """Back from `as_json` (a stored row); None for nothing overridden. Unknown keys
        are ignored, so a row written by a newer release still builds."""
        if not value:
            return None
        version = value.get("version")
        found = cls(
            subject=_text(value.get("subject")),
            preheader=_text(value.get("preheader")),
            from_name=_text(value.get("from_name")),
            version=version if isinstance(version, int) and not isinstance(version, bool) else None,
        )
        return None if found.empty else found


def problems(
    session: Session, template_id: int | None, overrides: Overrides | None, where: str
) -> list[Problem]:
    """Everything wrong with `overrides` for the template, each naming `f"{where}.<field>"`.

    Subject and preheader must compile in the template sandbox (with the names a
    template may use), a sender name must fit in a header, and a pinned version must
    exist for the template. No problems for None.
    """
    if overrides is None:
        return []
    found: list[Problem] = []
    texts: tuple[tuple[Part, str | None, int], ...] = (
        ("subject", overrides.subject, MAX_SUBJECT),
        ("preheader", overrides.preheader, MAX_PREHEADER),
    )
    for part, text, limit in texts:
        if text is None:
            continue
        if part == "subject" and not text.strip():
            found.append(Problem(f"{where}.{part}", "must not be empty"))
            continue
        if len(text) > limit:
            found.append(Problem(f"{where}.{part}", f"must be at most {limit} characters"))
            continue
        for problem in static_problems(text, part, allowed_names=ALLOWED_NAMES, html=False):
            line = "" if problem.line is None else f"line {problem.line}: "
            found.append(Problem(f"{where}.{part}", line + problem.message))
    name = overrides.from_name
    if name is not None:
        if not name.strip():
            found.append(Problem(f"{where}.from_name", "must not be empty"))
        elif len(name) > MAX_FROM_NAME:
            found.append(
                Problem(f"{where}.from_name", f"must be at most {MAX_FROM_NAME} characters")
            )
        elif any(ord(c) < 32 or ord(c) == 127 for c in name):
            found.append(
                Problem(f"{where}.from_name", "must not hold line breaks or control characters")
            )
    number = overrides.version
    if number is not None:
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            found.append(Problem(f"{where}.version", "must be a version number (1 or more)"))
        elif template_id is None or not _version_exists(session, template_id, number):
            found.append(Problem(f"{where}.version", f"the template has no version {number}"))
    return found


def _version_exists(session: Session, template_id: int, number: int) -> bool:
    found = session.scalar(
        select(EmailTemplateVersion.id).where(
            EmailTemplateVersion.template_id == template_id,
            EmailTemplateVersion.number == number,
        )
    )
    return found is not None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
