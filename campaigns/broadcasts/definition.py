"""What a broadcast is made of, and the checks that name the field at fault.

`BroadcastInput` is what a caller (the API, a page, the demo) gives; `check` answers
the problems of one, and `SmallTest` is the one warning a caller may override:
a test group too small for the planned sample, with the number it would need.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from campaigns.experiments import decision
from nurture.errors import InvalidInput, Problem
from nurture.models import CapPolicy, Metric

_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_KEY = re.compile(r"^[a-z]$")
MAX_NAME = 200
MAX_LIST = 100_000
# Broadcast tests are decided by what is counted per delivered message.
TEST_METRICS = (Metric.OPENS.value, Metric.CLICKS.value, Metric.REPLIES.value)
# What the metric usually is when the marketer gives no baseline: the plan needs one.
# The plan's error rates: the experiments' defaults (a broadcast form does not ask).
ALPHA = 0.05
POWER = 0.8
DEFAULT_BASELINE = {Metric.OPENS.value: 0.25, Metric.CLICKS.value: 0.03, Metric.REPLIES.value: 0.01}


@dataclass(frozen=True, slots=True)
class VariantInput:
    """One arm of the test phase; "a" is the broadcast's own template and texts. Absent
    fields are the control's."""

    key: str
    name: str = ""
    template_id: int | None = None
    subject: str | None = None
    preheader: str | None = None
    from_name: str | None = None

    def content(self) -> dict[str, Any]:
        """The variant as `ExperimentVariant.content` stores it (absent keys left out)."""
        out: dict[str, Any] = {}
        for name in ("template_id", "subject", "preheader", "from_name"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


@dataclass(frozen=True, slots=True)
class BroadcastInput:
    """A broadcast as written. Exactly one of `segment_id` and `contact_ids`.

    `send_at` None means "as soon as it is scheduled". With `local_time` ("09:00"),
    each recipient gets it at that time in their own zone, the first such moment at or
    after `send_at`. `quiet_hours` is {"start": "21:00", "end": "08:00"} local time.
    A test phase needs `test_percent` (1-50), `test_hours` and two variants or more.
    """

    name: str
    template_id: int | None
    segment_id: int | None = None
    contact_ids: Sequence[int] | None = None
    send_at: datetime | None = None
    local_time: str | None = None
    cap_policy: str = CapPolicy.RESPECT.value
    quiet_hours: Mapping[str, str] | None = None
    test_percent: int | None = None
    test_hours: float | None = None
    metric: str = Metric.OPENS.value
    default_variant: str = "a"
    variants: Sequence[VariantInput] = field(default_factory=tuple)
    baseline_rate: float | None = None
    min_effect: float = 0.2
    accept_small_test: bool = False

    @property
    def has_test(self) -> bool:
        return self.test_percent is not None


class SmallTest(InvalidInput):
    """The test group is smaller than the plan needs: a warning the caller may override
    (`accept_small_test=True`). `needed` is the test percent that would be enough."""

    def __init__(self, *, per_variant: int, planned: int, needed_percent: int | None) -> None:
        self.per_variant = per_variant
        self.planned = planned
        self.needed_percent = needed_percent
        more = (
            f"about {needed_percent} % would be"
            if needed_percent is not None
            else "even 50 % would not be"
        )
        super().__init__(
            [
                Problem(
                    "test_percent",
                    f"the test group gives {per_variant} recipients per variant but the plan "
                    f"needs {planned} to detect the lift; {more} enough "
                    "(send anyway with accept_small_test)",
                )
            ]
        )


def planned_per_variant(data: BroadcastInput) -> int:
    """Recipients per variant the test's plan needs: the experiments' own plan (the
    sequential rule's allowance for its looks and alpha shared among the variants), so
    the warning and the rule that decides agree."""
    return decision.planned_per_variant(
        plan_baseline(data),
        data.min_effect,
        alpha=ALPHA,
        power=POWER,
        variants=max(2, len(data.variants)),
    )


def check(data: BroadcastInput, *, now: datetime, known_template: bool) -> list[Problem]:
    """The problems of a broadcast that need no database beyond whether its template
    exists (the store counts the audience and checks the test size)."""
    problems: list[Problem] = []
    if not data.name.strip():
        problems.append(Problem("name", "must not be empty"))
    elif len(data.name) > MAX_NAME:
        problems.append(Problem("name", f"must be at most {MAX_NAME} characters"))
    if data.template_id is None:
        problems.append(Problem("template_id", "choose a template"))
    elif not known_template:
        problems.append(Problem("template_id", "no such template"))
    if (data.segment_id is None) == (data.contact_ids is None):
        problems.append(Problem("segment_id", "give exactly one of a segment or a list"))
    if data.contact_ids is not None:
        if len(data.contact_ids) > MAX_LIST:
            problems.append(Problem("contact_ids", f"at most {MAX_LIST} contacts"))
        elif any(not isinstance(c, int) or isinstance(c, bool) or c <= 0 for c in data.contact_ids):
            problems.append(Problem("contact_ids", "must be contact ids"))
    if data.send_at is not None:
        if data.send_at.tzinfo is None:
            problems.append(Problem("send_at", "must carry a time zone"))
        else:
            # With a local time, the day may have begun already in some zones.
            slack = 0 if data.local_time is None else 86_400
            if (now - data.send_at).total_seconds() > slack:
                problems.append(Problem("send_at", "is in the past"))
    if data.local_time is not None and not _CLOCK.match(data.local_time):
        problems.append(Problem("local_time", "must be a 24-hour HH:MM time"))
    if data.cap_policy not in (CapPolicy.RESPECT.value, CapPolicy.OVERRIDE.value):
        problems.append(Problem("cap_policy", "must be respect or override"))
    problems += _quiet(data.quiet_hours)
    problems += _test(data)
    return problems


def quiet_window(raw: Mapping[str, str] | None) -> tuple[str, str] | None:
    """The (start, end) of valid quiet hours, or None."""
    if raw is None or _quiet(raw):
        return None
    return str(raw["start"]), str(raw["end"])


def _quiet(raw: Mapping[str, str] | None) -> list[Problem]:
    if raw is None:
        return []
    if not isinstance(raw, Mapping) or set(raw) != {"start", "end"}:
        return [Problem("quiet_hours", "must be an object with start and end")]
    problems = [
        Problem(f"quiet_hours.{name}", "must be a 24-hour HH:MM time")
        for name in ("start", "end")
        if not isinstance(raw[name], str) or not _CLOCK.match(raw[name])
    ]
    if not problems and raw["start"] == raw["end"]:
        problems.append(Problem("quiet_hours", "start and end must differ"))
    return problems


def _test(data: BroadcastInput) -> list[Problem]:
    problems: list[Problem] = []
    if not data.has_test:
        if len(data.variants) > 1:
            problems.append(Problem("test_percent", "variants need a test phase (1-50 %)"))
        return problems
    percent = data.test_percent
    if isinstance(percent, bool) or not isinstance(percent, int) or not 1 <= percent <= 50:
        problems.append(Problem("test_percent", "must be a whole percent from 1 to 50"))
    hours = data.test_hours
    if hours is None or isinstance(hours, bool) or not 0 < hours <= 24 * 14:
        problems.append(Problem("test_hours", "must be more than 0 and at most 336 hours"))
    if data.metric not in TEST_METRICS:
        problems.append(Problem("metric", f"must be one of {', '.join(TEST_METRICS)}"))
    if data.baseline_rate is not None and not 0 < data.baseline_rate < 1:
        problems.append(Problem("baseline_rate", "must be between 0 and 1"))
    if not 0 < data.min_effect <= 10:
        problems.append(Problem("min_effect", "must be a relative lift above 0"))
    elif 0 < (baseline := plan_baseline(data)) < 1 and baseline * (1 + data.min_effect) >= 1:
        problems.append(
            Problem("min_effect", "the baseline rate raised by this lift would reach 100 %")
        )
    if len(data.variants) < 2:
        problems.append(Problem("variants", "a test needs two variants or more"))
    keys = [v.key for v in data.variants]
    for index, variant in enumerate(data.variants):
        where = f"variants[{index}]"
        if not _KEY.match(variant.key):
            problems.append(Problem(f"{where}.key", "must be one letter, a to z"))
        elif keys.count(variant.key) > 1:
            problems.append(Problem(f"{where}.key", "is used twice"))
        if variant.key != "a" and not variant.content():
            problems.append(Problem(where, "a variant must change something of the control"))
        # Its texts are checked against the template by the store (overrides.problems).
    if keys and "a" not in keys:
        problems.append(Problem("variants", 'the control "a" must be one of them'))
    if keys and data.default_variant not in keys:
        problems.append(Problem("default_variant", "must be one of the variants"))
    return problems


def check_test_size(data: BroadcastInput, audience: int) -> SmallTest | None:
    """The warning for a test group smaller than the planned sample, or None."""
    if not data.has_test or data.accept_small_test or not data.variants:
        return None
    percent = data.test_percent or 0
    arms = len(data.variants)
    planned = planned_per_variant(data)
    per_variant = audience * percent // 100 // arms
    if per_variant >= planned:
        return None
    needed = math.ceil(planned * arms * 100 / audience) if audience else None
    return SmallTest(
        per_variant=per_variant,
        planned=planned,
        needed_percent=needed if needed is not None and needed <= 50 else None,
    )


def plan_baseline(data: BroadcastInput) -> float:
    """The plan's baseline rate: the marketer's, or a typical one for the metric."""
    return data.baseline_rate or DEFAULT_BASELINE.get(data.metric, 0.25)
