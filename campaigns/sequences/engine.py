"""Run one due step of one enrolment and move it on: the sequence engine's only entry point.

Safety rests on two things. First, every change to an enrolment is a
compare-and-set on (id, step_key, state = active): a duplicated or redelivered
message for a step that already moved on changes nothing. Second, an outward
effect (an e-mail, a task) carries the key `seq:<enrolment>:<step>`, written to
the step run and committed before the e-mail is handed to the pipeline, whose
own idempotency key makes a second attempt a no-op. A worker killed anywhere
leaves the enrolment at its step; the scheduler claims it again after the
lease, and the re-run finds the effect done and only moves on.

`run_step` commits: the e-mail pipeline must commit a message before sending it.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campaigns.delivery.transport import Transport
from campaigns.email.mailconfig import MailConfig
from campaigns.email.pipeline import send_to_contact
from campaigns.sequences import content_steps, waits
from campaigns.sequences.caps import FrequencyCap, postpone_until
from campaigns.sequences.conditions import branch_holds, effect_key, event_since, exit_reason
from campaigns.sequences.definition import Flow, Step
from campaigns.sequences.experiments_of import (
    VARIANT,
    MailVariant,
    mail_variant,
    message_key,
    of_step,
    split_path,
)
from campaigns.sequences.tasks import create_task
from campaigns.sequences.versions import flow_of
from nurture.contacts.zones import zone
from nurture.errors import InvalidInput, NotFound
from nurture.models import (
    Contact,
    Enrolment,
    EnrolmentState,
    ExperimentStatus,
    Sequence,
    SequenceStatus,
    StepRun,
)

END = "end"
REVIEWS_MISSING = "review e-mail steps are not available"


class Verdict(enum.StrEnum):
    ADVANCED = "advanced"  # the step ran; the enrolment is at its next step
    POSTPONED = "postponed"  # not yet (a wait, the send window, the frequency cap)
    FINISHED = "finished"  # completed, exited or failed
    SKIPPED = "skipped"  # not due, not at this step, paused: nothing changed


@dataclass(frozen=True, slots=True)
class Mailer:
    transport: Transport
    config: MailConfig


@dataclass(frozen=True, slots=True)
class Limits:
    cap: FrequencyCap = field(default_factory=FrequencyCap)
    # An event wait looks again this often until its event or its timeout.
    event_poll: timedelta = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class StepResult:
    verdict: Verdict
    state: str | None = None
    step_key: str | None = None
    next_run_at: datetime | None = None
    outcome: str | None = None


def run_step(
    session: Session,
    enrolment_id: int,
    expected_step_key: str,
    *,
    now: datetime,
    mailer: Mailer,
    limits: Limits | None = None,
) -> StepResult:
    """Run the step `expected_step_key` of the enrolment if it is still there and due.

    Records the step run and the enrolment's next step and `next_run_at` in one
    transaction, and commits. Anything else (a stale or duplicate message, a
    paused sequence) answers SKIPPED and changes nothing.
    """
    enrolment = session.get(Enrolment, enrolment_id, with_for_update=True, populate_existing=True)
    if (
        enrolment is None
        or enrolment.state != EnrolmentState.ACTIVE.value
        or enrolment.step_key != expected_step_key
        or enrolment.next_run_at is None
        or enrolment.next_run_at > now
    ):
        session.rollback()
        return StepResult(Verdict.SKIPPED)
    sequence = session.get(Sequence, enrolment.sequence_id)
    if sequence is None or sequence.status != SequenceStatus.ACTIVE.value:
        # Paused meanwhile: drop the claim so the step is claimed as soon as it resumes.
        enrolment.claim_token = None
        enrolment.claimed_until = None
        session.commit()
        return StepResult(Verdict.SKIPPED)
    run = _Run(session, enrolment, now, mailer, limits or Limits())
    try:
        return run.execute()
    except _Busy:
        return StepResult(Verdict.SKIPPED)


def split_bucket(sequence_id: int, enrolment_id: int, step_key: str) -> int:
    """A stable number 0-99 for this enrolment at this split: re-runs take the same path."""
    digest = hashlib.sha256(f"{sequence_id}:{enrolment_id}:{step_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100


class _Busy(Exception):
    """Another worker started this very step first (SQLite has no row lock to wait on)."""


class _Run:
    def __init__(
        self, session: Session, enrolment: Enrolment, now: datetime, mailer: Mailer, limits: Limits
    ) -> None:
        self.session = session
        self.enrolment = enrolment
        self.key = enrolment.step_key or ""
        # Read once: a commit mid-step expires the row, and a reload could see a new version.
        self.version_id = enrolment.version_id
        self.sequence_id = enrolment.sequence_id
        self.now = now
        self.mailer = mailer
        self.limits = limits

    def execute(self) -> StepResult:
        contact = self.session.get(Contact, self.enrolment.contact_id)
        if contact is None:  # pragma: no cover - enrolments are deleted with their contact
            return self.finish(EnrolmentState.EXITED, "erased")
        flow = flow_of(self.session, self.version_id)
        reason = exit_reason(self.session, self.enrolment, contact, flow)
        if reason is not None:
            return self.finish(EnrolmentState.EXITED, reason)
        step = flow.steps.get(self.key)
        if step is None:
            return self.finish(EnrolmentState.FAILED, f"no step {self.key!r} in the version")
        handler = getattr(self, f"step_{step.type}")
        result: StepResult = handler(step, flow, contact)
        return result

    # Step types -----------------------------------------------------------

    def step_email(self, step: Step, flow: Flow, contact: Contact) -> StepResult:
        key = effect_key(self.enrolment.id, self.key)
        run = self.step_run()
        variant = self.variant(step, run, contact)
        if run.effect_key is None:
            held = self.delay(run, variant) or self.hold_mail(flow, contact, key)
            if held is not None:
                return held
            run.effect_key = key
            self.session.commit()
        if contact.email is None:
            return self.advance(flow, "no_address")
        try:
            message = send_to_contact(
                self.session,
                variant.template_id,
                contact.id,
                idempotency_key=key,
                transport=self.mailer.transport,
                config=self.mailer.config,
                overrides=variant.overrides,
            )
        except (NotFound, InvalidInput) as exc:
            self.session.rollback()
            return self.finish(EnrolmentState.FAILED, str(exc)[:100])
        return self.advance(flow, message.status, detail={"message_id": message.id})

    def step_case_study(self, step: Step, flow: Flow, contact: Contact) -> StepResult:
        return self.send_content(step, flow, contact, content_steps.CASE_STUDY)

    def step_webinar_invite(self, step: Step, flow: Flow, contact: Contact) -> StepResult:
        return self.send_content(step, flow, contact, content_steps.WEBINAR)

    def step_review_email(self, step: Step, flow: Flow, contact: Contact) -> StepResult:
        kind = content_steps.registered(f"review_email:{step.spec['ask']}")
        if kind is None:
            # Reviews registers its kinds at worker start; without them nothing can be asked.
            return self.finish(EnrolmentState.FAILED, REVIEWS_MISSING)
        return self.send_content(step, flow, contact, kind)

    def step_task(self, step: Step, flow: Flow, contact: Contact) -> StepResult:
        key = effect_key(self.enrolment.id, self.key)
        run = self.step_run()
        run.effect_key = key
        task = create_task(
            self.session,
            key=key,
            contact=contact,
            enrolment_id=self.enrolment.id,
            step_key=self.key,
            spec=step.spec,
            now=self.now,
        )
        return self.advance(flow, "created", detail={"task_id": task.id})

    def step_wait(self, step: Step, flow: Flow, contact: Contact) -> StepResult:
        started = self.step_run().started_at
        spec = step.spec
        if "event" in spec:
            # "since enrolment": an answer given before the wait began still counts.
            since = self.enrolment.enrolled_at if spec.get("since") == "enrolment" else started
            if event_since(self.session, contact.id, spec["event"], since):
                return self.advance(flow, "event")
            timeout_at = started + waits.duration(spec["timeout"])
            if self.now >= timeout_at:
                return self.advance(flow, "timeout")
            return self.postpone(min(timeout_at, self.now + self.limits.event_poll), "waiting")
        if "duration" in spec:
            target = started + waits.duration(spec["duration"])
        else:
            until = spec["until"]
            tz = zone(contact.time_zone)
            target = waits.next_weekday_time(started, until["weekday"], until["time"], tz)
        if self.now >= target:
            return self.advance(flow, "waited")
        return self.postpone(target, "waiting")

    def step_branch(self, step: Step, flow: Flow, contact: Contact) -> StepResult:
        arm = (
            "then" if branch_holds(self.session, self.enrolment, step.spec["condition"]) else "else"
        )
        self.step_run()
        return self.advance(flow, arm, arm=arm)

    def step_split(self, step: Step, flow: Flow, contact: Contact) -> StepResult:
        experiment = of_step(self.session, self.sequence_id, step)
        chosen = None
        # A draft is still being set up: the split keeps splitting by its percents
        # (assign would send everyone down the default path).
        if experiment is not None and experiment.status != ExperimentStatus.DRAFT.value:
            # The exposure is written with the move below, in one commit.
            picked = experiment.choose(
                self.session, [(self.enrolment.id, contact.id, None)], now=self.now
            )
            chosen = split_path(step, picked.get(self.enrolment.id))
        if chosen is None:
            bucket = split_bucket(self.sequence_id, self.enrolment.id, self.key)
            edge = 0
            chosen = 0
            for index, path in enumerate(step.spec["paths"]):
                edge += int(path["percent"])
                if bucket < edge:
                    chosen = index
                    break
        self.step_run()
        return self.advance(flow, f"path:{chosen}", arm=str(chosen))

    def step_goal(self, step: Step, flow: Flow, contact: Contact) -> StepResult:
        self.step_run()
        return self.finish(EnrolmentState.COMPLETED, f"goal:{self.key}", outcome="goal")

    def step_exit(self, step: Step, flow: Flow, contact: Contact) -> StepResult:
        self.step_run()
        return self.finish(EnrolmentState.EXITED, f"exit:{self.key}", outcome="exit")

    # Sending mail ------------------------------------------------------------

    def variant(self, step: Step, run: StepRun, contact: Contact) -> MailVariant:
        """What this contact's e-mail of the step is. Chosen once, before the effect key
        is written, and kept in the step run (committed with the key or the postponing),
        so every re-run sends the same variant; a run keyed before its step had an
        experiment sends the step's own content."""
        experiment = of_step(self.session, self.sequence_id, step)
        if experiment is None:
            return mail_variant(step, None, None)
        chosen = run.detail.get(VARIANT)
        if isinstance(chosen, str):
            return experiment.mail(step, chosen)
        if run.effect_key is not None or contact.email is None:
            return mail_variant(step, None, None)
        member = (self.enrolment.id, contact.id, message_key(self.enrolment.id, step))
        picked = experiment.choose(self.session, [member], now=self.now).get(self.enrolment.id)
        if picked is None:  # pragma: no cover - choose answers every member given
            return mail_variant(step, None, None)
        run.detail = {**run.detail, VARIANT: picked}
        return experiment.mail(step, picked)

    def delay(self, run: StepRun, variant: MailVariant) -> StepResult | None:
        """Postpone a variant's e-mail until its delay after the step run started."""
        target = run.started_at + variant.delay
        if self.now < target:
            return self.postpone(target, "variant_delay")
        return None

    def hold_mail(self, flow: Flow, contact: Contact, key: str) -> StepResult | None:
        """Postpone an e-mail that may not go now (send window, quiet hours, frequency cap).

        Asked only before the first attempt: once the key is written the e-mail may be
        out, and a re-run must not hold the enrolment back.
        """
        tz = zone(contact.time_zone)
        allowed = waits.next_allowed(self.now, tz, window=flow.send_window, quiet=flow.quiet_hours)
        if allowed > self.now:
            return self.postpone(allowed, "send_window")
        capped = postpone_until(
            self.session, contact.id, now=self.now, cap=self.limits.cap, ignore_key=key
        )
        if capped is not None:
            later = waits.next_allowed(capped, tz, window=flow.send_window, quiet=flow.quiet_hours)
            return self.postpone(later, "frequency_cap")
        return None

    def send_content(
        self, step: Step, flow: Flow, contact: Contact, kind: content_steps.ContentKind
    ) -> StepResult:
        """Pick the content once, keep the pick in the step run with the effect key, then
        send it: a re-run finds both and sends the same content, at most once."""
        key = effect_key(self.enrolment.id, self.key)
        run = self.step_run()
        variant = self.variant(step, run, contact)
        if run.effect_key is None:
            held = self.delay(run, variant) or self.hold_mail(flow, contact, key)
            if held is not None:
                return held
            if contact.email is None:
                return self.advance(flow, "no_address")
            picked = kind.choose(self.session, contact, step.spec, self.now, self.enrolment)
            if picked is None:
                return self.advance(flow, content_steps.NONE_FITTING)
            run.detail = {**run.detail, kind.detail_field: picked}
            run.effect_key = key
            self.session.commit()
        item_id = int(run.detail[kind.detail_field])
        if contact.email is None:
            return self.advance(flow, "no_address")
        extra = kind.context(self.session, item_id, contact, self.mailer.config)
        if extra is None:
            return self.advance(flow, content_steps.CONTENT_GONE)
        try:
            message = send_to_contact(
                self.session,
                variant.template_id,
                contact.id,
                idempotency_key=key,
                transport=self.mailer.transport,
                config=self.mailer.config,
                extra=extra,
                overrides=variant.overrides,
            )
        except (NotFound, InvalidInput) as exc:
            self.session.rollback()
            return self.finish(EnrolmentState.FAILED, str(exc)[:100])
        went = content_steps.record_sent(self.session, kind, message, item_id, self.now)
        if went and kind.after_sent is not None:
            # In the step's own commit: a re-run that finds the move undone calls it again.
            kind.after_sent(self.session, item_id, message, self.now)
        return self.advance(flow, message.status, detail={"message_id": message.id})

    # Moving the enrolment ---------------------------------------------------

    def step_run(self) -> StepRun:
        """This step's run row, created at its first execution (a wait measures from it)."""
        run = self.session.scalars(
            select(StepRun).where(
                StepRun.enrolment_id == self.enrolment.id, StepRun.step_key == self.key
            )
        ).one_or_none()
        if run is None:
            run = StepRun(enrolment_id=self.enrolment.id, step_key=self.key, started_at=self.now)
            self.session.add(run)
            try:
                self.session.flush()
            except IntegrityError:
                # Nothing is written before the step run, so rolling back loses nothing.
                self.session.rollback()
                raise _Busy from None
        return run

    def advance(
        self,
        flow: Flow,
        outcome: str,
        *,
        arm: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> StepResult:
        self.close_run(outcome, detail)
        following = flow.next_key(self.key, arm)
        if following is None:
            return self.finish(EnrolmentState.COMPLETED, END, outcome=outcome, closed=True)
        moved = self.move(step_key=following, next_run_at=self.now)
        if not moved:
            return StepResult(Verdict.SKIPPED)
        return StepResult(
            Verdict.ADVANCED, EnrolmentState.ACTIVE.value, following, self.now, outcome
        )

    def postpone(self, when: datetime, why: str) -> StepResult:
        if not self.move(next_run_at=when):
            return StepResult(Verdict.SKIPPED)
        return StepResult(Verdict.POSTPONED, EnrolmentState.ACTIVE.value, self.key, when, why)

    def finish(
        self,
        state: EnrolmentState,
        reason: str,
        *,
        outcome: str | None = None,
        closed: bool = False,
    ) -> StepResult:
        if outcome is not None and not closed:
            self.close_run(outcome, None)
        moved = self.move(
            state=state.value, exit_reason=reason, finished_at=self.now, next_run_at=None
        )
        if not moved:
            return StepResult(Verdict.SKIPPED)
        return StepResult(Verdict.FINISHED, state.value, self.key, None, outcome or reason)

    def close_run(self, outcome: str, detail: dict[str, Any] | None) -> None:
        # The enrolment row first, then its step run, as every run of the step locks
        # them: a worker whose lock a pipeline commit released would otherwise hold the
        # step run while a second worker holding the enrolment waits for it (deadlock).
        self.session.execute(
            select(Enrolment.id).where(Enrolment.id == self.enrolment.id).with_for_update()
        )
        run = self.step_run()
        run.finished_at = self.now
        run.outcome = outcome[:40]
        if detail:
            run.detail = {**run.detail, **detail}

    def move(self, **values: Any) -> bool:
        """Compare-and-set the enrolment from this step, release its claim and commit."""
        self.session.flush()
        result = self.session.execute(
            update(Enrolment)
            .where(
                Enrolment.id == self.enrolment.id,
                Enrolment.step_key == self.key,
                Enrolment.state == EnrolmentState.ACTIVE.value,
                # Mapped onto another version meanwhile: our next step is the old flow's.
                Enrolment.version_id == self.version_id,
            )
            .values(claim_token=None, claimed_until=None, **values)
            .execution_options(synchronize_session=False)
        )
        if int(getattr(result, "rowcount", 0) or 0) != 1:
            # Another run of this message moved the enrolment first: keep nothing of ours.
            self.session.rollback()
            return False
        self.session.commit()
        return True
