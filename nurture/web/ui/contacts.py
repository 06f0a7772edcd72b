"""Contact pages: the searchable list, a contact's page with its timeline, the edit form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import get, post
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template

from nurture import contacts
from nurture.contacts import ContactFilter
from nurture.errors import InvalidInput
from nurture.models import Event, utcnow
from nurture.reports.nps import company_nps, contact_answers
from nurture.validation import parse_id
from nurture.web.auth import ui_roles
from nurture.web.contact_changes import after_contact_change
from nurture.web.ui import contact_form, nps_words, queries
from nurture.web.ui.params import Db, FormData, Me
from nurture.web.ui.render import EVERYONE, fragment, page
from nurture.web.ui.score_panel import score_panel
from nurture.web.ui.timeline import TimelineEntry, entry
from nurture.web.ui.timeline_names import object_names

PAGE_SIZE = 50
TIMELINE_PAGE = 25


@dataclass(frozen=True, slots=True)
class ListQuery:
    """The list's search and filters as they arrived, to refill the form and build links."""

    q: str = ""
    stage: str = ""
    industry: str = ""
    owner: str = ""
    country: str = ""

    def to_filter(self) -> ContactFilter:
        owner_id = None
        if self.owner:
            owner_id = parse_id(self.owner)
            if owner_id is None:
                raise InvalidInput.single("owner", "must be a user id from the list")
        return ContactFilter(
            search=self.q.strip() or None,
            lifecycle_stage=self.stage or None,
            industry=self.industry or None,
            owner_id=owner_id,
            country=self.country or None,
        )

    @property
    def active(self) -> bool:
        return any((self.q, self.stage, self.industry, self.owner, self.country))

    def link(self, **extra: object) -> str:
        """The query string of this search plus `extra`, without empty values."""
        params = {
            "q": self.q,
            "stage": self.stage,
            "industry": self.industry,
            "owner": self.owner,
            "country": self.country,
            **extra,
        }
        return urlencode({k: v for k, v in params.items() if v not in ("", None)})


def _rows_context(db: Db, query: ListQuery, cursor: str | None, shown: int) -> dict[str, Any]:
    result = contacts.list_contacts(db, query.to_filter(), cursor=cursor, limit=PAGE_SIZE)
    return {
        "contacts": result.items,
        "next_cursor": result.next_cursor,
        "shown": shown + len(result.items),
        "query": query,
    }


@get("/contacts", guards=[ui_roles(*EVERYONE)], sync_to_thread=True)
def contact_list(
    db: Db,
    principal: Me,
    q: FromQuery[str] = "",
    stage: FromQuery[str] = "",
    industry: FromQuery[str] = "",
    owner: FromQuery[str] = "",
    country: FromQuery[str] = "",
    cursor: FromQuery[str | None] = None,
) -> Template:
    query = ListQuery(q, stage, industry, owner, country)
    context = _rows_context(db, query, cursor, 0)
    return page(
        "contacts/list.html",
        principal,
        "contacts",
        total=contacts.count_contacts(db, query.to_filter()),
        paged=cursor is not None,
        stages=contact_form.STAGES,
        industries=contacts.industries(db),
        owners=queries.owners(db),
        countries=queries.countries(db),
        **context,
    )


@get("/contacts/rows", guards=[ui_roles(*EVERYONE)], sync_to_thread=True)
def contact_rows(
    db: Db,
    q: FromQuery[str] = "",
    stage: FromQuery[str] = "",
    industry: FromQuery[str] = "",
    owner: FromQuery[str] = "",
    country: FromQuery[str] = "",
    cursor: FromQuery[str | None] = None,
    shown: Annotated[int, QueryParameter(ge=0)] = 0,
) -> Template:
    """The next rows of the list, for htmx's "load more"."""
    query = ListQuery(q, stage, industry, owner, country)
    total = contacts.count_contacts(db, query.to_filter())
    return fragment("contacts/_rows.html", total=total, **_rows_context(db, query, cursor, shown))


@get("/contacts/{contact_id:int}", guards=[ui_roles(*EVERYONE)], sync_to_thread=True)
def contact_page(
    db: Db,
    principal: Me,
    contact_id: FromPath[int],
    saved: FromQuery[bool] = False,
    cursor: FromQuery[str | None] = None,
) -> Template:
    contact = contacts.get_contact(db, contact_id)
    events = contacts.timeline(db, contact_id, cursor=cursor, limit=TIMELINE_PAGE)
    return page(
        "contacts/detail.html",
        principal,
        "contacts",
        contact=contact,
        entries=_entries(db, events.items),
        next_cursor=events.next_cursor,
        saved=saved,
        paged=cursor is not None,
        stages=dict(contact_form.STAGES),
        score=score_panel(db, contact_id, now=utcnow()),
        nps_answers=contact_answers(db, contact_id),
        company_nps=company_nps(db, contact.company_id) if contact.company_id else None,
        nps_words=nps_words,
    )


@get("/contacts/{contact_id:int}/timeline", guards=[ui_roles(*EVERYONE)], sync_to_thread=True)
def contact_timeline(
    db: Db, contact_id: FromPath[int], cursor: FromQuery[str | None] = None
) -> Template:
    """More of a contact's timeline, for htmx's "load more"."""
    events = contacts.timeline(db, contact_id, cursor=cursor, limit=TIMELINE_PAGE)
    return fragment(
        "contacts/_timeline.html",
        contact_id=contact_id,
        entries=_entries(db, events.items),
        next_cursor=events.next_cursor,
    )


def _entries(db: Db, events: list[Event]) -> list[TimelineEntry]:
    names = object_names(db, events)
    return [entry(event, names) for event in events]


def _edit_page(
    db: Db, principal: Me, contact_id: int, state: contact_form.FormState, status: int
) -> Template:
    return page(
        "contacts/edit.html",
        principal,
        "contacts",
        status_code=status,
        contact=contacts.get_contact(db, contact_id),
        form=state,
        inputs=contact_form.TEXT_INPUTS,
        stages=contact_form.STAGES,
        owners=queries.owners(db),
    )


@get("/contacts/{contact_id:int}/edit", guards=[ui_roles(*EVERYONE)], sync_to_thread=True)
def edit_contact_form(db: Db, principal: Me, contact_id: FromPath[int]) -> Template:
    state = contact_form.from_contact(contacts.get_contact(db, contact_id))
    return _edit_page(db, principal, contact_id, state, 200)


@post("/contacts/{contact_id:int}/edit", guards=[ui_roles(*EVERYONE)], sync_to_thread=True)
def edit_contact(
    db: Db, principal: Me, contact_id: FromPath[int], data: FormData
) -> Template | Redirect:
    update, problems = contact_form.parse(data)
    if not problems:
        try:
            contact_form.save(db, contact_id, update, data, principal)
            after_contact_change(db, [contact_id])
        except InvalidInput as exc:
            problems = exc.problems
    if problems:
        # Nothing of a rejected edit may be stored; the form keeps what was typed.
        db.rollback()
        return _edit_page(db, principal, contact_id, contact_form.with_errors(data, problems), 422)
    return Redirect(f"/contacts/{contact_id}?saved=1", status_code=303)


handlers = [
    contact_list,
    contact_rows,
    contact_page,
    contact_timeline,
    edit_contact_form,
    edit_contact,
]
