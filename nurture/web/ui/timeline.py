"""How events look on a contact's timeline: an icon, a label and a short summary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nurture.models import Event
from nurture.web.ui.formatting import humanise
from nurture.web.ui.timeline_names import NONE, ObjectNames

# Type group (the part before the first dot) -> (icon, colour tone).
GROUP_STYLE = {
    "email": ("mail", "blue"),
    "page": ("globe", "teal"),
    "form": ("form", "violet"),
    "webinar": ("video", "amber"),
    "task": ("check", "green"),
    "nps": ("star", "amber"),
    "review": ("star", "amber"),
    "testimonial": ("star", "amber"),
    "project": ("briefcase", "slate"),
    "deal": ("briefcase", "green"),
    "referral": ("contacts", "violet"),
    "lead": ("flag", "rose"),
    "score": ("flag", "rose"),
    "handoff": ("inbox", "rose"),
    "sequence": ("sequences", "blue"),
    "contact": ("contacts", "slate"),
}
# Event types whose look differs from their group's: trouble stands out.
TYPE_STYLE = {
    "email.failed": ("mail", "rose"),
    "email.bounced": ("mail", "rose"),
}
LABELS = {
    "email.failed": "E-mail not sent",
    "email.bounced": "E-mail bounced",
}
# Property keys shown under another word.
KEY_WORDS = {"error": "Reason"}
# Properties most worth a glance, shown first when present.
PREFERRED_KEYS = (
    "error", "subject", "title", "name", "url", "path", "score", "comment", "form", "webinar",
    "project", "step", "reason", "value", "amount",
)  # fmt: skip
MAX_PROPERTIES = 3
MAX_VALUE_LENGTH = 80


@dataclass(frozen=True, slots=True)
class Detail:
    """One property as the timeline shows it; `href` leads to the object it names."""

    key: str
    value: str
    href: str | None = None


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    id: int
    type: str
    label: str
    icon: str
    tone: str
    occurred_at: datetime
    source: str
    details: list[Detail]


def type_group(event_type: str) -> str:
    return event_type.split(".", 1)[0]


def label(event_type: str) -> str:
    """'email.link_clicked' -> 'Email link clicked'."""
    return LABELS.get(event_type) or humanise(event_type)


def summarise(properties: dict[str, Any], names: ObjectNames = NONE) -> list[Detail]:
    """Up to three properties, the telling keys first, values shortened; a property that
    names an object (a segment, a template...) shows its name and links to it."""
    keys = [k for k in PREFERRED_KEYS if k in properties]
    keys += sorted(k for k in properties if k not in keys)
    pairs = []
    for key in keys[:MAX_PROPERTIES]:
        named = names.name(key, properties[key])
        if named is not None:
            pairs.append(Detail(named.label, _short(named.name), named.href))
        else:
            pairs.append(Detail(KEY_WORDS.get(key) or humanise(key), _short(properties[key])))
    hidden = len(properties) - len(pairs)
    if hidden > 0:
        pairs.append(Detail("", f"+{hidden} more"))
    return pairs


def entry(event: Event, names: ObjectNames = NONE) -> TimelineEntry:
    """How `event` looks; `names` (see timeline_names.object_names) turns ids into names."""
    style = TYPE_STYLE.get(event.type) or GROUP_STYLE.get(type_group(event.type))
    icon, tone = style or ("dot", "slate")
    return TimelineEntry(
        id=event.id,
        type=event.type,
        label=label(event.type),
        icon=icon,
        tone=tone,
        occurred_at=event.occurred_at,
        source=event.source,
        details=summarise(event.properties or {}, names),
    )


def _short(value: object) -> str:
    if isinstance(value, dict):
        text = f"{len(value)} fields"
    elif isinstance(value, list):
        text = ", ".join(str(v) for v in value[:5]) + ("…" if len(value) > 5 else "")
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    else:
        text = str(value)
    return text if len(text) <= MAX_VALUE_LENGTH else text[: MAX_VALUE_LENGTH - 1] + "…"
