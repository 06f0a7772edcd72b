"""What an experiment's variant changes about a message: its subject, preheader, sender
name, or the template version it is rendered from.

The pipeline takes them as one value (`Overrides`), stores them on the message row
(`email_messages.overrides`, see `as_json`) and reads them back when it builds a
message again, so a resent or resumed message is the same variant as the first try.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.errors import InvalidInput, Problem
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
        """Back from `as_json` (a stored row); None for nothing overridden. Other keys
        are ignored, so a row written by a newer release still builds, and an
        experiment variant's `content` reads as it is (its `template_id` and `delay`
        are the caller's to apply)."""
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
    found = list(_text_problems(overrides.subject, overrides.preheader, overrides.from_name, where))
    number = overrides.version
    if number is not None:
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            found.append(Problem(f"{where}.version", "must be a version number (1 or more)"))
        elif template_id is None or not _version_exists(session, template_id, number):
            found.append(Problem(f"{where}.version", f"the template has no version {number}"))
    return found


def check(overrides: Overrides | None) -> None:
    """InvalidInput naming `overrides.<field>` for texts that would not compile or fit a
    header. The pipeline calls it before it records a message: a broken variant then
    records nothing, rather than claiming messages it cannot build. (A missing pinned
    version is the pipeline's NotFound, as for a missing template.)"""
    if overrides is None:
        return
    found = _text_problems(overrides.subject, overrides.preheader, overrides.from_name, "overrides")
    if found:
        raise InvalidInput(list(found))


# Cached: a sequence sends one message at a time with the same variant's overrides, and
# parsing the texts again for each would cost more than rendering them.
@lru_cache(maxsize=256)
def _text_problems(
    subject: str | None, preheader: str | None, from_name: str | None, where: str
) -> tuple[Problem, ...]:
    found: list[Problem] = []
    texts: tuple[tuple[Part, str | None, int], ...] = (
        ("subject", subject, MAX_SUBJECT),
        ("preheader", preheader, MAX_PREHEADER),
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
    if from_name is not None:
        if not from_name.strip():
            found.append(Problem(f"{where}.from_name", "must not be empty"))
        elif len(from_name) > MAX_FROM_NAME:
            found.append(
                Problem(f"{where}.from_name", f"must be at most {MAX_FROM_NAME} characters")
            )
        elif any(ord(c) < 32 or ord(c) == 127 for c in from_name):
            found.append(
                Problem(f"{where}.from_name", "must not hold line breaks or control characters")
            )
    return tuple(found)


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
