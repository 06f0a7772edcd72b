"""The contact edit form: which fields it offers and how posted text becomes update data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from nurture.errors import Problem
from nurture.models import Contact, LifecycleStage
from nurture.validation import parse_id
from nurture.web.ui.formatting import stage_label

TEXT_INPUTS = (
    ("first_name", "First name", "text", "given-name"),
    ("last_name", "Last name", "text", "family-name"),
    ("email", "E-mail", "email", "email"),
    ("title", "Job title", "text", "organization-title"),
    ("phone", "Phone", "tel", "tel"),
    ("time_zone", "Time zone", "text", "off"),
    ("locale", "Language", "text", "off"),
)
FIELDS = (*(name for name, *_ in TEXT_INPUTS), "lifecycle_stage", "owner_id", "notes")
STAGES = [(stage.value, stage_label(stage.value)) for stage in LifecycleStage]


@dataclass(frozen=True, slots=True)
class FormState:
    """What the form shows: the values in its inputs and an error per field."""

    values: dict[str, str]
    errors: dict[str, str]

    @property
    def other_errors(self) -> list[str]:
        """Problems with no input of their own, shown above the form."""
        return [f"{k}: {v}" if k else v for k, v in self.errors.items() if k not in FIELDS]


def from_contact(contact: Contact) -> FormState:
    values = {name: _text(getattr(contact, name)) for name in FIELDS}
    return FormState(values, {})


def parse(form: Mapping[str, str]) -> tuple[dict[str, object], list[Problem]]:
    """Update data for `update_contact` from the posted fields the form offers.

    Fields missing from the post are left out, so they keep their stored value.
    """
    data: dict[str, object] = {}
    problems: list[Problem] = []
    for name in FIELDS:
        if name not in form:
            continue
        raw = form[name]
        if name == "owner_id":
            owner = raw.strip()
            if not owner:
                data[name] = None
            elif (owner_id := parse_id(owner)) is not None:
                data[name] = owner_id
            else:
                problems.append(Problem(name, "choose an owner from the list"))
        else:
            data[name] = raw
    return data, problems


def with_errors(form: Mapping[str, str], problems: list[Problem]) -> FormState:
    """The form as posted, with each problem next to its field; nothing typed is lost."""
    values = {name: form.get(name, "") for name in FIELDS}
    errors: dict[str, str] = {}
    for problem in problems:
        errors.setdefault(problem.field, problem.message)
    return FormState(values, errors)


def _text(value: object) -> str:
    return "" if value is None else str(value)
