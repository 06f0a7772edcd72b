"""Sequence changes made by a person or an API key: the domain functions plus an audit entry.

Every function here records who did what in the same transaction as the
change; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from campaigns.sequences import control, draft_shape, enrol_record, mapping, versions
from campaigns.sequences.enrol_lists import ListEnrolment, enrol_csv, enrol_people
from nurture import audit
from nurture.errors import InvalidInput, NotFound, Problem
from nurture.models import AuditEntry, Enrolment, Sequence, SequenceStatus, SequenceVersion


def create(session: Session, *, actor: str, name: object, body: object) -> Sequence:
    """A draft sequence with version 1, stored even with problems (see versions.create_sequence)."""
    if not isinstance(name, str):
        raise InvalidInput.single("name", "must be text")
    sequence = versions.create_sequence(session, name=name, steps_definition=_object(body))
    _record(session, actor, "sequence.created", sequence.id, {"name": sequence.name})
    return sequence


def rename(session: Session, sequence_id: int, *, actor: str, name: object) -> Sequence:
    """Give the sequence a new name; recorded only when it changes."""
    if not isinstance(name, str):
        raise InvalidInput.single("name", "must be text")
    sequence = versions.get_sequence(session, sequence_id)
    name = name.strip()
    if not name or len(name) > versions.MAX_NAME:
        raise InvalidInput.single("name", f"must be 1 to {versions.MAX_NAME} characters")
    if name != sequence.name:
        old, sequence.name = sequence.name, name
        _record(session, actor, "sequence.renamed", sequence_id, {"name": [old, name]})
    return sequence


def update_definition(
    session: Session, sequence_id: int, *, actor: str, body: object
) -> SequenceVersion:
    """A draft's definition is replaced in place (nobody is on it yet), problems and all
    (see versions.problems_of); an active or paused sequence publishes a new version,
    only a valid one, and the people inside keep theirs."""
    steps_definition = _object(body)
    sequence = versions.get_sequence(session, sequence_id, lock=True)
    if sequence.status != SequenceStatus.DRAFT.value:
        version = versions.edit_sequence(session, sequence_id, steps_definition=steps_definition)
        _record(session, actor, "sequence.published", sequence_id, {"version": version.number})
        return version
    draft_shape.check_draft(steps_definition)
    version = versions.current_version(session, sequence)
    version.definition = steps_definition
    _record(session, actor, "sequence.draft_edited", sequence_id, {"version": version.number})
    return version


@dataclass(frozen=True, slots=True)
class Saved:
    """What saving a whole sequence (its name and definition, activating it if asked) did."""

    sequence: Sequence
    # The number of the version a running sequence published; None when none was.
    published: int | None = None
    # Asked to activate and now active (a paused sequence resumed, a draft activated).
    activated: bool = False
    # Why the saved draft cannot be activated yet ([] when it can, and for running ones).
    # Asked to activate a draft with problems, the draft is saved and stays a draft.
    problems: list[Problem] = field(default_factory=list)


def save_new(
    session: Session, *, actor: str, name: object, body: object, then_activate: bool
) -> Saved:
    """Create a draft sequence (see `create`) and, if asked, activate it when it has no
    problems. InvalidInput only when nothing could be created."""
    sequence = create(session, actor=actor, name=name, body=body)
    if not then_activate:
        return Saved(sequence, problems=versions.problems_of(session, sequence))
    return _activate_draft(session, sequence, actor=actor)


def save(
    session: Session,
    *,
    sequence_id: int,
    actor: str,
    name: object,
    body: object,
    then_activate: bool,
) -> Saved:
    """Rename the sequence, store the definition if it changed (see `update_definition`: a
    draft in place, a running sequence as a new version) and, if asked, activate a draft
    or resume a paused sequence; an active or stopped one is left as it is.

    InvalidInput (a bad name, a definition the state refuses) and Conflict (a new
    definition for a stopped sequence) may come after the rename: the caller rolls back.
    A draft that cannot be activated is still saved, `problems` saying why it was not."""
    sequence = versions.get_sequence(session, sequence_id)
    was_draft = sequence.status == SequenceStatus.DRAFT.value
    rename(session, sequence_id, actor=actor, name=name)
    published = None
    if versions.current_version(session, sequence).definition != body:
        version = update_definition(session, sequence_id, actor=actor, body=body)
        if not was_draft:
            published = version.number
    if was_draft:
        if then_activate:
            return _activate_draft(session, sequence, actor=actor)
        return Saved(sequence, problems=versions.problems_of(session, sequence))
    if then_activate and sequence.status == SequenceStatus.PAUSED.value:
        resume(session, sequence_id, actor=actor)
        return Saved(sequence, published=published, activated=True)
    return Saved(sequence, published=published)


def _activate_draft(session: Session, sequence: Sequence, *, actor: str) -> Saved:
    try:
        activate(session, sequence.id, actor=actor)
    except InvalidInput as exc:
        # Activation validates before it changes anything: the saved draft stays as it is.
        return Saved(sequence, problems=exc.problems)
    return Saved(sequence, activated=True)


def activate(session: Session, sequence_id: int, *, actor: str) -> Sequence:
    sequence = versions.activate(session, sequence_id)
    _record(session, actor, "sequence.activated", sequence_id)
    return sequence


def pause(session: Session, sequence_id: int, *, actor: str) -> Sequence:
    sequence = versions.pause(session, sequence_id)
    _record(session, actor, "sequence.paused", sequence_id)
    return sequence


def resume(session: Session, sequence_id: int, *, actor: str) -> Sequence:
    sequence = control.resume_sequence(session, sequence_id)
    _record(session, actor, "sequence.resumed", sequence_id)
    return sequence


def stop(session: Session, sequence_id: int, *, actor: str, now: datetime) -> int:
    """Stop for good; answers how many live enrolments exited."""
    stopped = control.stop_sequence(session, sequence_id, now=now)
    _record(session, actor, "sequence.stopped", sequence_id, {"enrolments_stopped": stopped})
    return stopped


def enrol(
    session: Session,
    sequence_id: int,
    *,
    actor: str,
    contact_ids: object,
    emails: object,
    now: datetime,
) -> ListEnrolment:
    result = enrol_people(session, sequence_id, contact_ids=contact_ids, emails=emails, now=now)
    _record_enrolment(session, actor, sequence_id, result, "api")
    return result


def enrol_from_form(
    session: Session, sequence_id: int, *, actor: str, emails: list[str], now: datetime
) -> AuditEntry:
    """Enrol pasted or picked addresses; answers the record of what happened (its id
    lets the page show the report after the redirect)."""
    result = enrol_people(session, sequence_id, emails=emails, now=now)
    return _record_enrolment(session, actor, sequence_id, result, "form")


def enrol_from_csv(
    session: Session, sequence_id: int, *, actor: str, text: str, now: datetime
) -> ListEnrolment:
    result = enrol_csv(session, sequence_id, text, now=now)
    _record_enrolment(session, actor, sequence_id, result, "csv")
    return result


def map_versions(
    session: Session,
    sequence_id: int,
    *,
    actor: str,
    from_version_id: object,
    step_map: object,
    now: datetime,
) -> mapping.MappingResult:
    """Move people from an older version onto the current one (see mapping.map_enrolments)."""
    if not isinstance(from_version_id, int) or isinstance(from_version_id, bool):
        raise InvalidInput.single("from_version_id", "must be a version id")
    if not isinstance(step_map, dict):
        raise InvalidInput.single("step_map", 'must map old step keys to new ones: {"old": "new"}')
    result = mapping.map_enrolments(session, sequence_id, from_version_id, step_map, now=now)
    _record(
        session,
        actor,
        "sequence.mapped",
        sequence_id,
        {
            "from_version_id": result.from_version_id,
            "to_version_id": result.to_version_id,
            "step_map": step_map,
            "moved": result.moved,
            "kept": result.kept,
        },
    )
    return result


def pause_enrolment(
    session: Session, sequence_id: int, enrolment_id: int, *, actor: str
) -> Enrolment:
    _belongs(session, sequence_id, enrolment_id)
    enrolment = control.pause_enrolment(session, enrolment_id)
    _record(session, actor, "enrolment.paused", sequence_id, {"enrolment_id": enrolment_id})
    return enrolment


def resume_enrolment(
    session: Session, sequence_id: int, enrolment_id: int, *, actor: str, now: datetime
) -> Enrolment:
    _belongs(session, sequence_id, enrolment_id)
    enrolment = control.resume_enrolment(session, enrolment_id, now=now)
    _record(session, actor, "enrolment.resumed", sequence_id, {"enrolment_id": enrolment_id})
    return enrolment


def stop_enrolment(
    session: Session, sequence_id: int, enrolment_id: int, *, actor: str, now: datetime
) -> Enrolment:
    _belongs(session, sequence_id, enrolment_id)
    enrolment = control.stop_enrolment(session, enrolment_id, now=now)
    _record(session, actor, "enrolment.stopped", sequence_id, {"enrolment_id": enrolment_id})
    return enrolment


def _belongs(session: Session, sequence_id: int, enrolment_id: int) -> None:
    versions.get_sequence(session, sequence_id)
    enrolment = session.get(Enrolment, enrolment_id)
    if enrolment is None or enrolment.sequence_id != sequence_id:
        raise NotFound("enrolment", enrolment_id)


def _object(body: object) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidInput.single("definition", "must be an object")
    return body


def _record_enrolment(
    session: Session, actor: str, sequence_id: int, result: ListEnrolment, source: str
) -> AuditEntry:
    tally = enrol_record.Tally()
    tally.add_list(result)
    return enrol_record.record(
        session, actor=actor, sequence_id=sequence_id, source=source, tally=tally
    )


def _record(
    session: Session,
    actor: str,
    action: str,
    sequence_id: int,
    changes: dict[str, Any] | None = None,
) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        entity_type="sequence",
        entity_id=sequence_id,
        changes=changes,
    )
