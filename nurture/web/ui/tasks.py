"""The task queue: a rep's due LinkedIn, call and meeting tasks with one-click outcomes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromQuery, PathParameter
from litestar.response import Redirect, Template

from campaigns.sequences import task_queue
from campaigns.sequences.definition import TASK_KINDS
from campaigns.sequences.task_queue import Assignee, TaskFilter, TaskState
from campaigns.sequences.task_undo import UNDO_WINDOW, can_undo, undo_task_outcome
from campaigns.sequences.tasks import TASK_COMPLETED, outcome_label, record_task_outcome
from nurture.errors import Conflict, InvalidInput
from nurture.models import Event, Role, TaskOutcome, utcnow
from nurture.web.auth import Principal, ui_roles
from nurture.web.ui.params import Db, FormData, Me
from nurture.web.ui.render import EVERYONE, fragment, from_htmx, page
from nurture.web.ui.timeline import entry

PAGE_SIZE = 20
WHO = ("mine", "unassigned", "all")
KIND_LABELS = {
    "linkedin_connect": "LinkedIn connect",
    "linkedin_message": "LinkedIn message",
    "call": "Call",
    "meeting": "Meeting",
}
OUTCOME_BUTTONS = (
    (TaskOutcome.DONE.value, "Done"),
    (TaskOutcome.NO_ANSWER.value, "No answer"),
    (TaskOutcome.MEETING_BOOKED.value, "Meeting booked"),
    (TaskOutcome.NOT_INTERESTED.value, "Not interested"),
)
# Ids are 64-bit signed integers in the database; a larger number is no id at all.
TaskId = Annotated[int, PathParameter(ge=1, le=2**63 - 1)]
# Properties that say what an event was about, in a few words a rep can read.
HINT_KEYS = ("subject", "title", "name", "url", "path", "campaign", "form", "webinar")
HINT_LENGTH = 80
UNDONE = "Outcome undone. The task is open again."
MOVED_ON = (
    "Outcome undone. The task is open again, but its sequence had already moved on: "
    "what it did since (e-mails sent, the next steps) stays as it is."
)
# htmx listens for this event to refresh the nav badge after an outcome.
CHANGED_EVENT = "tasks-changed"


@dataclass(frozen=True, slots=True)
class QueueQuery:
    """The queue's filters as they arrived, to refill the form and build links."""

    who: str = "mine"
    kind: str = ""
    status: str = "open"

    def check(self, principal: Principal) -> None:
        if self.who not in WHO:
            raise InvalidInput.single("who", f"must be one of {', '.join(WHO)}")
        if self.status not in (s.value for s in TaskState):
            raise InvalidInput.single("status", "must be open or done")
        task_queue.check_kind(self.kind)
        if self.who != "mine" and principal.role is Role.SALES:
            raise PermissionDeniedException("sales reps see the tasks assigned to them")

    def to_filter(self, principal: Principal) -> TaskFilter:
        self.check(principal)
        if self.who == "mine":
            assignee = Assignee(user_id=principal.id)
        elif self.who == "unassigned":
            assignee = Assignee(unassigned=True)
        else:
            assignee = Assignee.everyone()
        return TaskFilter(assignee=assignee, state=TaskState(self.status), kind=self.kind or None)

    @property
    def filtered(self) -> bool:
        return (self.who, self.kind, self.status) != ("mine", "", "open")

    def link(self, **extra: object) -> str:
        params = {"who": self.who, "kind": self.kind, "status": self.status, **extra}
        return urlencode({k: v for k, v in params.items() if v not in ("", None)})


def event_hint(event: Event) -> str:
    """What the event was about in a few words, or '' when its properties hold only ids."""
    properties = event.properties or {}
    outcome = properties.get("outcome")
    if event.type == TASK_COMPLETED and isinstance(outcome, str):
        return outcome_label(outcome)
    for key in HINT_KEYS:
        value = properties.get(key)
        if isinstance(value, str) and value:
            return value if len(value) <= HINT_LENGTH else value[: HINT_LENGTH - 1] + "…"
    return ""


def _card_context() -> dict[str, Any]:
    now = utcnow()
    return {
        "kinds": KIND_LABELS,
        "outcomes": OUTCOME_BUTTONS,
        "outcome_label": outcome_label,
        "linkedin_url": task_queue.linkedin_search_url,
        "timeline_entry": entry,
        "event_hint": event_hint,
        "can_undo": can_undo,
        "undo_minutes": int(UNDO_WINDOW.total_seconds() // 60),
        "now": now,
        "today_ends": task_queue.end_of_day(now),
    }


def _rows(db: Db, principal: Principal, query: QueueQuery, cursor: str | None) -> dict[str, Any]:
    found = task_queue.list_tasks(db, query.to_filter(principal), cursor=cursor, limit=PAGE_SIZE)
    return {
        "cards": task_queue.cards(db, found.items),
        "next_cursor": found.next_cursor,
        "query": query,
        "show_assignee": query.who != "mine",
        **_card_context(),
    }


@get("/tasks", guards=[ui_roles(*EVERYONE)], sync_to_thread=True)
def task_list(
    db: Db,
    principal: Me,
    who: FromQuery[str] = "mine",
    kind: FromQuery[str] = "",
    status: FromQuery[str] = "open",
    cursor: FromQuery[str | None] = None,
) -> Template:
    query = QueueQuery(who, kind, status)
    context = _rows(db, principal, query, cursor)
    filters = query.to_filter(principal)
    now = utcnow()
    summary = None
    if filters.state is TaskState.OPEN:
        summary = {
            "open": task_queue.count_tasks(db, filters),
            "overdue": task_queue.count_tasks(db, _before(filters, now)),
            "due_today": task_queue.count_tasks(db, _before(filters, task_queue.end_of_day(now))),
        }
    return page(
        "tasks/list.html",
        principal,
        "tasks",
        summary=summary,
        total=task_queue.count_tasks(db, filters),
        paged=cursor is not None,
        can_switch=principal.role is not Role.SALES,
        who_options=(("mine", "Mine"), ("unassigned", "Unassigned"), ("all", "Everyone's")),
        kind_options=[(k, KIND_LABELS[k]) for k in TASK_KINDS],
        **context,
    )


@get("/tasks/rows", guards=[ui_roles(*EVERYONE)], sync_to_thread=True)
def task_rows(
    db: Db,
    principal: Me,
    who: FromQuery[str] = "mine",
    kind: FromQuery[str] = "",
    status: FromQuery[str] = "open",
    cursor: FromQuery[str | None] = None,
) -> Template:
    """The next cards of the queue, for htmx's "load more"."""
    return fragment(
        "tasks/_cards.html", **_rows(db, principal, QueueQuery(who, kind, status), cursor)
    )


@post("/tasks/{task_id:int}/outcome", guards=[ui_roles(*EVERYONE)], sync_to_thread=True)
def task_outcome(
    request: Request[Any, Any, Any], db: Db, principal: Me, task_id: TaskId, data: FormData
) -> Template | Redirect:
    """Record an outcome; htmx gets the card back in its new state, a plain form a redirect."""

    def record() -> str | None:
        record_task_outcome(
            db, task_id, data.get("outcome", ""), now=utcnow(), actor=principal.actor
        )
        return None

    return _act(request, db, principal, task_id, record)


@post("/tasks/{task_id:int}/undo", guards=[ui_roles(*EVERYONE)], sync_to_thread=True)
def task_undo(
    request: Request[Any, Any, Any], db: Db, principal: Me, task_id: TaskId
) -> Template | Redirect:
    """Undo a recorded outcome within the undo window; the card comes back open."""

    def undo() -> str:
        undone = undo_task_outcome(db, task_id, now=utcnow(), actor=principal.actor)
        return MOVED_ON if undone.sequence_moved_on else UNDONE

    return _act(request, db, principal, task_id, undo)


def _act(
    request: Request[Any, Any, Any],
    db: Db,
    principal: Principal,
    task_id: int,
    act: Callable[[], str | None],
) -> Template | Redirect:
    """Run `act` on a task the caller may act on; htmx gets the card back (with what
    `act` says was done, or why a click changed nothing), a plain form a redirect."""
    _check_may_act(db, principal, task_id)
    notice, done = None, None
    try:
        done = act()
    except Conflict as exc:
        if not from_htmx(request):
            raise
        # The card shows what is stored and says why the click changed nothing.
        db.rollback()
        notice = str(exc)
    if not from_htmx(request):
        return Redirect("/tasks", status_code=303)
    return _card(db, task_id, notice=notice, done=done)


def _check_may_act(db: Db, principal: Principal, task_id: int) -> None:
    task = task_queue.get_task(db, task_id)
    if principal.role is Role.SALES and task.assignee_id not in (None, principal.id):
        raise PermissionDeniedException("this task is assigned to another rep")


def _card(db: Db, task_id: int, *, notice: str | None, done: str | None = None) -> Template:
    card = task_queue.cards(db, [task_queue.get_task(db, task_id)])[0]
    return fragment(
        "tasks/_card.html",
        trigger=CHANGED_EVENT,
        card=card,
        notice=notice,
        done=done,
        show_assignee=False,
        **_card_context(),
    )


@get("/tasks/badge", guards=[ui_roles(*EVERYONE)], sync_to_thread=True)
def task_badge(db: Db, principal: Me) -> Template:
    """The number beside "Tasks" in the navigation: the caller's tasks due today or overdue."""
    count = task_queue.due_count(db, principal.id, now=utcnow())
    return fragment("tasks/_badge.html", count=count, changed_event=CHANGED_EVENT)


def _before(filters: TaskFilter, when: datetime) -> TaskFilter:
    return TaskFilter(
        assignee=filters.assignee, state=filters.state, kind=filters.kind, due_before=when
    )


handlers = [task_list, task_rows, task_outcome, task_undo, task_badge]
