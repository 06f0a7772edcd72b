"""What the sequence pages show, shaped from plain values that campaigns.sequences answers:
the step outline with its labels, the funnel rows and chart data, the builder's catalogue
and the enrolment report in words. No session here: the reads live in campaigns/sequences."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from campaigns.sequences import definition
from campaigns.sequences.catalogue import Choices, SampleContact
from campaigns.sequences.enrol_lists import ListEnrolment
from campaigns.sequences.funnel import Funnel, StepCounts
from nurture.models import TaskOutcome
from segments.catalogue import COMMON_EVENTS

TYPE_LABELS = {
    "email": "E-mail",
    "case_study": "Case study e-mail",
    "webinar_invite": "Webinar invitation",
    "review_email": "Review e-mail",
    "task": "Task for a rep",
    "wait": "Wait",
    "branch": "Branch",
    "split": "Split (A/B)",
    "goal": "Goal",
    "exit": "Exit",
}
TASK_LABELS = {
    "linkedin_connect": "LinkedIn: connect",
    "linkedin_message": "LinkedIn: message",
    "call": "Call",
    "meeting": "Meeting",
}
# What a review e-mail asks for: the choice's label, how a summary says it, and the
# starter template made for it (proposed when the step is added or its ask changes).
REVIEW_ASKS = {
    "nps": ("NPS score", "an NPS score", "nps"),
    "feedback": ("Feedback", "feedback", "feedback_request"),
    "testimonial": ("Testimonial", "a testimonial", "testimonial_request"),
    "referral": ("Referral", "a referral", "referral"),
}
ASSIGNEES = {
    "owner": "The contact's owner",
    "account_manager": "The project's account manager",
}
NPS_CATEGORIES = {
    "promoter": "Promoter (9-10)",
    "passive": "Passive (7-8)",
    "detractor": "Detractor (0-6)",
}
# Events in words, as in "the contact answered the NPS survey"; others show their type.
EVENT_LABELS = {
    "email.opened": "opened an e-mail",
    "email.clicked": "clicked a link in an e-mail",
    "page.visited": "visited a page",
    "form.submitted": "submitted a form",
    "webinar.registered": "registered for a webinar",
    "webinar.attended": "attended a webinar",
    "meeting.booked": "booked a meeting",
    "deal.won": "won a deal",
    "project.completed": "finished a project",
    "nps.sent": "was sent the NPS survey",
    "nps.answered": "answered the NPS survey",
    "nps.commented": "commented on the NPS survey",
    "testimonial.requested": "was asked for a testimonial",
    "testimonial.approved": "approved a testimonial",
    "testimonial.withdrawn": "withdrew a testimonial",
    "referral.invited": "was invited to refer someone",
    "referral.submitted": "came through a referral",
    "task.escalated": "had an overdue task escalated",
}
SKIP_REASONS = {
    "missing": "no such contact",
    "erased": "skipped, erased",
    "suppressed": "skipped, unsubscribed or suppressed",
    "customer": "skipped, already a customer",
    "enrolled": "skipped, already in this sequence",
    "enrolled_before": "skipped, was in this sequence before (no re-enrolment)",
    "same_goal": "skipped, already in a live sequence of the same goal group",
    "unknown_email": "no contact has this address",
    "invalid_email": "not an e-mail address",
}


@dataclass(frozen=True, slots=True)
class OutlineRow:
    """One step as listed on the sequence page: indented under the arm that holds it."""

    key: str
    type: str
    path: str
    depth: int
    arm: str | None  # "Yes", "No", "Path A (50%)" for the first step of an arm
    label: str
    template_id: int | None = None


def outline(
    body: Mapping[str, Any],
    templates: Mapping[int, str],
    segments: Mapping[int, str] | None = None,
) -> list[OutlineRow]:
    """Every step of a definition in reading order (arms after their branch or split);
    `segments` names the segments branches ask about."""
    rows: list[OutlineRow] = []
    mails = mail_names(body, templates)

    def walk(steps: object, path: str, depth: int, arm: str | None) -> None:
        if not isinstance(steps, list):
            return
        for index, step in enumerate(steps):
            if not isinstance(step, Mapping):
                continue
            where = f"{path}[{index}]"
            kind = str(step.get("type", ""))
            label = step_label(step, templates, mails, segments)
            rows.append(
                OutlineRow(
                    str(step.get("key", "")),
                    kind,
                    where,
                    depth,
                    arm if index == 0 else None,
                    label,
                    template if isinstance(template := step.get("template_id"), int) else None,
                )
            )
            if kind == "branch":
                walk(step.get("then"), f"{where}.then", depth + 1, "Yes")
                walk(step.get("else"), f"{where}.else", depth + 1, "No")
            elif kind == "split" and isinstance(step.get("paths"), list):
                for number, split in enumerate(step["paths"]):
                    if isinstance(split, Mapping):
                        name = f"Path {chr(65 + number % 26)} ({split.get('percent', '?')}%)"
                        walk(split.get("steps"), f"{where}.paths[{number}].steps", depth + 1, name)

    walk(body.get("steps"), "steps", 0, None)
    return rows


def mail_names(body: Mapping[str, Any], templates: Mapping[int, str]) -> dict[str, str]:
    """Step key -> the name of the template its e-mail sends, for every mail step: a branch
    on "clicked in step intro" reads as clicked in “Welcome”."""
    names: dict[str, str] = {}

    def walk(steps: object) -> None:
        for step in steps if isinstance(steps, list) else []:
            if not isinstance(step, Mapping):
                continue
            if step.get("type") in definition.MAIL_STEPS and "template_id" in step:
                names[str(step.get("key"))] = _template(step, templates)
            walk(step.get("then"))
            walk(step.get("else"))
            paths = step.get("paths")
            for split in paths if isinstance(paths, list) else []:
                if isinstance(split, Mapping):
                    walk(split.get("steps"))

    walk(body.get("steps"))
    return names


def step_label(
    step: Mapping[str, Any],
    templates: Mapping[int, str],
    mails: Mapping[str, str] | None = None,
    segments: Mapping[int, str] | None = None,
) -> str:
    """A short human description of a step, like "Wait 4 days" or "E-mail: Welcome";
    `mails` (see mail_names) names the e-mails a branch asks about."""
    kind = str(step.get("type", ""))
    name = TYPE_LABELS.get(kind, kind)
    if kind == "review_email":
        return f"{name} asking for {_ask_phrase(step.get('ask'))}: {_template(step, templates)}"
    if "template_id" in step:
        return f"{name}: {_template(step, templates)}"
    if kind == "task":
        return _task_label(step)
    if kind == "wait":
        return _wait_label(step)
    if kind == "branch":
        return f"Branch: {_condition_label(step.get('condition'), mails or {}, segments or {})}"
    if kind == "split":
        paths = step.get("paths")
        shares = (
            [str(p.get("percent", "?")) for p in paths if isinstance(p, Mapping)]
            if isinstance(paths, list)
            else []
        )
        return f"Split {'/'.join(shares)}"
    return name


def _template(step: Mapping[str, Any], templates: Mapping[int, str]) -> str:
    if "template_id" not in step:
        return "no template chosen"
    chosen = step["template_id"]
    return (templates.get(chosen) if isinstance(chosen, int) else None) or f"template {chosen}"


def _ask_phrase(ask: object) -> str:
    found = REVIEW_ASKS.get(str(ask))
    return found[1] if found else f"“{ask}”"


def _task_label(step: Mapping[str, Any]) -> str:
    parts = [f"Task: {TASK_LABELS.get(str(step.get('kind')), step.get('kind'))}"]
    if step.get("assign_to") == "account_manager":
        parts.append("for the project's account manager")
    days = step.get("due_in_working_days")
    if isinstance(days, int) and not isinstance(days, bool):
        parts.append(f"due in {days} working day{'' if days == 1 else 's'}")
    if step.get("escalate") is True:
        parts.append("team lead alerted when overdue")
    return ", ".join(parts)


def _event_words(event: object) -> str:
    return EVENT_LABELS.get(str(event), f"had a {event} event")


def _duration(raw: object) -> str:
    if not isinstance(raw, Mapping):
        return "?"
    parts = [f"{value} {unit if value != 1 else unit[:-1]}" for unit, value in raw.items() if value]
    return " ".join(parts) or "0 minutes"


def _wait_label(step: Mapping[str, Any]) -> str:
    if "duration" in step:
        return f"Wait {_duration(step['duration'])}"
    if isinstance(step.get("until"), Mapping):
        until = step["until"]
        return f"Wait until {str(until.get('weekday', '')).capitalize()} {until.get('time', '')}"
    if "event" in step:
        counted = ", counting from enrolment" if step.get("since") == "enrolment" else ""
        timeout = _duration(step.get("timeout"))
        return f"Wait until the contact {_event_words(step['event'])}{counted} (at most {timeout})"
    return "Wait"


# What a contact did with a step's e-mail, as a branch asks it.
MAIL_EVENT_WORDS = {"email.opened": "opened", "email.clicked": "clicked"}


def _condition_label(
    condition: object, mails: Mapping[str, str], segments: Mapping[int, str]
) -> str:
    """A branch condition in words: one test, or an any/all group joined by "or"/"and"
    ("opened or clicked “Guide”" when both tests ask about one e-mail)."""
    if not isinstance(condition, Mapping):
        return "?"
    for group, joint in (("any", "or"), ("all", "and")):
        tests = condition.get(group)
        if group in condition:
            if not isinstance(tests, list) or not tests:
                return "?"
            same = _one_mail(tests)
            if same is not None and group == "any":
                verbs = [MAIL_EVENT_WORDS[str(t["event"])] for t in tests]
                return f"{_joined(verbs, joint)} {_mail(same, mails)}"
            return _joined([_condition_label(test, mails, segments) for test in tests], joint)
    if "segment_id" in condition:
        chosen = condition["segment_id"]
        name = segments.get(chosen) if isinstance(chosen, int) else None
        return f"in segment “{name}”" if name else f"in segment {chosen}"
    if "task_outcome" in condition:
        outcomes = condition.get("task_outcome")
        listed = (
            _either([str(o).replace("_", " ") for o in outcomes])
            if isinstance(outcomes, list)
            else "?"
        )
        return f"the task “{condition.get('step')}” ended {listed}"
    event = condition.get("event", "?")
    where = condition.get("where")
    if event == "nps.answered" and isinstance(where, Mapping) and set(where) == {"category"}:
        return f"answered the NPS survey as {_categories(where['category'])}"
    if "step" in condition:
        verb = MAIL_EVENT_WORDS.get(str(event))
        said = (
            f"{verb} {_mail(condition['step'], mails)}"
            if verb
            else f"{_event_words(event)} after {_mail(condition['step'], mails)}"
        )
    else:
        said = _event_words(event)
    if isinstance(where, Mapping) and where:
        said += " where " + ", ".join(f"{k} is {_either(v)}" for k, v in where.items())
    return said


def _one_mail(tests: list[Any]) -> str | None:
    """The step key when every test asks whether that one e-mail was opened or clicked."""
    keys = set()
    for test in tests:
        if not (
            isinstance(test, Mapping)
            and set(test) == {"event", "step"}
            and test["event"] in MAIL_EVENT_WORDS
        ):
            return None
        keys.add(str(test["step"]))
    return keys.pop() if len(keys) == 1 else None


def _mail(key: object, mails: Mapping[str, str]) -> str:
    name = mails.get(str(key))
    return f"“{name}”" if name else f"the e-mail of step “{key}”"


def _joined(items: list[str], joint: str) -> str:
    """`a`, `a or b`, `a, b or c` (or "and")."""
    if len(items) < 2:
        return "".join(items) or "?"
    return f"{', '.join(items[:-1])} {joint} {items[-1]}"


def _categories(raw: object) -> str:
    chosen = raw if isinstance(raw, list) else [raw]
    return _either([str(c) for c in chosen]) if chosen else "?"


def _word(value: object) -> str:
    """A property value as the marketer typed it: JSON's true and false, not Python's."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _either(value: object) -> str:
    """`a`, `a or b`, `a, b or c`."""
    items = [_word(v) for v in (value if isinstance(value, list) else [value])]
    if len(items) < 2:
        return "".join(items) or "?"
    return f"{', '.join(items[:-1])} or {items[-1]}"


@dataclass(frozen=True, slots=True)
class FunnelRow:
    row: OutlineRow
    counts: StepCounts


def funnel_rows(rows: Sequence[OutlineRow], result: Funnel) -> list[FunnelRow]:
    """The outline with counts, then steps that only earlier versions had (people may be there)."""
    listed = [FunnelRow(row, result.step(row.key)) for row in rows]
    known = {row.key for row in rows}
    for key in sorted(set(result.steps) - known):
        old = OutlineRow(key, "", "", 0, None, f"{key} (earlier version)")
        listed.append(FunnelRow(old, result.step(key)))
    return listed


def chart_data(rows: Sequence[FunnelRow]) -> dict[str, list[Any]]:
    """Per step: reached, there now and went on to a goal, for Chart.js."""
    return {
        "labels": [f"{'· ' * r.row.depth}{r.row.label}" for r in rows],
        "reached": [r.counts.reached for r in rows],
        "waiting": [r.counts.waiting for r in rows],
        "converted": [r.counts.converted for r in rows],
    }


def contact_choices(contacts: Sequence[SampleContact]) -> list[dict[str, Any]]:
    """Sample contacts as the preview's picker lists them: "Ada Lovelace <ada@example.com>"."""
    return [
        {"id": c.id, "label": " ".join(filter(None, [c.first_name, c.last_name])) + f" <{c.email}>"}
        for c in contacts
    ]


def catalogue(offered: Choices) -> dict[str, Any]:
    """Everything the builder offers: step types, templates, segments, services, choices."""
    return {
        "step_types": [
            {"type": kind, "label": TYPE_LABELS.get(kind, kind)} for kind in definition.STEP_TYPES
        ],
        "mail_steps": list(definition.MAIL_STEPS),
        "task_kinds": [{"value": k, "label": TASK_LABELS.get(k, k)} for k in definition.TASK_KINDS],
        "weekdays": list(definition.WEEKDAYS),
        "outcomes": [o.value for o in TaskOutcome],
        "reenrol": list(definition.REENROL_POLICIES),
        "event_types": list(COMMON_EVENTS),
        "templates": [
            {"id": t.key, "name": t.name, "starter": t.starter} for t in offered.templates
        ],
        "review_asks": [_ask_choice(ask) for ask in definition.REVIEW_ASKS],
        "assignees": [
            {"value": k, "label": ASSIGNEES.get(k, k)} for k in definition.TASK_ASSIGNEES
        ],
        "nps_categories": [{"value": k, "label": v} for k, v in NPS_CATEGORIES.items()],
        "event_labels": EVENT_LABELS,
        "segments": [{"id": s.key, "name": s.name} for s in offered.segments],
        "services": [{"slug": s.key, "name": s.name} for s in offered.services],
        "contacts": contact_choices(offered.contacts),
    }


def _ask_choice(ask: str) -> dict[str, str | None]:
    label, phrase, starter = REVIEW_ASKS.get(ask, (ask, ask, None))
    return {"value": ask, "label": label, "phrase": phrase, "starter": starter}


@dataclass(frozen=True, slots=True)
class EnrolReport:
    enrolled: list[str]
    skipped: list[tuple[str, str]]  # (who, why) in words


def enrol_report(result: ListEnrolment, emails: Mapping[int, str | None]) -> EnrolReport:
    """Who joined (by address, from `emails`) and who was skipped, with the reason in words."""
    skipped = []
    for skip in result.skipped:
        who = skip.email or f"contact {skip.contact_id}"
        code = skip.reason.partition(":")[0]
        skipped.append((who, SKIP_REASONS.get(code, f"skipped, {skip.reason}")))
    return EnrolReport([emails.get(cid) or f"contact {cid}" for cid in result.enrolled], skipped)
