"""What the broadcasts API answers and accepts (documented in /schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from campaigns.broadcasts.definition import BroadcastInput, VariantInput
from campaigns.broadcasts.progress import Progress
from nurture.models import Broadcast, Experiment, ExperimentVariant
from nurture.web.broadcast_reading import list_size

MAX_LIST = 100_000

Clock = Annotated[str, Meta(pattern="^[0-9][0-9]:[0-9][0-9]$", examples=["09:00"])]
Key = Annotated[str, Meta(pattern=r"^[a-z]$", examples=["b"])]
Id = Annotated[int, Meta(ge=1, le=2**63 - 1)]


class QuietHoursIn(msgspec.Struct, forbid_unknown_fields=True):
    """Local hours (in each recipient's zone) in which nobody gets the broadcast."""

    start: Clock
    end: Clock


class BroadcastVariantIn(msgspec.Struct, forbid_unknown_fields=True):
    """One arm of the test: what it changes from the broadcast's own template and texts.

    Leave out `key` to take the next letter; "a" is the control."""

    key: Key | None = None
    name: Annotated[str, Meta(max_length=200)] = ""
    subject: Annotated[str, Meta(max_length=500)] | None = None
    preheader: Annotated[str, Meta(max_length=500)] | None = None
    from_name: Annotated[str, Meta(max_length=200)] | None = None
    template_id: Id | None = None


class BroadcastTestIn(msgspec.Struct, forbid_unknown_fields=True):
    """The test phase: `percent` of the audience split across the variants; the winner
    by `metric` after `hours` goes to the rest (else `default_variant`)."""

    percent: Annotated[int, Meta(examples=[20])]
    hours: Annotated[float, Meta(examples=[4])]
    variants: Annotated[list[BroadcastVariantIn], Meta(max_length=26)]
    metric: Literal["opens", "clicks", "replies"] = "opens"
    default_variant: Key = "a"
    # The plan: the metric's usual rate (a typical one when left out) and the smallest
    # relative lift worth detecting; the test group must be large enough for them.
    baseline_rate: Annotated[float, Meta(gt=0, lt=1)] | None = None
    min_effect: Annotated[float, Meta(gt=0, le=10)] = 0.2


class BroadcastIn(msgspec.Struct, forbid_unknown_fields=True):
    """A broadcast, saved as a draft. Exactly one of `segment_id` and `contact_ids`.

    `send_at` (UTC) empty means as soon as it is scheduled; with `local_time` it names
    the day whose local time each recipient gets it at."""

    name: Annotated[str, Meta(max_length=200, examples=["March newsletter"])]
    template_id: Id
    segment_id: Id | None = None
    contact_ids: Annotated[list[Id], Meta(max_length=MAX_LIST)] | None = None
    send_at: datetime | None = None
    local_time: Clock | None = None
    cap_policy: Literal["respect", "override"] = "respect"
    quiet_hours: QuietHoursIn | None = None
    test: BroadcastTestIn | None = None
    accept_small_test: bool = False


class PhaseProgressOut(msgspec.Struct):
    phase: str
    total: int
    sent: int
    skipped: int
    pending: int
    cancelled: int


class ProgressOut(msgspec.Struct):
    """Recipients by state, overall and per phase (test / rest / all)."""

    total: int
    sent: int
    skipped: int
    pending: int
    cancelled: int
    percent: float  # finished (sent or skipped), 0-100
    phases: list[PhaseProgressOut]


class BroadcastVariantOut(msgspec.Struct):
    key: str
    name: str
    subject: str | None
    preheader: str | None
    from_name: str | None
    template_id: int | None


class BroadcastTestOut(msgspec.Struct):
    experiment_id: int | None
    percent: int
    hours: float
    decide_at: datetime | None
    metric: str
    default_variant: str
    rest_variant: str | None
    variants: list[BroadcastVariantOut]


class BroadcastOut(msgspec.Struct):
    id: int
    name: str
    status: str
    template_id: int | None
    segment_id: int | None
    contact_count: int | None
    send_at: datetime | None
    local_time: str | None
    cap_policy: str
    quiet_hours: dict[str, str] | None
    test: BroadcastTestOut | None
    progress: ProgressOut
    started_at: datetime | None
    finished_at: datetime | None
    cancelled_at: datetime | None
    created_by: str
    created_at: datetime
    updated_at: datetime


class BroadcastPageOut(msgspec.Struct):
    """Newest first; pass `next_cursor` back as `cursor` (null: no more)."""

    items: list[BroadcastOut]
    next_cursor: str | None


def definition(data: BroadcastIn) -> BroadcastInput:
    """The domain's input for a posted broadcast."""
    test = data.test
    return BroadcastInput(
        name=data.name,
        template_id=data.template_id,
        segment_id=data.segment_id,
        contact_ids=data.contact_ids,
        send_at=data.send_at,
        local_time=data.local_time,
        cap_policy=data.cap_policy,
        quiet_hours=None
        if data.quiet_hours is None
        else {"start": data.quiet_hours.start, "end": data.quiet_hours.end},
        test_percent=None if test is None else test.percent,
        test_hours=None if test is None else test.hours,
        metric="opens" if test is None else test.metric,
        default_variant="a" if test is None else test.default_variant,
        variants=() if test is None else _variants(test.variants),
        baseline_rate=None if test is None else test.baseline_rate,
        min_effect=0.2 if test is None else test.min_effect,
        accept_small_test=data.accept_small_test,
    )


def _variants(given: list[BroadcastVariantIn]) -> tuple[VariantInput, ...]:
    taken = {v.key for v in given if v.key is not None}
    free = (k for k in "abcdefghijklmnopqrstuvwxyz" if k not in taken)
    return tuple(
        VariantInput(
            key=v.key if v.key is not None else next(free, "?"),
            name=v.name,
            template_id=v.template_id,
            subject=v.subject,
            preheader=v.preheader,
            from_name=v.from_name,
        )
        for v in given
    )


def progress_out(progress: Progress) -> ProgressOut:
    overall = progress.all
    return ProgressOut(
        total=overall.total,
        sent=overall.sent,
        skipped=overall.skipped,
        pending=overall.pending,
        cancelled=overall.cancelled,
        percent=round(progress.percent, 1),
        phases=[
            PhaseProgressOut(phase, c.total, c.sent, c.skipped, c.pending, c.cancelled)
            for phase, c in sorted(progress.phases.items())
        ],
    )


def broadcast_out(
    broadcast: Broadcast,
    progress: Progress,
    experiment: Experiment | None,
    variants: list[ExperimentVariant],
) -> BroadcastOut:
    test = None
    if broadcast.test_percent is not None:
        test = BroadcastTestOut(
            experiment_id=None if experiment is None else experiment.id,
            percent=broadcast.test_percent,
            hours=broadcast.test_hours or 0.0,
            decide_at=broadcast.decide_at,
            metric=experiment.metric if experiment is not None else "opens",
            default_variant=experiment.default_variant if experiment is not None else "a",
            rest_variant=broadcast.rest_variant,
            variants=[
                BroadcastVariantOut(
                    key=v.key,
                    name=v.name,
                    subject=v.content.get("subject"),
                    preheader=v.content.get("preheader"),
                    from_name=v.content.get("from_name"),
                    template_id=v.content.get("template_id"),
                )
                for v in variants
            ],
        )
    quiet = broadcast.quiet_hours
    return BroadcastOut(
        id=broadcast.id,
        name=broadcast.name,
        status=broadcast.status,
        template_id=broadcast.template_id,
        segment_id=broadcast.segment_id,
        contact_count=list_size(broadcast),
        send_at=broadcast.send_at,
        local_time=broadcast.local_time,
        cap_policy=broadcast.cap_policy,
        quiet_hours=None if quiet is None else {k: str(v) for k, v in quiet.items()},
        test=test,
        progress=progress_out(progress),
        started_at=broadcast.started_at,
        finished_at=broadcast.finished_at,
        cancelled_at=broadcast.cancelled_at,
        created_by=broadcast.created_by,
        created_at=broadcast.created_at,
        updated_at=broadcast.updated_at,
    )
