"""Checking an experiment's definition: every problem at once, each naming its field.

Pure checks on plain values come first; the few that need the database (the step of
the sequence, the templates and versions a variant names) read it without writing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.email import overrides
from campaigns.email.overrides import Overrides
from nurture.errors import Problem
from nurture.models import (
    AllocationMode,
    Broadcast,
    EmailTemplate,
    EmailTemplateVersion,
    ExperimentKind,
    Metric,
    SequenceVersion,
)
from nurture.models import Sequence as SequenceRow
from nurture.validation import EVENT_TYPE_RULE, holds_nul, is_event_type, is_id

# The weights may miss 1 by this much (three shares of 0.333 are fine).
WEIGHT_TOLERANCE = 0.001
MAX_VARIANTS = 10
MAX_NAME = 200
MAX_SUBJECT = 1000
MAX_PREHEADER = 1000
MAX_FROM_NAME = 200
MAX_WINDOW_DAYS = 90
MAX_DELAY_MINUTES = 90 * 24 * 60
MAIL_STEPS = ("email", "case_study", "webinar_invite")
CONTENT_KEYS = ("template_id", "version", "subject", "preheader", "from_name", "delay")
DELAY_UNITS = {"days": 24 * 60, "hours": 60, "minutes": 1}
_MAIL_KEY = re.compile(r"[a-z]\Z")
_PATH_KEY = re.compile(r"[0-9]\Z")


@dataclass(frozen=True, slots=True)
class VariantInput:
    """One arm as the marketer set it. `weight` None everywhere: equal shares (a split's
    path percents). `content` keys: template_id, version, subject, preheader, from_name,
    delay ({"days"|"hours"|"minutes": int})."""

    key: str
    name: str = ""
    weight: float | None = None
    content: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Settings:
    """The settings of an experiment other than its variants, as they would be stored."""

    kind: str
    metric: str
    conversion_event: str | None
    window_days: int
    mode: str
    bandit_floor: float
    baseline_rate: float | None
    min_effect: float
    alpha: float
    power: float
    default_variant: str


@dataclass(frozen=True, slots=True)
class Target:
    """What the experiment belongs to, as found in the database."""

    # The step's own template (mail steps) or the broadcast's: the control's template.
    template_id: int | None = None
    # A split step's path percents, in order.
    path_percents: tuple[int, ...] = ()


def check_name(name: object, problems: list[Problem]) -> str:
    if not isinstance(name, str) or not name.strip():
        problems.append(Problem("name", "is required"))
        return ""
    if len(name.strip()) > MAX_NAME or holds_nul(name):
        problems.append(Problem("name", f"must be at most {MAX_NAME} characters, without NUL"))
    return name.strip()


def check_settings(settings: Settings, keys: Sequence[str], problems: list[Problem]) -> None:
    """The metric, its window and event, the allocation mode and the plan."""
    kind = settings.kind
    metrics = [m.value for m in Metric]
    if settings.metric not in metrics:
        problems.append(Problem("metric", f"must be one of {', '.join(metrics)}"))
    elif kind == ExperimentKind.BROADCAST.value and settings.metric == Metric.GOAL.value:
        problems.append(Problem("metric", "a broadcast has no sequence goal to reach"))
    elif kind == ExperimentKind.SPLIT.value and settings.metric not in (
        Metric.GOAL.value,
        Metric.CONVERSION.value,
    ):
        problems.append(
            Problem("metric", "a split's paths are measured by the sequence goal or an event")
        )
    if settings.metric == Metric.CONVERSION.value and not is_event_type(settings.conversion_event):
        problems.append(
            Problem("conversion_event", f"is required for the conversion metric: {EVENT_TYPE_RULE}")
        )
    if not _whole(settings.window_days) or not 1 <= settings.window_days <= MAX_WINDOW_DAYS:
        problems.append(
            Problem("window_days", f"must be a whole number from 1 to {MAX_WINDOW_DAYS}")
        )
    modes = [m.value for m in AllocationMode]
    if settings.mode not in modes:
        problems.append(Problem("mode", f"must be one of {', '.join(modes)}"))
    elif kind == ExperimentKind.BROADCAST.value and settings.mode == AllocationMode.BANDIT.value:
        problems.append(Problem("mode", "a broadcast's test group goes out at once: no bandit"))
    floor_top = 1 / max(len(keys), 1)
    if not _number(settings.bandit_floor) or not 0 <= settings.bandit_floor <= floor_top:
        problems.append(
            Problem("bandit_floor", f"must be from 0 to {floor_top:.3g} (1 / the variants)")
        )
    _check_plan(settings, problems)
    if settings.default_variant not in keys:
        problems.append(Problem("default_variant", "must be the key of one of the variants"))


def _check_plan(settings: Settings, problems: list[Problem]) -> None:
    baseline = settings.baseline_rate
    if baseline is not None and (not _number(baseline) or not 0 < baseline < 1):
        problems.append(Problem("baseline_rate", "must be a rate between 0 and 1"))
        baseline = None
    effect = settings.min_effect
    if not _number(effect) or not 0 < effect <= 10:
        problems.append(Problem("min_effect", "must be a relative lift above 0 (0.2 is 20 %)"))
    elif baseline is not None and baseline * (1 + effect) >= 1:
        problems.append(
            Problem("min_effect", "the baseline rate raised by this lift would reach 100 %")
        )
    if not _number(settings.alpha) or not 0 < settings.alpha <= 0.2:
        problems.append(Problem("alpha", "must be above 0 and at most 0.2"))
    if not _number(settings.power) or not 0.5 <= settings.power < 1:
        problems.append(Problem("power", "must be at least 0.5 and below 1"))


def check_variants(
    kind: str, variants: Sequence[VariantInput], target: Target, problems: list[Problem]
) -> list[float]:
    """The variants' keys, names and content; answers their weights (filled in when
    none was given: equal shares, or a split's path percents)."""
    if not 2 <= len(variants) <= MAX_VARIANTS:
        problems.append(Problem("variants", f"must be 2 to {MAX_VARIANTS} variants"))
    split = kind == ExperimentKind.SPLIT.value
    seen: set[str] = set()
    for index, variant in enumerate(variants):
        where = f"variants[{index}]"
        pattern, rule = (_PATH_KEY, "0, 1, 2...") if split else (_MAIL_KEY, "a, b, c...")
        if not isinstance(variant.key, str) or not pattern.match(variant.key):
            problems.append(Problem(f"{where}.key", f"must be one of {rule}"))
        elif variant.key in seen:
            problems.append(Problem(f"{where}.key", f"{variant.key!r} is used twice"))
        seen.add(str(variant.key))
        name: object = variant.name
        if not isinstance(name, str) or len(name) > MAX_NAME or holds_nul(name):
            problems.append(
                Problem(f"{where}.name", f"must be text of at most {MAX_NAME} characters")
            )
        content: object = variant.content
        if not isinstance(content, Mapping):
            problems.append(Problem(f"{where}.content", "must be an object"))
        elif split and content:
            problems.append(
                Problem(f"{where}.content", "a split's variants are its paths: no content")
            )
        elif not split:
            problems.extend(_content_problems(kind, variant, where))
    control = "0" if split else "a"
    if variants and control not in seen:
        problems.append(Problem("variants", f"the control {control!r} is missing"))
    if (
        split
        and target.path_percents
        and seen != {str(i) for i in range(len(target.path_percents))}
    ):
        problems.append(
            Problem(
                "variants",
                f"a split with {len(target.path_percents)} paths needs the keys "
                f"0 to {len(target.path_percents) - 1}",
            )
        )
    return _weights(variants, target if split else Target(), problems)


def _weights(
    variants: Sequence[VariantInput], target: Target, problems: list[Problem]
) -> list[float]:
    given = [v.weight for v in variants]
    if all(w is None for w in given):
        if target.path_percents and len(target.path_percents) == len(variants):
            by_key = {str(i): p / 100 for i, p in enumerate(target.path_percents)}
            return [by_key.get(v.key, 0.0) for v in variants]
        return [1 / len(variants)] * len(variants) if variants else []
    weights: list[float] = []
    for index, weight in enumerate(given):
        if weight is None:
            problems.append(
                Problem(f"variants[{index}].weight", "give every variant a weight, or none")
            )
            weights.append(0.0)
        elif not _number(weight) or not 0 <= weight <= 1:
            problems.append(Problem(f"variants[{index}].weight", "must be a share from 0 to 1"))
            weights.append(0.0)
        else:
            weights.append(float(weight))
    total = sum(weights)
    weighed = not any(p.field.endswith(".weight") for p in problems)
    if weighed and abs(total - 1) > WEIGHT_TOLERANCE:
        problems.append(Problem("variants", f"the weights add up to {total:.4g}, not 1"))
    return weights


def _content_problems(kind: str, variant: VariantInput, where: str) -> Iterator[Problem]:
    content: Mapping[str, Any] = variant.content
    for key in content:
        if key not in CONTENT_KEYS:
            yield Problem(f"{where}.content.{key}", "is not something a variant can change")
    if variant.key != "a" and not any(content.get(k) is not None for k in CONTENT_KEYS):
        yield Problem(
            f"{where}.content",
            "a variant must change something: subject, preheader, template, version, "
            "sender name or delay",
        )
    template_id = content.get("template_id")
    if template_id is not None and not is_id(template_id):
        yield Problem(f"{where}.content.template_id", "must be a template id")
    version = content.get("version")
    if version is not None and (not _whole(version) or version < 1):
        yield Problem(f"{where}.content.version", "must be a version number from 1")
    for key, limit, blank_ok in (
        ("subject", MAX_SUBJECT, False),
        ("preheader", MAX_PREHEADER, True),
        ("from_name", MAX_FROM_NAME, False),
    ):
        text = content.get(key)
        if text is None:
            continue
        if not isinstance(text, str) or len(text) > limit or holds_nul(text):
            yield Problem(f"{where}.content.{key}", f"must be text of at most {limit} characters")
        elif not blank_ok and not text.strip():
            yield Problem(f"{where}.content.{key}", "must not be blank (leave it out instead)")
        elif key == "from_name" and any(c in text for c in '\r\n"<>'):
            yield Problem(f"{where}.content.from_name", "must not hold line breaks, quotes or <>")
    delay = content.get("delay")
    if delay is not None:
        if kind == ExperimentKind.BROADCAST.value:
            yield Problem(f"{where}.content.delay", "a broadcast's variants cannot be delayed")
        elif delay_minutes(delay) is None:
            yield Problem(
                f"{where}.content.delay",
                f'must be one of {{"days"|"hours"|"minutes": N}}, at most {MAX_WINDOW_DAYS} days',
            )


def delay_minutes(delay: object) -> int | None:
    """A variant's delay in minutes, or None when it is not a valid duration."""
    if not isinstance(delay, Mapping) or len(delay) != 1:
        return None
    ((unit, amount),) = delay.items()
    if unit not in DELAY_UNITS or not _whole(amount) or amount < 0:
        return None
    minutes = int(amount) * DELAY_UNITS[unit]
    return minutes if minutes <= MAX_DELAY_MINUTES else None


def check_templates(
    session: Session, variants: Sequence[VariantInput], target: Target, problems: list[Problem]
) -> None:
    """Every template a variant names exists (and is not archived); every pinned version
    exists for the template it pins (the variant's own, else the control's); subject and
    preheader compile in the template sandbox. Run once the plain checks passed."""
    named = {
        v.content["template_id"]
        for v in variants
        if isinstance(v.content, Mapping) and is_id(v.content.get("template_id"))
    }
    found = (
        {
            int(tid)
            for tid in session.scalars(
                select(EmailTemplate.id).where(
                    EmailTemplate.id.in_(named), EmailTemplate.archived_at.is_(None)
                )
            )
        }
        if named
        else set()
    )
    for index, variant in enumerate(variants):
        content = variant.content if isinstance(variant.content, Mapping) else {}
        # The texts as the pipeline will take them: they must compile in the sandbox.
        texts = Overrides.from_json(
            {k: content.get(k) for k in ("subject", "preheader", "from_name")}
        )
        problems.extend(overrides.problems(session, None, texts, f"variants[{index}].content"))
        template_id = content.get("template_id")
        if is_id(template_id) and template_id not in found:
            problems.append(
                Problem(
                    f"variants[{index}].content.template_id", f"no template with id {template_id}"
                )
            )
            continue
        version = content.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            continue
        pinned = template_id if is_id(template_id) else target.template_id
        if pinned is None:
            problems.append(
                Problem(
                    f"variants[{index}].content.version", "names no template to pin a version of"
                )
            )
            continue
        exists = session.scalar(
            select(EmailTemplateVersion.id).where(
                EmailTemplateVersion.template_id == pinned, EmailTemplateVersion.number == version
            )
        )
        if exists is None:
            problems.append(
                Problem(
                    f"variants[{index}].content.version",
                    f"template {pinned} has no version {version}",
                )
            )


def find_target(
    session: Session,
    kind: str,
    *,
    sequence_id: int | None,
    step_key: str | None,
    broadcast_id: int | None,
    problems: list[Problem],
) -> Target:
    """The step or broadcast the experiment belongs to, checked against its kind."""
    if kind not in [k.value for k in ExperimentKind]:
        problems.append(
            Problem("kind", f"must be one of {', '.join(k.value for k in ExperimentKind)}")
        )
        return Target()
    if kind == ExperimentKind.BROADCAST.value:
        if sequence_id is not None or step_key is not None:
            problems.append(Problem("sequence_id", "a broadcast's experiment names no sequence"))
        if not is_id(broadcast_id):
            problems.append(Problem("broadcast_id", "is required for a broadcast's experiment"))
            return Target()
        broadcast = session.get(Broadcast, broadcast_id)
        if broadcast is None:
            problems.append(Problem("broadcast_id", f"no broadcast with id {broadcast_id}"))
            return Target()
        return Target(template_id=broadcast.template_id)
    if broadcast_id is not None:
        problems.append(Problem("broadcast_id", "a sequence step's experiment names no broadcast"))
    if not is_id(sequence_id):
        problems.append(Problem("sequence_id", "is required for a sequence step's experiment"))
        return Target()
    if not isinstance(step_key, str) or not step_key:
        problems.append(Problem("step_key", "is required for a sequence step's experiment"))
        return Target()
    sequence = session.get(SequenceRow, sequence_id)
    if sequence is None:
        problems.append(Problem("sequence_id", f"no sequence with id {sequence_id}"))
        return Target()
    version = session.get(SequenceVersion, sequence.current_version_id)
    step = find_step(version.definition if version is not None else {}, step_key)
    if step is None:
        problems.append(Problem("step_key", f"the sequence has no step {step_key!r}"))
        return Target()
    step_type = step.get("type")
    if kind == ExperimentKind.STEP.value:
        if step_type not in MAIL_STEPS:
            problems.append(
                Problem("step_key", f"{step_key!r} is not a mail step (it is {step_type})")
            )
            return Target()
        template_id = step.get("template_id")
        return Target(template_id=template_id if is_id(template_id) else None)
    if step_type != "split":
        problems.append(
            Problem("step_key", f"{step_key!r} is not a split step (it is {step_type})")
        )
        return Target()
    paths = step.get("paths")
    percents = tuple(
        int(p.get("percent", 0)) if isinstance(p, Mapping) and _whole(p.get("percent")) else 0
        for p in (paths if isinstance(paths, list) else [])
    )
    return Target(path_percents=percents)


def find_step(definition: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    """The step with this key anywhere in a sequence definition (branches and paths too)."""
    pending: list[Any] = [definition.get("steps")]
    while pending:
        steps = pending.pop()
        if not isinstance(steps, list):
            continue
        for step in steps:
            if not isinstance(step, Mapping):
                continue
            if step.get("key") == key:
                return step
            pending.extend([step.get("then"), step.get("else")])
            paths = step.get("paths")
            if isinstance(paths, list):
                pending.extend(p.get("steps") for p in paths if isinstance(p, Mapping))
    return None


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )
