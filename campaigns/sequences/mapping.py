"""Moving people from an older version of a sequence onto the current one, step by step.

People keep the version they joined until the marketer maps them: a map
`{old_step_key: new_step_key}` moves every live enrolment at an old step to
the new step of the current version, one UPDATE per mapped step. People at
steps left out of the map stay on their version and finish it there.

Step runs and effect keys are per enrolment and step key (`seq:<enrolment>:<key>`),
and a key means the same step in every version. An enrolment that already ran
a step it could reach from its new step would find that step's run and take
it as done (an e-mail's key is spent, a wait's clock started long ago), so
such an enrolment is not moved: it stays on its version and is counted as
`kept`. One exception: mapping a step onto itself (same key, same type) moves
the step in progress along, so a wait keeps its clock and a half-sent e-mail
keeps its idempotency key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from campaigns.sequences.definition import Flow
from campaigns.sequences.listing import VersionInfo, versions_of
from campaigns.sequences.versions import current_version, flow_of, get_sequence
from nurture.errors import Conflict, InvalidInput, Problem
from nurture.models import (
    LIVE_ENROLMENT_STATES,
    Enrolment,
    SequenceStatus,
    SequenceVersion,
    StepRun,
)

MAX_MAPPED_STEPS = 200


@dataclass(slots=True)
class MappingResult:
    """Per old step key: enrolments moved to the current version, and kept on the old one
    because they already ran a step ahead of their new step."""

    from_version_id: int
    to_version_id: int
    moved: dict[str, int] = field(default_factory=dict)
    kept: dict[str, int] = field(default_factory=dict)


def mappable_versions(session: Session, *, sequence_id: int) -> list[VersionInfo]:
    """The versions other than the current one that still have people walking them (active
    or paused), newest first: the ones `map_enrolments` can move people from."""
    current_id = get_sequence(session, sequence_id).current_version_id
    return [
        info
        for info in versions_of(session, sequence_id)
        if info.version.id != current_id and info.live
    ]


def map_enrolments(
    session: Session,
    sequence_id: int,
    from_version_id: int,
    step_map: Mapping[str, object],
    *,
    now: datetime,
) -> MappingResult:
    """Move the live enrolments of `from_version_id` at each mapped step to the mapped step
    of the current version, due at `now`. The caller commits.

    InvalidInput names each problem (`step_map.<old key>`, `from_version_id`);
    Conflict when the sequence is stopped.
    """
    sequence = get_sequence(session, sequence_id, lock=True)
    if sequence.status == SequenceStatus.STOPPED.value:
        raise Conflict("a stopped sequence has nobody left to map")
    target = current_version(session, sequence)
    source = session.get(SequenceVersion, from_version_id)
    if source is None or source.sequence_id != sequence.id:
        raise InvalidInput.single("from_version_id", "is not a version of this sequence")
    if source.id == target.id:
        raise InvalidInput.single("from_version_id", "is the current version: nothing to map")
    old_flow, new_flow = flow_of(session, source.id), flow_of(session, target.id)
    checked = _check(step_map, old_flow, new_flow, source.number, target.number)
    result = MappingResult(source.id, target.id)
    for old, new in sorted(checked.items()):
        ahead = reachable(new_flow, new)
        continuing = old == new and old_flow.steps[old].type == new_flow.steps[new].type
        if continuing:
            ahead.discard(new)
        at_step = (
            Enrolment.sequence_id == sequence.id,
            Enrolment.version_id == source.id,
            Enrolment.state.in_(LIVE_ENROLMENT_STATES),
            Enrolment.step_key == old,
        )
        ran_ahead = exists().where(
            StepRun.enrolment_id == Enrolment.id, StepRun.step_key.in_(sorted(ahead))
        )
        values: dict[str, object] = {"version_id": target.id, "step_key": new, "next_run_at": now}
        if not continuing:
            # A message in flight carries the old key and will be skipped: free the claim.
            values.update(claim_token=None, claimed_until=None)
        moved = session.execute(
            update(Enrolment)
            .where(*at_step, ~ran_ahead)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        result.moved[old] = int(getattr(moved, "rowcount", 0) or 0)
        result.kept[old] = int(
            session.scalar(select(func.count()).select_from(Enrolment).where(*at_step)) or 0
        )
    return result


def reachable(flow: Flow, key: str) -> set[str]:
    """`key` and every step the flow can go to from it, through any arm."""
    seen: set[str] = set()
    todo = [key]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        following = flow.following.get(current)
        if following is not None:
            todo.append(following)
        todo.extend(flow.steps[current].arms.values())
    return seen


def _check(
    step_map: object, old: Flow, new: Flow, old_number: int, new_number: int
) -> dict[str, str]:
    if not isinstance(step_map, Mapping) or not step_map:
        raise InvalidInput.single("step_map", 'must map old step keys to new ones: {"old": "new"}')
    if len(step_map) > MAX_MAPPED_STEPS:
        raise InvalidInput.single("step_map", f"maps at most {MAX_MAPPED_STEPS} steps")
    problems: list[Problem] = []
    checked: dict[str, str] = {}
    for old_key, new_key in step_map.items():
        where = f"step_map.{old_key}"
        if old_key not in old.steps:
            problems.append(Problem(where, f"version {old_number} has no step {old_key!r}"))
        if not isinstance(new_key, str):
            problems.append(Problem(where, "must be the key of a step in the current version"))
        elif new_key not in new.steps:
            problems.append(Problem(where, f"version {new_number} has no step {new_key!r}"))
        else:
            checked[str(old_key)] = new_key
    if problems:
        raise InvalidInput(problems)
    return checked
