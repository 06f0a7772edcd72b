"""Run a claimed batch of steps: the common cases set-based, everything else one by one.

The scheduler claims due steps 500 at a time and the worker gets the whole
batch in one message. Run one at a time, an e-mail step costs a few dozen
statements and several commits; most of a batch, though, is the same step of
the same version for contacts that need nothing special. Those go together:

- e-mail steps: lock the enrolments, write every step run with its effect key
  in one statement and commit, hand the batch to the pipeline's set-based
  send (`pipeline.send_keyed`, the same idempotency keys), then move every
  enrolment on with one compare-and-set UPDATE and close the runs;
- duration waits: start (or finish) every wait at once.

Same guarantees as `engine.run_step`: an effect key is committed before its
e-mail is handed over, and the move is a compare-and-set on (id, step, state,
version), so a duplicated batch or one re-run after a crash sends nothing twice.
E-mails outside the send window or inside quiet hours are postponed together too,
to the moment their contact's zone allows. A step running an experiment chooses the
variants of the whole group with one `assign.choose`, postpones together those whose
variant has a delay still to run, and sends once per variant (see experiments_of).
Anything else that is not plain — an exit to take, an e-mail held back by the
frequency cap, a contact without an address, a step run that exists already in an
unexpected shape — runs alone through `engine.run_step`, which knows every case.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campaigns.email.overrides import Overrides
from campaigns.email.pipeline import send_keyed
from campaigns.sequences import waits
from campaigns.sequences.caps import counted_sends
from campaigns.sequences.conditions import Walker, effect_key, exit_reasons
from campaigns.sequences.definition import Flow, Step
from campaigns.sequences.engine import END, Limits, Mailer, StepResult, Verdict, run_step
from campaigns.sequences.experiments_of import VARIANT, MailVariant, mail_variant, of_step
from campaigns.sequences.versions import flow_of
from nurture.contacts.zones import zone
from nurture.errors import InvalidInput, NotFound
from nurture.models import (
    Contact,
    Enrolment,
    EnrolmentState,
    SequenceStatus,
    StepRun,
)
from nurture.models import (
    Sequence as SequenceRow,
)
from nurture.sqlsets import among

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Member:
    enrolment_id: int
    contact_id: int
    enrolled_at: datetime


@dataclass(frozen=True, slots=True)
class _Contact:
    email: str | None
    erased: bool
    lifecycle_stage: str
    time_zone: str | None


@dataclass(frozen=True, slots=True)
class _Run:
    id: int
    started_at: datetime
    effect_key: str | None
    finished: bool
    detail: dict[str, Any]


def run_steps(
    session: Session,
    claimed: Sequence[tuple[int, str]],
    *,
    now: datetime,
    mailer: Mailer,
    limits: Limits | None = None,
) -> BatchResults:
    """Run each claimed (enrolment id, step key); answers the result by enrolment id.

    Commits. A pair whose enrolment moved on, is not due or belongs to a paused
    sequence is answered as `engine.run_step` answers it. A step that raises is
    logged and listed in `errors`; the others still run.
    """
    limits = limits or Limits()
    wanted = dict(claimed)
    groups: dict[tuple[int, int, str], list[_Member]] = {}
    if wanted:
        rows = session.execute(
            select(
                Enrolment.id,
                Enrolment.step_key,
                Enrolment.sequence_id,
                Enrolment.version_id,
                Enrolment.contact_id,
                Enrolment.enrolled_at,
            )
            .join(SequenceRow, SequenceRow.id == Enrolment.sequence_id)
            .where(
                among(session, Enrolment.id, list(wanted), integers=True),
                Enrolment.state == EnrolmentState.ACTIVE.value,
                Enrolment.next_run_at <= now,
                SequenceRow.status == SequenceStatus.ACTIVE.value,
            )
        ).all()
        session.rollback()
        for enrolment_id, step_key, sequence_id, version_id, contact_id, enrolled_at in rows:
            if step_key == wanted[enrolment_id]:
                groups.setdefault((sequence_id, version_id, step_key), []).append(
                    _Member(enrolment_id, contact_id, enrolled_at)
                )
    results = BatchResults()
    for (sequence_id, version_id, step_key), members in groups.items():
        try:
            flow = flow_of(session, version_id)
        except (NotFound, InvalidInput):
            # A version that cannot be read: each step fails alone, below.
            session.rollback()
            continue
        session.rollback()
        step = flow.steps.get(step_key)
        if step is None or not (step.type == "email" or _plain_wait(step)):
            continue
        group = _Group(session, flow, step, sequence_id, version_id, members, now, mailer, limits)
        results.update(group.run())
    for enrolment_id, step_key in claimed:
        if enrolment_id in results:
            continue
        try:
            results[enrolment_id] = run_step(
                session, enrolment_id, step_key, now=now, mailer=mailer, limits=limits
            )
        except Exception as exc:  # one broken step must not hold up the rest of the batch
            session.rollback()
            log.exception("sequence step %s of enrolment %s failed", step_key, enrolment_id)
            results.errors[enrolment_id] = exc
    return results


class BatchResults(dict[int, StepResult]):
    """Results by enrolment id, and the steps that raised (still claimed: the batch's
    retry, or the claim's lease, runs them again)."""

    def __init__(self) -> None:
        super().__init__()
        self.errors: dict[int, Exception] = {}


def _plain_wait(step: Step) -> bool:
    return step.type == "wait" and "duration" in step.spec


class _Group:
    """One step of one version for many enrolments."""

    def __init__(
        self,
        session: Session,
        flow: Flow,
        step: Step,
        sequence_id: int,
        version_id: int,
        members: list[_Member],
        now: datetime,
        mailer: Mailer,
        limits: Limits,
    ) -> None:
        self.session = session
        self.flow = flow
        self.step = step
        self.sequence_id = sequence_id
        self.version_id = version_id
        self.members = {m.enrolment_id: m for m in members}
        self.now = now
        self.mailer = mailer
        self.limits = limits
        # Variant keys chosen in this run for enrolments whose step run is not written
        # yet: `start_runs` keeps them in the new runs' detail.
        self.chosen: dict[int, str] = {}

    def run(self) -> dict[int, StepResult]:
        """Results for the enrolments run here; the rest are left to `engine.run_step`."""
        try:
            if self.step.type == "email":
                return self.send_email()
            return self.wait()
        except IntegrityError:
            # A step run written meanwhile by another runner (SQLite has no row lock to
            # wait on): nothing of ours is kept, and each runs alone, which sorts it out.
            self.session.rollback()
            return {}

    # E-mail ----------------------------------------------------------------

    def send_email(self) -> dict[int, StepResult]:
        ids = self.lock()
        contacts = self.contacts(ids)
        runs = self.runs(ids)
        ready = self.without_exits(ids, contacts)
        ready = [i for i in ready if contacts[self.members[i].contact_id].email is not None]
        ready = [i for i in ready if i not in runs or not runs[i].finished]
        variants = self.variants(ready, runs)
        fresh = [i for i in ready if i not in runs or runs[i].effect_key is None]
        delayed = {
            i: target
            for i in fresh
            if (target := (runs[i].started_at if i in runs else self.now) + variants[i].delay)
            > self.now
        }
        outside_window, capped = self.held_back([i for i in fresh if i not in delayed], contacts)
        ready = [i for i in ready if i not in outside_window and i not in capped]
        ready = [i for i in ready if i not in delayed]
        results = self.postpone(outside_window, runs, "send_window")
        results.update(self.postpone(delayed, runs, "variant_delay"))
        if not ready:
            self.session.commit()
            return results
        keys = {i: effect_key(i, self.step.key) for i in ready}
        self.start_runs([i for i in ready if i not in runs], keys)
        unkeyed = [i for i in ready if i in runs and runs[i].effect_key is None]
        if unkeyed:
            self.session.execute(
                update(StepRun), [{"id": runs[i].id, "effect_key": keys[i]} for i in unkeyed]
            )
        # The keys (and the exposures, and the variants kept in the runs) are durable
        # before any e-mail leaves.
        self.session.commit()
        by_content: dict[tuple[int, Overrides | None], list[int]] = {}
        for i in ready:
            by_content.setdefault((variants[i].template_id, variants[i].overrides), []).append(i)
        sent: dict[str, tuple[int, str]] = {}
        for (template_id, overrides), ids_of in by_content.items():
            try:
                sent.update(
                    send_keyed(
                        self.session,
                        template_id,
                        [(keys[i], self.members[i].contact_id) for i in ids_of],
                        transport=self.mailer.transport,
                        config=self.mailer.config,
                        overrides=overrides,
                    )
                )
            except (NotFound, InvalidInput):
                # A template gone or broken: each of its variant fails alone with its
                # own reason (through engine.run_step); the other variants go on.
                self.session.rollback()
        outcomes: dict[int, tuple[str, dict[str, Any] | None]] = {}
        for i in ready:
            if keys[i] in sent:
                message_id, status = sent[keys[i]]
                outcomes[i] = (status, {"message_id": message_id})
        results.update(self.advance(outcomes, runs))
        return results

    def variants(self, ids: list[int], runs: dict[int, _Run]) -> dict[int, MailVariant]:
        """What each enrolment's e-mail is: the step's own content, or its experiment's
        variant (one `assign.choose` for the whole group; see engine._Run.variant for the
        rules). Keeps new choices in the step runs that exist; the caller commits."""
        experiment = of_step(self.session, self.sequence_id, self.step)
        own = mail_variant(self.step, None, None)
        if experiment is None:
            return dict.fromkeys(ids, own)
        stored: dict[int, str] = {}
        for i in ids:
            kept = runs[i].detail.get(VARIANT) if i in runs else None
            if isinstance(kept, str):
                stored[i] = kept
        todo = [i for i in ids if i not in stored and (i not in runs or runs[i].effect_key is None)]
        members = [(i, self.members[i].contact_id, effect_key(i, self.step.key)) for i in todo]
        chosen = experiment.choose(self.session, members, now=self.now)
        existing = [i for i in chosen if i in runs]
        if existing:
            for i in existing:
                runs[i] = replace(runs[i], detail={**runs[i].detail, VARIANT: chosen[i]})
            self.session.execute(
                update(StepRun), [{"id": runs[i].id, "detail": runs[i].detail} for i in existing]
            )
        self.chosen.update({i: key for i, key in chosen.items() if i not in runs})
        picked = {**stored, **chosen}
        return {i: experiment.mail(self.step, picked[i]) if i in picked else own for i in ids}

    def held_back(
        self, ids: list[int], contacts: dict[int, _Contact]
    ) -> tuple[dict[int, datetime], set[int]]:
        """Enrolments whose first attempt must wait: outside the send window or inside
        quiet hours (with the moment it may go, in the contact's zone), and those at the
        frequency cap (engine.run_step works out when one more fits)."""
        outside: dict[int, datetime] = {}
        for i in ids:
            contact = contacts[self.members[i].contact_id]
            tz = zone(contact.time_zone)
            window, quiet = self.flow.send_window, self.flow.quiet_hours
            allowed = waits.next_allowed(self.now, tz, window=window, quiet=quiet)
            if allowed > self.now:
                outside[i] = allowed
        held: set[int] = set()
        cap = self.limits.cap
        if cap.limit <= 0:
            return outside, held
        counted = [i for i in ids if i not in outside]
        by_contact = {self.members[i].contact_id: i for i in counted}
        if not by_contact:
            return outside, held
        own = {c: effect_key(i, self.step.key) for c, i in by_contact.items()}
        recent = counted_sends(self.session, own, now=self.now, cap=cap)
        held.update(by_contact[c] for c, times in recent.items() if len(times) >= cap.limit)
        return outside, held

    def postpone(
        self, targets: dict[int, datetime], runs: dict[int, _Run], why: str
    ) -> dict[int, StepResult]:
        """Start the step runs (as a first attempt does) and move each enrolment's
        `next_run_at` to its target, one compare-and-set per distinct moment (people in
        one time zone share it). The caller commits."""
        if not targets:
            return {}
        self.start_runs([i for i in targets if i not in runs])
        by_moment: dict[datetime, list[int]] = {}
        for i, when in targets.items():
            by_moment.setdefault(when, []).append(i)
        results: dict[int, StepResult] = {}
        for when, ids in by_moment.items():
            for i in self.move(ids, next_run_at=when):
                state = EnrolmentState.ACTIVE.value
                results[i] = StepResult(Verdict.POSTPONED, state, self.step.key, when, why)
        return results

    def start_runs(self, ids: list[int], keys: dict[int, str] | None = None) -> None:
        """Insert the step runs of these enrolments, started now (with their effect keys
        when given)."""
        if not ids:
            return
        self.session.execute(
            insert(StepRun),
            [
                {
                    "enrolment_id": i,
                    "step_key": self.step.key,
                    "started_at": self.now,
                    "effect_key": keys[i] if keys is not None else None,
                    "detail": {VARIANT: self.chosen[i]} if i in self.chosen else {},
                }
                for i in ids
            ],
        )

    # Waits -------------------------------------------------------------------

    def wait(self) -> dict[int, StepResult]:
        ids = self.lock()
        contacts = self.contacts(ids)
        runs = self.runs(ids)
        ready = self.without_exits(ids, contacts)
        length = waits.duration(self.step.spec["duration"])
        starting = [i for i in ready if i not in runs]
        done = [i for i in ready if i in runs and self.now >= runs[i].started_at + length]
        results: dict[int, StepResult] = {}
        if starting and length > timedelta(0):
            target = self.now + length
            results = self.postpone({i: target for i in starting}, runs, "waiting")
        elif starting:
            self.start_runs(starting)
            done += starting
            runs.update(self.runs(starting))
        if done:
            results.update(self.advance({i: ("waited", None) for i in done}, runs))
        else:
            self.session.commit()
        return results

    # Shared ------------------------------------------------------------------

    def lock(self) -> list[int]:
        """The members still at this step and due, locked until the next commit (in id
        order, so two batches never wait on each other in a cycle)."""
        return list(
            self.session.scalars(
                select(Enrolment.id)
                .where(
                    among(self.session, Enrolment.id, list(self.members), integers=True),
                    Enrolment.step_key == self.step.key,
                    Enrolment.state == EnrolmentState.ACTIVE.value,
                    Enrolment.version_id == self.version_id,
                    Enrolment.next_run_at <= self.now,
                )
                .order_by(Enrolment.id)
                .with_for_update()
            )
        )

    def contacts(self, ids: list[int]) -> dict[int, _Contact]:
        contact_ids = [self.members[i].contact_id for i in ids]
        if not contact_ids:
            return {}
        return {
            cid: _Contact(email, erased is not None, stage, tz)
            for cid, email, erased, stage, tz in self.session.execute(
                select(
                    Contact.id,
                    Contact.email,
                    Contact.erased_at,
                    Contact.lifecycle_stage,
                    Contact.time_zone,
                ).where(among(self.session, Contact.id, contact_ids, integers=True))
            )
        }

    def runs(self, ids: list[int]) -> dict[int, _Run]:
        if not ids:
            return {}
        return {
            enrolment_id: _Run(run_id, started, key, finished is not None, dict(detail or {}))
            for enrolment_id, run_id, started, key, finished, detail in self.session.execute(
                select(
                    StepRun.enrolment_id,
                    StepRun.id,
                    StepRun.started_at,
                    StepRun.effect_key,
                    StepRun.finished_at,
                    StepRun.detail,
                ).where(
                    among(self.session, StepRun.enrolment_id, ids, integers=True),
                    StepRun.step_key == self.step.key,
                )
            )
        }

    def without_exits(self, ids: list[int], contacts: dict[int, _Contact]) -> list[int]:
        """The enrolments that certainly stay in the sequence now (conditions.exit_reasons,
        the test `engine.run_step` makes); the others exit through `engine.run_step`."""
        walkers = [
            Walker(
                i,
                self.members[i].contact_id,
                self.members[i].enrolled_at,
                contact.email,
                contact.erased,
                contact.lifecycle_stage,
            )
            for i in ids
            if (contact := contacts.get(self.members[i].contact_id)) is not None
        ]
        leaving = exit_reasons(self.session, walkers, self.flow)
        return [w.enrolment_id for w in walkers if w.enrolment_id not in leaving]

    def advance(
        self, outcomes: dict[int, tuple[str, dict[str, Any] | None]], runs: dict[int, _Run]
    ) -> dict[int, StepResult]:
        """Move every enrolment in `outcomes` past this step (one compare-and-set), close
        the step runs of those that moved, and commit."""
        following = self.flow.next_key(self.step.key)
        if following is None:
            moved = self.move(
                list(outcomes),
                state=EnrolmentState.COMPLETED.value,
                exit_reason=END,
                finished_at=self.now,
                next_run_at=None,
            )
        else:
            moved = self.move(list(outcomes), step_key=following, next_run_at=self.now)
        if moved:
            runs = {**runs, **self.runs([i for i in moved if i not in runs])}
            self.session.execute(
                update(StepRun),
                [
                    {
                        "id": runs[i].id,
                        "finished_at": self.now,
                        "outcome": outcomes[i][0][:40],
                        "detail": {**runs[i].detail, **(outcomes[i][1] or {})},
                    }
                    for i in moved
                ],
            )
        self.session.commit()
        results = {}
        for i in moved:
            outcome = outcomes[i][0]
            if following is None:
                state = EnrolmentState.COMPLETED.value
                results[i] = StepResult(Verdict.FINISHED, state, self.step.key, None, outcome)
            else:
                state = EnrolmentState.ACTIVE.value
                results[i] = StepResult(Verdict.ADVANCED, state, following, self.now, outcome)
        return results

    def move(self, ids: list[int], **values: Any) -> list[int]:
        """Compare-and-set these enrolments from this step and release their claims;
        answers those that moved (a duplicate run may have moved some first)."""
        if not ids:
            return []
        return list(
            self.session.scalars(
                update(Enrolment)
                .where(
                    among(self.session, Enrolment.id, ids, integers=True),
                    Enrolment.step_key == self.step.key,
                    Enrolment.state == EnrolmentState.ACTIVE.value,
                    Enrolment.version_id == self.version_id,
                )
                .values(claim_token=None, claimed_until=None, **values)
                .returning(Enrolment.id)
                .execution_options(synchronize_session=False)
            )
        )
