"""The step graph of a sequence: its JSON format, validation and the compiled flow.

A definition is a JSON object:

    {"steps": [...], "goals": [...], "send_window": {...}, "quiet_hours": {...},
     "triggers": [...], "reenrol": "never" | "after_finish", "exclude_customers": true}

Steps run in list order; `branch` and `split` hold nested lists and, when a
nested list ends, the flow continues after the step that holds it. Every step
has a `key` that is unique in the definition and stable across versions.
Problems name the step path, like `steps[2].then[0].template_id`.

A draft is stored with problems (someone building a long sequence saves half-done
work); `draft_shape.check_draft` only refuses what no draft may be: not an object, no steps
list, too large, or containers of the wrong kind (the builder draws the flow from
these, so a string where it walks a list would break the page for good).
`problems` lists the rest; activation and publishing refuse them (`parse_checked`).

Content steps send one e-mail like `email` does, with content picked per contact
(see content_steps): `{"type": "case_study", "template_id": N, "service": "slug",
"topics": [...]}` (service and topics optional, they restrict the candidates) and
`{"type": "webinar_invite", "template_id": N, "topics": [...]}` (topics optional) and
`{"type": "review_email", "ask": "nps" | "feedback" | "testimonial" | "referral",
"template_id": N}`, whose content kind another floor registers (docs/reviews.md).

Beyond the basics: an event wait may say `"since": "enrolment"`; a branch on an event
may carry `"where": {property: value or [values]}` (the latest such event must match);
a task step may say `assign_to`, `due_in_working_days` (instead of `due_in_hours`) and
`escalate`. A branch condition is one test or a group of them, like a segment rule's:
`{"any": [{"event": "email.opened", "step": "s1"}, {"event": "email.clicked", "step":
"s1"}]}` holds when one test does, `{"all": [...]}` when every one does; groups nest.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.email.needs import TemplateNeeds, shortfall, templates_needs
from campaigns.sequences import content_steps
from campaigns.sequences import triggers as entry
from nurture.errors import InvalidInput, Problem
from nurture.models import EmailTemplate, Service, TaskOutcome
from nurture.validation import (
    ATTRIBUTE_KEY_RULE,
    MAX_ID,
    is_attribute_key,
    is_event_type,
    is_id,
)
from templates.requirements import givers

STEP_TYPES = (
    "email",
    "case_study",
    "webinar_invite",
    "review_email",
    "task",
    "wait",
    "branch",
    "split",
    "goal",
    "exit",
)
# Step types that send one e-mail from a template (branches may test what it led to).
MAIL_STEPS = ("email", "case_study", "webinar_invite", "review_email")
# What a review e-mail asks for; the content comes from the kind registered under
# `review_email:<ask>` (content_steps.register).
REVIEW_ASKS = ("nps", "feedback", "testimonial", "referral")
TASK_KINDS = ("linkedin_connect", "linkedin_message", "call", "meeting")
# Who a task goes to: the contact's owner (or the next rep in turn) unless a resolver
# registered under another name (tasks.register_assignee) answers someone.
TASK_ASSIGNEES = ("owner", "account_manager")
MAX_WORKING_DAYS = 30
MAX_WHERE_PROPERTIES = 10
MAX_WHERE_VALUES = 50
# A branch condition groups tests like a segment rule: any (or) / all (and), nested.
CONDITION_GROUPS = ("any", "all")
MAX_CONDITION_DEPTH = 3
MAX_CONDITION_TESTS = 10
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
REENROL_POLICIES = ("never", "after_finish")
TERMINAL = frozenset({"goal", "exit"})
MAX_FILTER_TOPICS = 30
MAX_STEPS = 200
MAX_INSTRUCTIONS = 5000
_KEY = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}\Z")
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")
_CLOCK = re.compile(r"([01]\d|2[0-3]):([0-5]\d)\Z")
_DURATION_UNITS = ("days", "hours", "minutes")
_FIELDS: dict[str, frozenset[str]] = {
    "email": frozenset({"template_id"}),
    "case_study": frozenset({"template_id", "service", "topics"}),
    "webinar_invite": frozenset({"template_id", "topics"}),
    "review_email": frozenset({"template_id", "ask"}),
    "task": frozenset(
        {"kind", "instructions", "due_in_hours", "due_in_working_days", "assign_to", "escalate"}
    ),
    "wait": frozenset({"duration", "until", "event", "timeout", "since"}),
    "branch": frozenset({"condition", "then", "else"}),
    "split": frozenset({"paths"}),
    "goal": frozenset(),
    "exit": frozenset(),
}
_TOP_FIELDS = frozenset(
    {"steps", "goals", "send_window", "quiet_hours", "triggers", "reenrol", "exclude_customers"}
) | {"goal_group"}


@dataclass(frozen=True, slots=True)
class Step:
    key: str
    type: str
    path: str
    spec: Mapping[str, Any]
    # First step key of each arm: "then"/"else" for a branch, "0", "1"... for a split.
    arms: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Window:
    """Local clock hours (and days, 0 = Monday) in which e-mail may go out."""

    start: time
    end: time
    days: frozenset[int] = frozenset(range(7))


@dataclass(frozen=True, slots=True)
class Flow:
    """A validated definition: steps by key and where each one leads."""

    steps: dict[str, Step]
    first: str | None
    # The step after `key` when it finishes without choosing an arm (None: the end).
    following: dict[str, str | None]
    goals: tuple[Mapping[str, Any], ...]
    send_window: Window | None
    quiet_hours: Window | None
    triggers: tuple[Mapping[str, Any], ...]
    reenrol: str
    exclude_customers: bool
    # At most one live sequence per contact and goal group (see triggers.parse_goal_group).
    goal_group: str | None = None

    def next_key(self, key: str, arm: str | None = None) -> str | None:
        """Where the flow goes after step `key`, taking `arm` for a branch or split."""
        if arm is not None:
            return self.steps[key].arms[arm]
        return self.following[key]

    def template_ids(self) -> set[int]:
        return {int(s.spec["template_id"]) for s in self.steps.values() if s.type in MAIL_STEPS}

    def service_slugs(self) -> set[str]:
        """Services that case study steps are limited to."""
        return {
            str(s.spec["service"])
            for s in self.steps.values()
            if s.type == "case_study" and "service" in s.spec
        }


def parse(definition: object) -> Flow:
    """Validate a definition; raises InvalidInput listing every problem found."""
    problems: list[Problem] = []
    if not isinstance(definition, Mapping):
        raise InvalidInput.single("definition", "must be an object")
    for name in sorted(str(k) for k in definition if k not in _TOP_FIELDS):
        problems.append(Problem(name, "is not a known field"))
    builder = _Builder(problems)
    raw_steps = definition.get("steps")
    first = builder.sequence(raw_steps, "steps", None)
    if isinstance(raw_steps, list) and not raw_steps:
        problems.append(Problem("steps", "must hold at least one step"))
    builder.check_references()
    flow = Flow(
        steps=builder.steps,
        first=first,
        following=builder.following,
        goals=tuple(_goals(definition.get("goals", []), problems)),
        send_window=_window(definition.get("send_window"), "send_window", problems, days=True),
        quiet_hours=_window(definition.get("quiet_hours"), "quiet_hours", problems, days=False),
        triggers=tuple(_triggers(definition.get("triggers", []), problems)),
        reenrol=_choice(definition.get("reenrol", "never"), "reenrol", REENROL_POLICIES, problems),
        exclude_customers=_flag(definition.get("exclude_customers", True), problems),
        goal_group=entry.parse_goal_group(definition.get("goal_group"), problems),
    )
    if problems:
        raise InvalidInput(problems)
    return flow


def template_problems(session: Session, flow: Flow) -> list[Problem]:
    """Mail steps naming a template that does not exist, or one that needs more than the
    step gives (templates.requirements): the missing names, in plain words."""
    wanted = flow.template_ids()
    if not wanted:
        return []
    found = set(session.scalars(select(EmailTemplate.id).where(EmailTemplate.id.in_(wanted))))
    needs = templates_needs(session, found)
    problems: list[Problem] = []
    for step in flow.steps.values():
        if step.type not in MAIL_STEPS:
            continue
        template_id = int(step.spec["template_id"])
        where = f"{step.path}.template_id"
        if template_id not in found:
            problems.append(Problem(where, f"no such template ({template_id})"))
            continue
        sender = content_steps.step_sender(step.type, step.spec)
        template = needs.get(template_id)
        if sender is None or template is None:
            # A kind this process does not know fails at its step (REVIEWS_MISSING).
            continue
        short = shortfall(template, sender.gives, sender.label, alternatives=_instead(template))
        if short is not None:
            problems.append(Problem(where, short))
    return problems


def _instead(template: TemplateNeeds) -> str:
    """Which kinds of step give what `template` needs, as advice."""
    fitting = [s.label for s in givers(template.needs) if content_steps.is_step_sender(s)]
    if not fitting:
        return "No kind of step gives that yet: choose another template."
    return f"Use {' or '.join(fitting)}, or another template."


def service_problems(session: Session, flow: Flow) -> list[Problem]:
    """Case study steps limited to a service that does not exist."""
    wanted = flow.service_slugs()
    if not wanted:
        return []
    found = set(session.scalars(select(Service.slug).where(Service.slug.in_(sorted(wanted)))))
    return [
        Problem(f"{step.path}.service", f"no such service ({step.spec['service']})")
        for step in flow.steps.values()
        if step.type == "case_study"
        and "service" in step.spec
        and step.spec["service"] not in found
    ]


def parse_checked(session: Session, definition: object) -> Flow:
    """`parse`, then check the templates (and services) it names exist."""
    flow = parse(definition)
    problems = template_problems(session, flow) + service_problems(session, flow)
    if problems:
        raise InvalidInput(problems)
    return flow


def problems(session: Session, definition: object) -> list[Problem]:
    """What `parse_checked` would refuse, without raising ([] when the definition is valid)."""
    try:
        parse_checked(session, definition)
    except InvalidInput as exc:
        return exc.problems
    return []


class _Builder:
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        self.steps: dict[str, Step] = {}
        self.following: dict[str, str | None] = {}
        self.references: list[tuple[str, str, tuple[str, ...]]] = []

    def problem(self, where: str, message: str) -> None:
        self.problems.append(Problem(where, message))

    def sequence(self, raw: object, path: str, after: str | None) -> str | None:
        """Add a list of steps that continues at `after`; answers its first key."""
        if not isinstance(raw, list):
            self.problem(path, "must be a list of steps")
            return None
        keys: list[str | None] = []
        for index, item in enumerate(raw):
            where = f"{path}[{index}]"
            if keys and keys[-1] is not None and self.steps[keys[-1]].type in TERMINAL:
                self.problem(where, "is unreachable: it follows a goal or exit step")
            keys.append(self.step(item, where))
        # Link each step to the next one in its list; the last leads to `after`.
        for index, key in enumerate(keys):
            if key is None:
                continue
            later = next((k for k in keys[index + 1 :] if k is not None), after)
            self.following[key] = None if self.steps[key].type in TERMINAL else later
        for index, key in enumerate(keys):
            if key is not None:
                self.arms(self.steps[key], raw[index])
        return next((k for k in keys if k is not None), after)

    def step(self, raw: object, where: str) -> str | None:
        if len(self.steps) >= MAX_STEPS:
            self.problem(where, f"a sequence holds at most {MAX_STEPS} steps")
            return None
        if not isinstance(raw, Mapping):
            self.problem(where, "must be an object")
            return None
        kind = raw.get("type")
        if kind not in STEP_TYPES:
            self.problem(f"{where}.type", f"must be one of {', '.join(STEP_TYPES)}")
            return None
        key = raw.get("key")
        if not isinstance(key, str) or not _KEY.match(key):
            self.problem(f"{where}.key", "must be 1-40 of a-z, 0-9, '_' or '-'")
            return None
        if key in self.steps:
            self.problem(f"{where}.key", f"{key!r} is already used by {self.steps[key].path}")
            return None
        for name in sorted(str(k) for k in raw if k not in _FIELDS[kind] | {"key", "type"}):
            self.problem(f"{where}.{name}", f"is not a field of a {kind} step")
        check: Callable[[Mapping[str, Any], str], None] = getattr(self, f"check_{kind}")
        check(raw, where)
        self.steps[key] = Step(key, kind, where, dict(raw))
        return key

    def arms(self, step: Step, raw: Mapping[str, Any]) -> None:
        after = self.following.get(step.key)
        if step.type == "branch":
            for arm in ("then", "else"):
                if isinstance(raw.get(arm), list) and not raw[arm]:
                    self.problem(f"{step.path}.{arm}", "is empty: add at least one step")
                    continue
                first = self.sequence(raw.get(arm), f"{step.path}.{arm}", after)
                if first is not None:
                    step.arms[arm] = first
        elif step.type == "split":
            paths = raw.get("paths")
            if not isinstance(paths, list):
                return
            for index, path in enumerate(paths):
                where = f"{step.path}.paths[{index}].steps"
                if not isinstance(path, Mapping):
                    continue
                if isinstance(path.get("steps"), list) and not path["steps"]:
                    self.problem(where, "is empty: add at least one step")
                    continue
                first = self.sequence(path.get("steps"), where, after)
                if first is not None:
                    step.arms[str(index)] = first

    def check_email(self, raw: Mapping[str, Any], where: str) -> None:
        if not _positive_int(raw.get("template_id")):
            self.problem(f"{where}.template_id", "must be a template id (a positive integer)")

    def check_case_study(self, raw: Mapping[str, Any], where: str) -> None:
        self.check_email(raw, where)
        if "service" in raw:
            service = raw["service"]
            if not isinstance(service, str) or not _SLUG.match(service):
                self.problem(f"{where}.service", "must be a service slug, like data-platform")
        self.check_topics(raw, where)

    def check_webinar_invite(self, raw: Mapping[str, Any], where: str) -> None:
        self.check_email(raw, where)
        self.check_topics(raw, where)

    def check_review_email(self, raw: Mapping[str, Any], where: str) -> None:
        self.check_email(raw, where)
        if raw.get("ask") not in REVIEW_ASKS:
            self.problem(f"{where}.ask", f"must be one of {', '.join(REVIEW_ASKS)}")

    def check_topics(self, raw: Mapping[str, Any], where: str) -> None:
        if "topics" not in raw:
            return
        topics = raw["topics"]
        if (
            not isinstance(topics, list)
            or not topics
            or len(topics) > MAX_FILTER_TOPICS
            or not all(isinstance(t, str) and 0 < len(t.strip()) <= 80 for t in topics)
        ):
            self.problem(
                f"{where}.topics", f"must list 1 to {MAX_FILTER_TOPICS} topics (text, 1-80 each)"
            )

    def check_task(self, raw: Mapping[str, Any], where: str) -> None:
        if raw.get("kind") not in TASK_KINDS:
            self.problem(f"{where}.kind", f"must be one of {', '.join(TASK_KINDS)}")
        text = raw.get("instructions", "")
        if not isinstance(text, str) or len(text) > MAX_INSTRUCTIONS:
            self.problem(f"{where}.instructions", f"must be text of up to {MAX_INSTRUCTIONS}")
        hours = raw.get("due_in_hours", 48)
        if not isinstance(hours, int) or isinstance(hours, bool) or not 0 <= hours <= 24 * 90:
            self.problem(f"{where}.due_in_hours", "must be a whole number of hours, 0 to 2160")
        if "due_in_working_days" in raw:
            days = raw["due_in_working_days"]
            if "due_in_hours" in raw:
                self.problem(
                    f"{where}.due_in_working_days", "give either due_in_hours or this, not both"
                )
            elif (
                not isinstance(days, int)
                or isinstance(days, bool)
                or not 1 <= days <= MAX_WORKING_DAYS
            ):
                self.problem(
                    f"{where}.due_in_working_days",
                    f"must be a whole number of working days, 1 to {MAX_WORKING_DAYS}",
                )
        if raw.get("assign_to", "owner") not in TASK_ASSIGNEES:
            self.problem(f"{where}.assign_to", f"must be one of {', '.join(TASK_ASSIGNEES)}")
        if not isinstance(raw.get("escalate", False), bool):
            self.problem(f"{where}.escalate", "must be true or false")

    def check_wait(self, raw: Mapping[str, Any], where: str) -> None:
        given = [name for name in ("duration", "until", "event") if name in raw]
        if len(given) != 1:
            self.problem(where, "give exactly one of duration, until or event")
            return
        if "duration" in raw:
            _duration(raw["duration"], f"{where}.duration", self.problems)
        elif "until" in raw:
            until = raw["until"]
            if not isinstance(until, Mapping):
                self.problem(
                    f"{where}.until", 'must be like {"weekday": "tuesday", "time": "10:00"}'
                )
                return
            if until.get("weekday") not in WEEKDAYS:
                self.problem(f"{where}.until.weekday", "must be a weekday name, like tuesday")
            if not isinstance(until.get("time"), str) or not _CLOCK.match(until["time"]):
                self.problem(f"{where}.until.time", "must be a 24-hour HH:MM time")
        else:
            if not is_event_type(raw["event"]):
                self.problem(f"{where}.event", "must be an event type, like email.clicked")
            if "timeout" not in raw:
                self.problem(f"{where}.timeout", "is required when waiting for an event")
            else:
                _duration(raw["timeout"], f"{where}.timeout", self.problems)
        if "timeout" in raw and "event" not in raw:
            self.problem(f"{where}.timeout", "only applies when waiting for an event")
        if "since" in raw:
            if "event" not in raw:
                self.problem(f"{where}.since", "only applies when waiting for an event")
            elif raw["since"] != "enrolment":
                self.problem(
                    f"{where}.since", 'must be "enrolment" (or left out: since the wait began)'
                )

    def check_branch(self, raw: Mapping[str, Any], where: str) -> None:
        for arm in ("then", "else"):
            if arm not in raw:
                self.problem(f"{where}.{arm}", "is required")
        self.check_condition(raw.get("condition"), f"{where}.condition", depth=0)

    def check_condition(self, condition: object, where: str, *, depth: int) -> None:
        """One test, or `{"any": [...]}` / `{"all": [...]}` of them, nesting as segment
        rules do (segments.schema), up to MAX_CONDITION_DEPTH groups deep."""
        if not isinstance(condition, Mapping):
            self.problem(where, "must be an object")
            return
        groups = [name for name in CONDITION_GROUPS if name in condition]
        if groups:
            if len(condition) != 1:
                self.problem(where, 'must be {"any": [...]} or {"all": [...]} and nothing else')
                return
            group = groups[0]
            tests = condition[group]
            if not isinstance(tests, list) or not 1 <= len(tests) <= MAX_CONDITION_TESTS:
                self.problem(f"{where}.{group}", f"must list 1 to {MAX_CONDITION_TESTS} tests")
                return
            if depth >= MAX_CONDITION_DEPTH:
                self.problem(f"{where}.{group}", f"groups nest at most {MAX_CONDITION_DEPTH} deep")
                return
            for index, test in enumerate(tests):
                self.check_condition(test, f"{where}.{group}[{index}]", depth=depth + 1)
            return
        self.check_test(condition, where)

    def check_test(self, condition: Mapping[str, Any], where: str) -> None:
        if "event" in condition:
            unknown = set(condition) - {"event", "step", "where"}
            if not is_event_type(condition["event"]):
                self.problem(f"{where}.event", "must be an event type, like email.clicked")
            if "where" in condition:
                self.check_where(condition["where"], f"{where}.where")
            if "step" in condition:
                self.references.append((f"{where}.step", str(condition["step"]), MAIL_STEPS))
        elif "task_outcome" in condition:
            unknown = set(condition) - {"task_outcome", "step"}
            outcomes = condition["task_outcome"]
            allowed = [o.value for o in TaskOutcome]
            if (
                not isinstance(outcomes, list)
                or not outcomes
                or any(o not in allowed for o in outcomes)
            ):
                self.problem(f"{where}.task_outcome", f"must list outcomes from {allowed}")
            self.references.append((f"{where}.step", str(condition.get("step")), ("task",)))
        elif "segment_id" in condition:
            unknown = set(condition) - {"segment_id"}
            if not _positive_int(condition["segment_id"]):
                self.problem(f"{where}.segment_id", "must be a segment id")
        else:
            self.problem(
                where,
                "must test an event, a task_outcome or a segment_id, or group tests in any/all",
            )
            return
        for name in sorted(unknown):
            self.problem(f"{where}.{name}", "is not a field of this condition")

    def check_where(self, raw: object, where: str) -> None:
        """`{"category": ["promoter"], "reminder": false}`: property -> a value or a list."""
        if not isinstance(raw, Mapping) or not raw or len(raw) > MAX_WHERE_PROPERTIES:
            self.problem(
                where,
                f"must map 1 to {MAX_WHERE_PROPERTIES} event properties to a value or a list",
            )
            return
        for name, value in raw.items():
            if not is_attribute_key(name):
                self.problem(f"{where}.{name}", f"property {ATTRIBUTE_KEY_RULE}")
                continue
            values = value if isinstance(value, list) else [value]
            if (
                not values
                or len(values) > MAX_WHERE_VALUES
                or not all(_where_value(v) for v in values)
            ):
                self.problem(
                    f"{where}.{name}",
                    f"must be text (up to 200), a whole number, true/false, "
                    f"or a list of 1 to {MAX_WHERE_VALUES} of them",
                )

    def check_split(self, raw: Mapping[str, Any], where: str) -> None:
        paths = raw.get("paths")
        if not isinstance(paths, list) or len(paths) < 2:
            self.problem(f"{where}.paths", "must list at least two paths")
            return
        total = 0
        for index, path in enumerate(paths):
            at = f"{where}.paths[{index}]"
            if not isinstance(path, Mapping) or set(path) - {"percent", "steps"}:
                self.problem(at, 'must be {"percent": N, "steps": [...]}')
                continue
            percent = path.get("percent")
            if not isinstance(percent, int) or isinstance(percent, bool) or not 0 < percent < 100:
                self.problem(f"{at}.percent", "must be a whole number from 1 to 99")
            else:
                total += percent
        if total != 100 and not any(p.field.startswith(f"{where}.paths") for p in self.problems):
            self.problem(f"{where}.paths", f"percentages must add up to 100, not {total}")

    def check_goal(self, raw: Mapping[str, Any], where: str) -> None:
        """A goal step completes the enrolment; nothing to check."""

    def check_exit(self, raw: Mapping[str, Any], where: str) -> None:
        """An exit step ends the enrolment early; nothing to check."""

    def check_references(self) -> None:
        for where, key, types in self.references:
            step = self.steps.get(key)
            if step is None:
                self.problem(where, f"no step with key {key!r}")
            elif step.type not in types:
                self.problem(where, f"{key!r} is a {step.type} step, not {' or '.join(types)}")


def _duration(raw: object, where: str, problems: list[Problem]) -> None:
    if (
        not isinstance(raw, Mapping)
        or not raw
        or set(raw) - set(_DURATION_UNITS)
        or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in raw.values())
    ):
        problems.append(Problem(where, 'must be like {"days": 4, "hours": 2} (whole numbers)'))
    elif sum(raw.values()) == 0 or raw.get("days", 0) > 365:
        problems.append(Problem(where, "must be longer than zero and at most 365 days"))


def _goals(raw: object, problems: list[Problem]) -> list[Mapping[str, Any]]:
    if not isinstance(raw, list):
        problems.append(Problem("goals", "must be a list"))
        return []
    for index, goal in enumerate(raw):
        where = f"goals[{index}]"
        if isinstance(goal, Mapping) and set(goal) == {"event"}:
            if not is_event_type(goal["event"]):
                problems.append(Problem(f"{where}.event", "must be an event type"))
        elif isinstance(goal, Mapping) and set(goal) == {"lifecycle"}:
            stages = goal["lifecycle"]
            if (
                not isinstance(stages, list)
                or not stages
                or not all(isinstance(s, str) for s in stages)
            ):
                problems.append(Problem(f"{where}.lifecycle", "must list lifecycle stages"))
        else:
            problems.append(Problem(where, 'must be {"event": "..."} or {"lifecycle": [...]}'))
    return list(raw)


def _triggers(raw: object, problems: list[Problem]) -> list[Mapping[str, Any]]:
    return list(entry.parse_triggers(raw, problems))


def _window(raw: object, where: str, problems: list[Problem], *, days: bool) -> Window | None:
    if raw is None:
        return None
    allowed = {"start", "end", "days"} if days else {"start", "end"}
    if not isinstance(raw, Mapping) or set(raw) - allowed:
        problems.append(Problem(where, f"must be an object with {', '.join(sorted(allowed))}"))
        return None
    clock: dict[str, time] = {}
    for name in ("start", "end"):
        value = raw.get(name)
        match = _CLOCK.match(value) if isinstance(value, str) else None
        if match is None:
            problems.append(Problem(f"{where}.{name}", "must be a 24-hour HH:MM time"))
        else:
            clock[name] = time(int(match[1]), int(match[2]))
    weekdays = raw.get("days", list(WEEKDAYS))
    if not isinstance(weekdays, list) or not weekdays or any(d not in WEEKDAYS for d in weekdays):
        problems.append(Problem(f"{where}.days", "must list weekday names, like monday"))
        weekdays = list(WEEKDAYS)
    if len(clock) < 2:
        return None
    if clock["start"] == clock["end"]:
        problems.append(Problem(where, "start and end must differ"))
        return None
    if days and clock["start"] > clock["end"]:
        problems.append(Problem(where, "start must come before end (same day)"))
        return None
    return Window(clock["start"], clock["end"], frozenset(WEEKDAYS.index(d) for d in weekdays))


def _choice(value: object, where: str, allowed: tuple[str, ...], problems: list[Problem]) -> str:
    if value not in allowed:
        problems.append(Problem(where, f"must be one of {', '.join(allowed)}"))
        return allowed[0]
    return str(value)


def _flag(value: object, problems: list[Problem]) -> bool:
    if not isinstance(value, bool):
        problems.append(Problem("exclude_customers", "must be true or false"))
        return True
    return value


def _where_value(value: object) -> bool:
    """A value a branch may compare an event property with (floats compare unreliably)."""
    if isinstance(value, str):
        return len(value) <= 200 and "\x00" not in value
    return isinstance(value, int) and abs(value) <= MAX_ID  # bool is an int too


def _positive_int(value: object) -> bool:
    return is_id(value)
