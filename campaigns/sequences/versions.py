"""Sequences and their versions: every edit publishes a new immutable version.

People already enrolled keep the version they joined (their enrolment row
names it); new enrolments join the sequence's current version.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.sequences import definition, draft_shape
from campaigns.sequences.definition import Flow
from nurture.errors import Conflict, InvalidInput, NotFound, Problem
from nurture.models import Sequence, SequenceStatus, SequenceVersion

MAX_NAME = 200


def create_sequence(session: Session, *, name: str, steps_definition: dict[str, Any]) -> Sequence:
    """A draft sequence with version 1. A draft keeps its problems (see `problems_of`);
    InvalidInput naming the field only for a bad name or a definition no draft may hold
    (draft_shape.check_draft)."""
    _check_name(name)
    draft_shape.check_draft(steps_definition)
    sequence = Sequence(name=name.strip(), status=SequenceStatus.DRAFT.value)
    session.add(sequence)
    session.flush()
    _publish(session, sequence, steps_definition)
    return sequence


def edit_sequence(
    session: Session, sequence_id: int, *, steps_definition: dict[str, Any]
) -> SequenceVersion:
    """Publish the definition as the sequence's new current version; answers that version."""
    sequence = get_sequence(session, sequence_id, lock=True)
    if sequence.status == SequenceStatus.STOPPED.value:
        raise Conflict("a stopped sequence cannot be edited")
    definition.parse_checked(session, steps_definition)
    return _publish(session, sequence, steps_definition)


def activate(session: Session, sequence_id: int) -> Sequence:
    """Start a draft (or resume a paused) sequence after validating its current version."""
    sequence = get_sequence(session, sequence_id, lock=True)
    if sequence.status == SequenceStatus.STOPPED.value:
        raise Conflict("a stopped sequence cannot be activated")
    version = current_version(session, sequence)
    definition.parse_checked(session, version.definition)
    sequence.status = SequenceStatus.ACTIVE.value
    return sequence


def pause(session: Session, sequence_id: int) -> Sequence:
    """Hold every enrolment where it is: the scheduler claims none until resumed."""
    sequence = get_sequence(session, sequence_id, lock=True)
    if sequence.status != SequenceStatus.ACTIVE.value:
        raise Conflict(f"only an active sequence can be paused (it is {sequence.status})")
    sequence.status = SequenceStatus.PAUSED.value
    return sequence


def get_sequence(session: Session, sequence_id: int, *, lock: bool = False) -> Sequence:
    query = select(Sequence).where(Sequence.id == sequence_id)
    sequence = session.scalars(query.with_for_update() if lock else query).one_or_none()
    if sequence is None:
        raise NotFound("sequence", sequence_id)
    return sequence


def current_version(session: Session, sequence: Sequence) -> SequenceVersion:
    version = session.get(SequenceVersion, sequence.current_version_id)
    if version is None:  # pragma: no cover - every sequence is created with a version
        raise NotFound("sequence version", sequence.current_version_id)
    return version


def get_version(session: Session, *, version_id: int) -> SequenceVersion:
    version = session.get(SequenceVersion, version_id)
    if version is None:
        raise NotFound("sequence version", version_id)
    return version


def problems_of(session: Session, sequence: Sequence) -> list[Problem]:
    """What stops the current version from being activated ([] when nothing): a draft
    is stored with its problems, activation and publishing refuse them."""
    return definition.problems(session, current_version(session, sequence).definition)


def flow_of(session: Session, version_id: int) -> Flow:
    """The compiled flow of a version. Versions never change, but an id can come back
    after a delete (or name a row in another database), so the cache also compares
    the stored definition before trusting an entry. A draft may hold an invalid
    definition (InvalidInput here), so only running sequences' versions come here."""
    version = session.get(SequenceVersion, version_id)
    if version is None:
        raise NotFound("sequence version", version_id)
    cached = _flows.get(version_id)
    if cached is not None and cached[0] == version.definition:
        return cached[1]
    flow = definition.parse(version.definition)
    if len(_flows) >= _FLOW_CACHE:
        _flows.clear()
    _flows[version_id] = (version.definition, flow)
    return flow


_FLOW_CACHE = 1000
_flows: dict[int, tuple[dict[str, Any], Flow]] = {}


def _publish(session: Session, sequence: Sequence, body: dict[str, Any]) -> SequenceVersion:
    latest = session.scalar(
        select(func.max(SequenceVersion.number)).where(SequenceVersion.sequence_id == sequence.id)
    )
    version = SequenceVersion(sequence_id=sequence.id, number=(latest or 0) + 1, definition=body)
    session.add(version)
    session.flush()
    sequence.current_version_id = version.id
    return version


def _check_name(name: object) -> None:
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise InvalidInput.single("name", f"must be 1 to {MAX_NAME} characters")
