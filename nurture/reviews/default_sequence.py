"""The editable default survey sequence: completion, survey, reminder, routing by category.

It is an ordinary sequence built from the engine's steps, so the firm edits the
delays, wording and routing in the builder like any other. Installing it when an
active survey sequence exists changes nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.content.registrations import starter_template_id
from campaigns.sequences import changes
from nurture.errors import InvalidInput
from nurture.models import Sequence, SequenceStatus, SequenceVersion

SURVEY_SEQUENCE_NAME = "After the project: NPS survey"
TRIGGER = "project.completed"
# The starter templates each ask sends.
STARTERS = {
    "nps": "nps",
    "feedback": "feedback_request",
    "testimonial": "testimonial_request",
    "referral": "referral",
}
DETRACTOR_CALL = (
    "The client gave a low score after the project. Call them within one working day: "
    "listen, read their comment on the survey, and agree on what we put right."
)


def install_survey_sequence(session: Session, *, actor: str, delay_days: int = 3) -> Sequence:
    """The active survey sequence, created and activated the first time.

    Loads the starter templates it sends (that commits them); the caller commits the
    sequence. InvalidInput when the definition is refused (a bug: it is ours).
    """
    existing = active_survey_sequence(session)
    if existing is not None:
        return existing
    templates = {ask: starter_template_id(session, name) for ask, name in STARTERS.items()}
    saved = changes.save_new(
        session,
        actor=actor,
        name=SURVEY_SEQUENCE_NAME,
        body=survey_definition(templates, delay_days=delay_days),
        then_activate=True,
    )
    if not saved.activated:
        raise InvalidInput(saved.problems)
    return saved.sequence


def active_survey_sequence(session: Session) -> Sequence | None:
    """An active sequence triggered by `project.completed`, if any."""
    rows = session.execute(
        select(Sequence, SequenceVersion.definition)
        .join(SequenceVersion, SequenceVersion.id == Sequence.current_version_id)
        .where(Sequence.status == SequenceStatus.ACTIVE.value)
        .order_by(Sequence.id)
    )
    for sequence, definition in rows:
        triggers = definition.get("triggers") if isinstance(definition, dict) else None
        if isinstance(triggers, list) and any(
            isinstance(t, dict) and t.get("event") == TRIGGER for t in triggers
        ):
            found: Sequence = sequence
            return found
    return None


def survey_definition(templates: dict[str, int], *, delay_days: int = 3) -> dict[str, Any]:
    """The default flow: wait, survey, reminder, then route by the latest category."""

    def ask(key: str, what: str) -> dict[str, Any]:
        return {"key": key, "type": "review_email", "ask": what, "template_id": templates[what]}

    def answered(key: str, days: int) -> dict[str, Any]:
        return {
            "key": key,
            "type": "wait",
            "event": "nps.answered",
            "since": "enrolment",
            "timeout": {"days": days},
        }

    def category(key: str, name: str, then: list[Any], otherwise: list[Any]) -> dict[str, Any]:
        return {
            "key": key,
            "type": "branch",
            "condition": {"event": "nps.answered", "where": {"category": [name]}},
            "then": then,
            "else": otherwise,
        }

    detractor = {
        "key": "detractor",
        "type": "branch",
        "condition": {"event": "nps.answered"},
        "then": [
            {
                "key": "call-detractor",
                "type": "task",
                "kind": "call",
                "instructions": DETRACTOR_CALL,
                "assign_to": "account_manager",
                "due_in_working_days": 1,
                "escalate": True,
            }
        ],
        "else": [{"key": "no-answer", "type": "exit"}],
    }
    return {
        "triggers": [{"event": TRIGGER}],
        "reenrol": "after_finish",
        "exclude_customers": False,
        "goals": [],
        "steps": [
            {"key": "after-completion", "type": "wait", "duration": {"days": delay_days}},
            ask("survey", "nps"),
            answered("wait-answer", 5),
            ask("reminder", "nps"),
            answered("wait-reminder", 7),
            category(
                "promoter",
                "promoter",
                [
                    ask("testimonial", "testimonial"),
                    {"key": "before-referral", "type": "wait", "duration": {"days": 2}},
                    ask("referral", "referral"),
                ],
                [category("passive", "passive", [ask("feedback", "feedback")], [detractor])],
            ),
        ],
    }
