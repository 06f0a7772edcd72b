"""The contact edit form: which fields it offers and how posted text becomes update data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from nurture.errors import Problem
from nurture.models import Contact, LifecycleStage
from nurture.validation import parse_id
from nurture.web.auth import Principal
from nurture.web.contact_changes import update_with_stage
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
# Why the stage changed: asked for with the stage, needed for a move back down the funnel.
STAGE_REASON = "stage_reason"
# Where the lifecycle history says a change came from.
SOURCE = "contact form"
_REASON_NEEDED = "Say why the contact moves back down the funnel (at most 500 characters)."
STAGES = [(stage.value, stage_label(stage.value)) for stage in LifecycleStage]


@dataclass(frozen=True, slots=True)
class FormState:
    """What the form shows: the values in its inputs and an error per field."""

    values: dict[str, str]
    errors: dict[str, str]

    @property
    def other_errors(self) -> list[str]:
        """Problems with no input of their own, shown above the form."""
        own = (*FIELDS, STAGE_REASON)
        return [f"{k}: {v}" if k else v for k, v in self.errors.items() if k not in own]


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
    values = {name: form.get(name, "") for name in (*FIELDS, STAGE_REASON)}
    errors: dict[str, str] = {}
    for problem in problems:
        if problem.field == "reason":
            errors.setdefault(STAGE_REASON, _REASON_NEEDED)
        elif problem.field == "stage":  # change_stage's name for the form's stage
            errors.setdefault("lifecycle_stage", problem.message)
        else:
            errors.setdefault(problem.field, problem.message)
    return FormState(values, errors)


def save(
    session: Session,
    contact_id: int,
    update: Mapping[str, object],
    form: Mapping[str, str],
    principal: Principal,
) -> None:
    """Store the edit. A new stage goes through the lifecycle's `change_stage`, like every
    other move: its history row, the `lifecycle.changed` event (triggers, goals, webhooks),
    the audit entry and the exit from sequences whose goal it is. InvalidInput as usual."""
    update_with_stage(
        session, contact_id, update, principal, reason=form.get(STAGE_REASON, ""), source=SOURCE
    )


def _text(value: object) -> str:
    return "" if value is None else str(value)
