"""The experiment editor as a browser posts it: numbered variant rows and the plan's
fields turned into the store's arguments, and the store's problems placed back next to
the field or row they name.

A variant row is `v-<i>-<field>` for field in name, subject, preheader, template_id,
version, from_name, delay, delay_unit, weight. Rows are numbered as the page made them;
a row removed in the page leaves a gap, so rows are read in the order of their number.
Keys are given by order ("a", "b"... on a mail step, where "a" is the control; a
split's rows are its paths "0", "1"... and cannot be added or removed). Percentages are
typed as percent ("12.5") and stored as shares (0.125).
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from campaigns.experiments.store import VariantInput
from nurture.errors import Problem
from nurture.models import AllocationMode, Experiment, ExperimentKind, ExperimentVariant, Metric

MAX_VARIANTS = 6
MAIL_METRICS = tuple(m.value for m in Metric)
SPLIT_METRICS = (Metric.GOAL.value, Metric.CONVERSION.value)
DELAY_UNITS = ("days", "hours", "minutes")
_ROW = re.compile(r"v-(\d{1,3})-key\Z")
_VARIANT_PATH = re.compile(r"variants\[(\d+)\](?:\.content)?(?:\.(\w+))?(?:\.(\w+))?")


@dataclass(frozen=True, slots=True)
class VariantRow:
    """One arm as the form shows it, with the problems found in it by field."""

    key: str
    name: str = ""
    subject: str = ""
    preheader: str = ""
    template_id: str = ""
    version: str = ""
    from_name: str = ""
    delay: str = ""
    delay_unit: str = "hours"
    weight: str = ""
    errors: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ExperimentForm:
    kind: str
    name: str = ""
    metric: str = Metric.CLICKS.value
    conversion_event: str = ""
    window_days: str = "14"
    mode: str = AllocationMode.FIXED.value
    bandit_floor: str = "10"
    baseline_rate: str = ""
    min_effect: str = "20"
    guardrail_stop: bool = False
    default_variant: str = ""
    variants: tuple[VariantRow, ...] = ()
    errors: Mapping[str, str] = field(default_factory=dict)
    # Problems that name no field on this form, listed above it.
    others: tuple[Problem, ...] = ()

    @property
    def metrics(self) -> tuple[str, ...]:
        return SPLIT_METRICS if self.kind == ExperimentKind.SPLIT.value else MAIL_METRICS

    @property
    def can_add(self) -> bool:
        return self.kind != ExperimentKind.SPLIT.value and len(self.variants) < MAX_VARIANTS


def mail_key(index: int) -> str:
    return string.ascii_lowercase[index]


def _percent_text(share: float | None) -> str:
    return "" if share is None else f"{share * 100:g}"


def new_step_form(*, step_label: str, variants: int = 2) -> ExperimentForm:
    """A blank test of a mail step: the control and one variant, equal shares."""
    rows = tuple(
        VariantRow(key=mail_key(i), name="Control" if i == 0 else f"Variant {mail_key(i).upper()}")
        for i in range(variants)
    )
    return ExperimentForm(
        kind=ExperimentKind.STEP.value,
        name=f"Test: {step_label}",
        variants=rows,
        default_variant="a",
    )


def new_split_form(*, step_label: str, percents: Sequence[int]) -> ExperimentForm:
    """A test of a split: its paths, with their percents as the shares."""
    rows = tuple(
        VariantRow(key=str(i), name=f"Path {chr(65 + i)}", weight=str(percent))
        for i, percent in enumerate(percents)
    )
    return ExperimentForm(
        kind=ExperimentKind.SPLIT.value,
        name=f"Test: {step_label}",
        metric=Metric.GOAL.value,
        variants=rows,
        default_variant="0",
    )


def form_of(experiment: Experiment, variants: Sequence[ExperimentVariant]) -> ExperimentForm:
    """A stored experiment as its form shows it."""
    rows = []
    for v in variants:
        content = v.content or {}
        raw_delay = content.get("delay")
        delay: Mapping[str, Any] = raw_delay if isinstance(raw_delay, Mapping) else {}
        unit, amount = next(iter(delay.items()), ("hours", ""))
        rows.append(
            VariantRow(
                key=v.key,
                name=v.name,
                subject=str(content.get("subject") or ""),
                preheader=str(content.get("preheader") or ""),
                template_id=str(content.get("template_id") or ""),
                version=str(content.get("version") or ""),
                from_name=str(content.get("from_name") or ""),
                delay=str(amount),
                delay_unit=str(unit),
                weight=_percent_text(v.weight),
            )
        )
    return ExperimentForm(
        kind=experiment.kind,
        name=experiment.name,
        metric=experiment.metric,
        conversion_event=experiment.conversion_event or "",
        window_days=str(experiment.window_days),
        mode=experiment.mode,
        bandit_floor=_percent_text(experiment.bandit_floor),
        baseline_rate=_percent_text(experiment.baseline_rate),
        min_effect=_percent_text(experiment.min_effect),
        guardrail_stop=experiment.guardrail_stop,
        default_variant=experiment.default_variant,
        variants=tuple(rows),
    )


@dataclass(frozen=True, slots=True)
class Posted:
    """What the form asks the store for, once every field parsed."""

    name: str
    variants: list[VariantInput]
    settings: dict[str, Any]


def posted(data: Mapping[str, str], kind: str) -> tuple[ExperimentForm, Posted | None]:
    """The form as typed, and the store's arguments unless a field did not parse (then
    the form carries the problems by field)."""
    problems: list[Problem] = []
    numbers = sorted(int(m.group(1)) for name in data if (m := _ROW.match(name)))
    rows = []
    for position, number in enumerate(numbers[:MAX_VARIANTS]):
        posted_key = data.get(f"v-{number}-key", "").strip()
        key = posted_key if kind == ExperimentKind.SPLIT.value else mail_key(position)

        def value(name: str, number: int = number) -> str:
            return data.get(f"v-{number}-{name}", "").strip()

        rows.append(
            VariantRow(
                key=key,
                name=value("name"),
                subject=value("subject"),
                preheader=value("preheader"),
                template_id=value("template_id"),
                version=value("version"),
                from_name=value("from_name"),
                delay=value("delay"),
                delay_unit=value("delay_unit"),
                weight=value("weight"),
            )
        )
    form = ExperimentForm(
        kind=kind,
        name=data.get("name", "").strip(),
        metric=data.get("metric", "").strip(),
        conversion_event=data.get("conversion_event", "").strip(),
        window_days=data.get("window_days", "").strip(),
        mode=data.get("mode", "").strip(),
        bandit_floor=data.get("bandit_floor", "").strip(),
        baseline_rate=data.get("baseline_rate", "").strip(),
        min_effect=data.get("min_effect", "").strip(),
        guardrail_stop=data.get("guardrail_stop") == "on",
        default_variant=data.get("default_variant", "").strip(),
        variants=tuple(rows),
    )
    if not rows:
        problems.append(Problem("variants", "add at least two variants"))
    variants = []
    given_weights = [row.weight for row in rows if row.weight]
    if given_weights and len(given_weights) != len(rows):
        problems.append(Problem("variants", "give every variant a share, or none for equal shares"))
    for index, row in enumerate(rows):
        where = f"variants[{index}]"
        weight = share_of(row.weight, problems, f"{where}.weight", low=0.0, high=100.0)
        content = _content(row, where, problems)
        variants.append(VariantInput(key=row.key, name=row.name, weight=weight, content=content))
    settings: dict[str, Any] = {
        "metric": form.metric,
        "conversion_event": form.conversion_event or None,
        "window_days": _whole(form.window_days, "window_days", problems),
        "mode": form.mode,
        "bandit_floor": share_of(form.bandit_floor, problems, "bandit_floor", low=0.0, high=50.0),
        "baseline_rate": share_of(form.baseline_rate, problems, "baseline_rate"),
        "min_effect": share_of(form.min_effect, problems, "min_effect", high=1000.0),
        "guardrail_stop": form.guardrail_stop,
        "default_variant": form.default_variant or None,
    }
    for name in ("window_days", "bandit_floor", "min_effect"):
        if settings[name] is None and not any(p.field == name for p in problems):
            problems.append(Problem(name, "is required"))
    if problems:
        return with_problems(form, problems), None
    return form, Posted(name=form.name, variants=variants, settings=settings)


def _content(row: VariantRow, where: str, problems: list[Problem]) -> dict[str, Any]:
    content: dict[str, Any] = {
        name: value
        for name in ("subject", "preheader", "from_name")
        if (value := getattr(row, name))
    }
    for name in ("template_id", "version"):
        raw = getattr(row, name)
        if raw:
            number = _whole(raw, f"{where}.{name}", problems)
            if number is not None:
                content[name] = number
    if row.delay:
        amount = _whole(row.delay, f"{where}.delay", problems)
        if row.delay_unit not in DELAY_UNITS:
            problems.append(
                Problem(f"{where}.delay", f"unit must be one of {', '.join(DELAY_UNITS)}")
            )
        elif amount:
            content["delay"] = {row.delay_unit: amount}
    return content


def _whole(text: str, where: str, problems: list[Problem]) -> int | None:
    if not text:
        return None
    if not text.isdigit() or len(text) > 9:
        problems.append(Problem(where, "must be a whole number"))
        return None
    return int(text)


def share_of(
    text: str,
    problems: list[Problem],
    where: str = "value",
    *,
    low: float = 0.0,
    high: float = 100.0,
) -> float | None:
    """A percentage typed as "12.5" (or "12,5") as a share, 0.125."""
    if not text:
        return None
    try:
        value = float(text.replace(",", ".").removesuffix("%").strip())
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not low <= value <= high:
        problems.append(Problem(where, f"must be a percentage from {low:g} to {high:g}"))
        return None
    return value / 100


def with_problems(form: ExperimentForm, problems: Sequence[Problem]) -> ExperimentForm:
    """The form with each problem next to its field or variant row; the rest listed."""
    top: dict[str, str] = {}
    per_row: dict[int, dict[str, str]] = {}
    others = []
    top_fields = {f for f in ExperimentForm.__dataclass_fields__ if f not in ("variants", "errors")}
    for problem in problems:
        found = _VARIANT_PATH.match(problem.field)
        if found and int(found.group(1)) < len(form.variants):
            name = found.group(3) or found.group(2) or "row"
            if name in DELAY_UNITS:
                name = "delay"
            per_row.setdefault(int(found.group(1)), {}).setdefault(name, problem.message)
        elif problem.field in top_fields:
            top.setdefault(problem.field, problem.message)
        else:
            others.append(problem)
    rows = tuple(
        replace(row, errors=per_row.get(index, {})) for index, row in enumerate(form.variants)
    )
    return replace(form, variants=rows, errors=top, others=tuple(others))
