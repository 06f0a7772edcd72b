"""What the sequences API accepts and answers (documented in /schema), and builders from models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from campaigns.sequences.enrol_lists import ListEnrolment
from campaigns.sequences.listing import VersionInfo
from campaigns.sequences.mapping import MappingResult
from nurture.errors import Problem
from nurture.models import Enrolment, Sequence, SequenceVersion
from nurture.web.api.schemas import ProblemOut

_DEFINITION_EXAMPLE = {
    "steps": [
        {"key": "intro", "type": "email", "template_id": 1},
        {"key": "pause", "type": "wait", "duration": {"days": 4}},
        {"key": "call", "type": "task", "kind": "call"},
    ],
    "triggers": [{"event": "form.submitted", "where": {"form": "whitepaper"}}],
    "goal_group": "legal-compliance",
}
Definition = Annotated[
    dict[str, Any],
    Meta(
        description=(
            "The step graph: steps, triggers, goals, send_window, quiet_hours, reenrol, "
            "exclude_customers, goal_group. Problems are named by path, "
            "like `steps[2].template_id`."
        ),
        examples=[_DEFINITION_EXAMPLE],
    ),
]


class SequenceIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new sequence; it starts as a draft."""

    name: Annotated[str, Meta(max_length=200, examples=["Legal — compliance nurture"])]
    definition: Definition


class RenameIn(msgspec.Struct, forbid_unknown_fields=True):
    """The sequence's new name; its steps and versions stay as they are."""

    name: Annotated[str, Meta(max_length=200, examples=["Legal — DORA nurture"])]


class DefinitionIn(msgspec.Struct, forbid_unknown_fields=True):
    """The new definition: replaces a draft's, or publishes a new version of a running one."""

    definition: Definition


class StateCounts(msgspec.Struct):
    """Enrolments per state."""

    active: int
    paused: int
    completed: int
    exited: int
    failed: int


class SequenceSummary(msgspec.Struct):
    id: int
    name: str
    status: str
    current_version_id: int | None
    enrolments: StateCounts
    created_at: datetime
    updated_at: datetime


class SequenceList(msgspec.Struct):
    items: list[SequenceSummary]


class VersionOut(msgspec.Struct):
    """A version; `live` counts the people still walking it."""

    id: int
    number: int
    live: int
    created_at: datetime


class SequenceOut(msgspec.Struct):
    """A sequence with its current version's definition and every version, newest first.

    A draft is saved whatever its problems; `valid` is false and `problems` names each
    one by path (as a 422 would) until they are fixed. Activation refuses a draft with
    problems, and a running sequence only ever publishes a valid definition."""

    id: int
    name: str
    status: str
    current_version_id: int | None
    definition: dict[str, Any]
    valid: Annotated[bool, Meta(description="The current definition can be activated")]
    problems: Annotated[
        list[ProblemOut],
        Meta(description="What stops activation, by path, like `steps[2].template_id`"),
    ]
    versions: list[VersionOut]
    enrolments: StateCounts
    created_at: datetime
    updated_at: datetime


class StoppedOut(msgspec.Struct):
    """The stopped sequence, and how many people still inside it exited."""

    sequence: SequenceOut
    enrolments_stopped: int


class EnrolIn(msgspec.Struct, forbid_unknown_fields=True):
    """People to enrol, by contact id and/or by e-mail address (at most 10,000 of each)."""

    contact_ids: Annotated[list[int], Meta(max_length=10_000)] = []
    emails: Annotated[list[str], Meta(max_length=10_000, examples=[["ada@example.com"]])] = []


class SkippedOut(msgspec.Struct):
    """Someone not enrolled. `reason`: missing, erased, suppressed, customer, enrolled,
    enrolled_before, same_goal, unknown_email, invalid_email: ..., duplicate of line N."""

    reason: str
    contact_id: int | None
    email: str | None
    line: int | None


class EnrolOut(msgspec.Struct):
    enrolled: list[int]
    skipped: list[SkippedOut]


class EnrolmentOut(msgspec.Struct):
    id: int
    contact_id: int
    version_id: int
    state: str
    step_key: str | None
    next_run_at: datetime | None
    enrolled_at: datetime
    finished_at: datetime | None
    exit_reason: str | None


class EnrolmentPage(msgspec.Struct):
    """One page of enrolments by id; pass `next_cursor` back as `cursor` (null: no more)."""

    items: list[EnrolmentOut]
    next_cursor: str | None


class MappingIn(msgspec.Struct, forbid_unknown_fields=True):
    """Move people on an older version to the current one: old step key -> new step key."""

    from_version_id: int
    step_map: Annotated[dict[str, str], Meta(examples=[{"pause": "pause", "old-call": "call"}])]


class MappingOut(msgspec.Struct):
    """Per old step key: people moved, and people kept on the old version because they
    already ran a step ahead of their new one."""

    from_version_id: int
    to_version_id: int
    moved: dict[str, int]
    kept: dict[str, int]


def counts_out(counts: dict[str, int]) -> StateCounts:
    return StateCounts(**{name: counts.get(name, 0) for name in StateCounts.__struct_fields__})


def summary_out(sequence: Sequence, counts: dict[str, int]) -> SequenceSummary:
    return SequenceSummary(
        id=sequence.id,
        name=sequence.name,
        status=sequence.status,
        current_version_id=sequence.current_version_id,
        enrolments=counts_out(counts),
        created_at=sequence.created_at,
        updated_at=sequence.updated_at,
    )


def sequence_out(
    sequence: Sequence,
    current: SequenceVersion,
    versions: list[VersionInfo],
    counts: dict[str, int],
    problems: list[Problem],
) -> SequenceOut:
    return SequenceOut(
        id=sequence.id,
        name=sequence.name,
        status=sequence.status,
        current_version_id=sequence.current_version_id,
        definition=current.definition,
        valid=not problems,
        problems=[ProblemOut(p.field, p.message) for p in problems],
        versions=[
            VersionOut(i.version.id, i.version.number, i.live, i.version.created_at)
            for i in versions
        ],
        enrolments=counts_out(counts),
        created_at=sequence.created_at,
        updated_at=sequence.updated_at,
    )


def enrol_out(result: ListEnrolment) -> EnrolOut:
    return EnrolOut(
        enrolled=result.enrolled,
        skipped=[SkippedOut(s.reason, s.contact_id, s.email, s.line) for s in result.skipped],
    )


def enrolment_out(enrolment: Enrolment) -> EnrolmentOut:
    return EnrolmentOut(
        id=enrolment.id,
        contact_id=enrolment.contact_id,
        version_id=enrolment.version_id,
        state=enrolment.state,
        step_key=enrolment.step_key,
        next_run_at=enrolment.next_run_at,
        enrolled_at=enrolment.enrolled_at,
        finished_at=enrolment.finished_at,
        exit_reason=enrolment.exit_reason,
    )


def mapping_out(result: MappingResult) -> MappingOut:
    return MappingOut(result.from_version_id, result.to_version_id, result.moved, result.kept)
