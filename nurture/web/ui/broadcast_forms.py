"""The broadcast form: posted text to the domain's `BroadcastInput`, a stored broadcast
back to text, and the domain's problems placed next to the inputs they name.

The form has one row per possible variant ("a" is the control, then "b" to "d"); a row
left empty is not a variant. A pasted list of e-mail addresses becomes contact ids here,
and addresses that are no contact are reported rather than dropped silently.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.broadcasts.definition import BroadcastInput, VariantInput
from nurture.errors import Problem
from nurture.models import Broadcast, Contact, Experiment, ExperimentVariant
from nurture.sqlsets import among

VARIANT_KEYS = ("a", "b", "c", "d")
VARIANT_FIELDS = ("name", "subject", "preheader", "from_name", "template_id")
WHEN = ("now", "at", "local")
_SPLIT = re.compile(r"[\s,;]+")
_VARIANT_PROBLEM = re.compile(r"^variants\[(\d+)\](?:\.(\w+))?$")
MAX_UNKNOWN_SHOWN = 10
INPUTS = frozenset(
    {
        "name",
        "template_id",
        "segment_id",
        "emails",
        "send_at",
        "send_day",
        "local_time",
        "cap_policy",
        "quiet_start",
        "quiet_end",
        "test_percent",
        "test_hours",
        "metric",
        "default_variant",
        "variants",
        *(f"v-{key}-{name}" for key in VARIANT_KEYS for name in VARIANT_FIELDS),
    }
)


@dataclass(frozen=True, slots=True)
class BroadcastForm:
    """The form as shown: every value as text, and the error next to each input."""

    name: str = ""
    template_id: str = ""
    audience: str = "segment"  # or "list"
    segment_id: str = ""
    emails: str = ""
    when: str = "now"
    send_at: str = ""  # datetime-local, UTC
    send_day: str = ""  # date, UTC, for a local time
    local_time: str = "09:00"
    cap_policy: str = "respect"
    quiet_start: str = ""
    quiet_end: str = ""
    test: bool = False
    test_percent: str = "20"
    test_hours: str = "4"
    metric: str = "opens"
    default_variant: str = "a"
    variants: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    accept_small_test: bool = False
    errors: Mapping[str, str] = field(default_factory=dict)
    # The small-test warning, shown with the box that overrides it.
    small_test: str | None = None

    def value(self, key: str, name: str) -> str:
        return self.variants.get(key, {}).get(name, "")

    def error(self, name: str) -> str | None:
        return self.errors.get(name)

    def unplaced(self) -> list[tuple[str, str]]:
        """Problems no input of the form shows (the alert lists them)."""
        return [(name, message) for name, message in self.errors.items() if name not in INPUTS]


def _clean(data: Mapping[str, str], name: str) -> str:
    return data.get(name, "").strip()


def read(data: Mapping[str, str]) -> BroadcastForm:
    """The posted form as text, nothing checked yet."""
    variants = {
        key: {name: _clean(data, f"v-{key}-{name}") for name in VARIANT_FIELDS}
        for key in VARIANT_KEYS
    }
    when = _clean(data, "when")
    return BroadcastForm(
        name=_clean(data, "name"),
        template_id=_clean(data, "template_id"),
        audience="list" if data.get("audience") == "list" else "segment",
        segment_id=_clean(data, "segment_id"),
        emails=data.get("emails", "").strip(),
        when=when if when in WHEN else "now",
        send_at=_clean(data, "send_at"),
        send_day=_clean(data, "send_day"),
        local_time=_clean(data, "local_time"),
        cap_policy=_clean(data, "cap_policy") or "respect",
        quiet_start=_clean(data, "quiet_start"),
        quiet_end=_clean(data, "quiet_end"),
        test=data.get("test") == "on",
        test_percent=_clean(data, "test_percent"),
        test_hours=_clean(data, "test_hours"),
        metric=_clean(data, "metric") or "opens",
        default_variant=_clean(data, "default_variant") or "a",
        variants=variants,
        accept_small_test=data.get("accept_small_test") == "on",
    )


def _chosen_variants(form: BroadcastForm) -> list[str]:
    """The control and every other row with something filled in."""
    return [
        key
        for key in VARIANT_KEYS
        if key == "a" or any(form.value(key, name) for name in VARIANT_FIELDS if name != "name")
    ]


def _number(text: str, field_name: str, problems: list[Problem], kind: type) -> int | float | None:
    if not text:
        return None
    try:
        return int(text) if kind is int else float(text)
    except ValueError:
        problems.append(Problem(field_name, "must be a number"))
        return None


def _id(text: str, field_name: str, problems: list[Problem]) -> int | None:
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        problems.append(Problem(field_name, "choose one from the list"))
        return None
    return int(text)


def _moment(form: BroadcastForm, problems: list[Problem]) -> datetime | None:
    if form.when == "at":
        if not form.send_at:
            problems.append(Problem("send_at", "give the date and time"))
            return None
        try:
            return datetime.fromisoformat(form.send_at).replace(tzinfo=UTC)
        except ValueError:
            problems.append(Problem("send_at", "must be a date and time"))
            return None
    if form.when == "local" and form.send_day:
        try:
            day = date.fromisoformat(form.send_day)
        except ValueError:
            problems.append(Problem("send_day", "must be a date"))
            return None
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    return None


def contacts_by_email(session: Session, text: str) -> tuple[list[int], list[str]]:
    """Contact ids for the pasted addresses, and the addresses that are no contact."""
    wanted = list(dict.fromkeys(a.lower() for a in _SPLIT.split(text) if a))
    if not wanted:
        return [], []
    rows = session.execute(
        select(Contact.id, func.lower(Contact.email)).where(
            among(session, func.lower(Contact.email), wanted)
        )
    ).all()
    found = {email: contact_id for contact_id, email in rows}
    return [found[a] for a in wanted if a in found], [a for a in wanted if a not in found]


def posted(
    session: Session, data: Mapping[str, str]
) -> tuple[BroadcastForm, BroadcastInput | None, list[Problem]]:
    """The form as posted, the broadcast it describes, and what is wrong with the text
    itself (the domain checks the rest)."""
    form = read(data)
    problems: list[Problem] = []
    template_id = _id(form.template_id, "template_id", problems)
    segment_id = contact_ids = None
    if form.audience == "segment":
        segment_id = _id(form.segment_id, "segment_id", problems)
        if segment_id is None and not problems:
            problems.append(Problem("segment_id", "choose a segment"))
    else:
        contact_ids, unknown = contacts_by_email(session, form.emails)
        if unknown:
            shown = ", ".join(unknown[:MAX_UNKNOWN_SHOWN])
            more = len(unknown) - MAX_UNKNOWN_SHOWN
            tail = f" and {more} more" if more > 0 else ""
            problems.append(Problem("emails", f"not contacts: {shown}{tail}"))
    send_at = _moment(form, problems)
    quiet = None
    if form.quiet_start or form.quiet_end:
        quiet = {"start": form.quiet_start, "end": form.quiet_end}
    variants: list[VariantInput] = []
    percent = hours = None
    if form.test:
        percent = _number(form.test_percent, "test_percent", problems, int)
        hours = _number(form.test_hours, "test_hours", problems, float)
        for key in _chosen_variants(form):
            variant_template = _id(form.value(key, "template_id"), f"v-{key}-template_id", problems)
            variants.append(
                VariantInput(
                    key=key,
                    name=form.value(key, "name"),
                    template_id=variant_template,
                    subject=form.value(key, "subject") or None,
                    preheader=form.value(key, "preheader") or None,
                    from_name=form.value(key, "from_name") or None,
                )
            )
    if problems:
        return form, None, problems
    definition = BroadcastInput(
        name=form.name,
        template_id=template_id,
        segment_id=segment_id,
        contact_ids=contact_ids,
        send_at=send_at,
        local_time=form.local_time if form.when == "local" else None,
        cap_policy=form.cap_policy,
        quiet_hours=quiet,
        test_percent=None if percent is None else int(percent),
        test_hours=None if hours is None else float(hours),
        metric=form.metric,
        default_variant=form.default_variant,
        variants=tuple(variants),
        accept_small_test=form.accept_small_test,
    )
    return form, definition, []


def with_problems(
    form: BroadcastForm, problems: Sequence[Problem], *, small_test: str | None = None
) -> BroadcastForm:
    """The form with each problem placed at the input it names."""
    keys = _chosen_variants(form) if form.test else []
    errors: dict[str, str] = {}
    for problem in problems:
        errors.setdefault(_input_of(problem.field, keys, form), problem.message)
    return replace(form, errors=errors, small_test=small_test)


def _input_of(name: str, keys: Sequence[str], form: BroadcastForm) -> str:
    found = _VARIANT_PROBLEM.match(name)
    if found:
        index, part = int(found.group(1)), found.group(2)
        key = keys[index] if index < len(keys) else "a"
        return f"v-{key}-{part or 'subject'}" if part != "key" else f"v-{key}-name"
    if name == "contact_ids":
        return "emails"
    if name == "send_at" and form.when == "local":
        return "send_day"
    if name.startswith("quiet_hours"):
        return "quiet_end" if name.endswith("end") else "quiet_start"
    return name


def form_of(
    session: Session,
    broadcast: Broadcast,
    experiment: Experiment | None,
    variants: Sequence[ExperimentVariant],
) -> BroadcastForm:
    """A stored broadcast as the form shows it for editing."""
    emails = ""
    raw = (broadcast.contact_ids or {}).get("ids", [])
    if broadcast.contact_ids is not None:
        ids = [int(i) for i in raw]
        rows = session.scalars(
            select(Contact.email)
            .where(among(session, Contact.id, ids, integers=True))
            .order_by(Contact.id)
        )
        emails = "\n".join(e for e in rows if e)
    when = "local" if broadcast.local_time else ("at" if broadcast.send_at else "now")
    send_at = broadcast.send_at
    quiet = broadcast.quiet_hours or {}
    return BroadcastForm(
        name=broadcast.name,
        template_id=str(broadcast.template_id or ""),
        audience="list" if broadcast.contact_ids is not None else "segment",
        segment_id=str(broadcast.segment_id or ""),
        emails=emails,
        when=when,
        send_at=send_at.strftime("%Y-%m-%dT%H:%M") if send_at and when == "at" else "",
        send_day=send_at.strftime("%Y-%m-%d") if send_at and when == "local" else "",
        local_time=broadcast.local_time or "09:00",
        cap_policy=broadcast.cap_policy,
        quiet_start=str(quiet.get("start", "")),
        quiet_end=str(quiet.get("end", "")),
        test=broadcast.test_percent is not None,
        test_percent=str(broadcast.test_percent or 20),
        test_hours=_hours_text(broadcast.test_hours),
        metric=experiment.metric if experiment is not None else "opens",
        default_variant=experiment.default_variant if experiment is not None else "a",
        variants={
            v.key: {
                "name": v.name,
                **{k: str(v.content.get(k) or "") for k in VARIANT_FIELDS if k != "name"},
            }
            for v in variants
        },
    )


def _hours_text(hours: float | None) -> str:
    if hours is None:
        return "4"
    return str(int(hours)) if float(hours).is_integer() else str(hours)
