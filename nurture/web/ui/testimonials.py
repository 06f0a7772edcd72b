"""Reviews > Testimonials: the library, hiding and withdrawing (issue 15).

Everyone signed in reads the library; marketers and admins hide, show, withdraw (naming
who asked) and put a quote on a case study. Every change is a POST that redirects back
to the list (PRG) and is written to the audit log by the domain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from litestar import get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import select

from nurture.errors import Conflict, InvalidInput, NotFound
from nurture.models import (
    CaseStudy,
    Contact,
    Project,
    Service,
    TestimonialStatus,
    utcnow,
)
from nurture.models import Testimonial as Quote
from nurture.reviews import testimonials
from nurture.validation import parse_id
from nurture.web.auth import ui_roles
from nurture.web.ui.params import Db, FormData, Me
from nurture.web.ui.render import EVERYONE, MARKETING, page
from workers.actors import hand_over

_BASE = "/reviews/testimonials"
_NOTICES = {
    "hidden": "The quote is hidden: it is kept, but nothing uses it.",
    "shown": "The quote is back in use.",
    "withdrawn": "Consent withdrawn: the quote is gone from the library, case studies and the API.",
    "attached": "The quote now shows on the case study.",
}
STATUSES = tuple(s.value for s in TestimonialStatus)


@dataclass(frozen=True, slots=True)
class Row:
    quote: Quote
    client: Contact | None
    project: str | None
    service: str | None
    case_studies: list[tuple[int, str]]


@get(_BASE, guards=[ui_roles(*EVERYONE)], sync_to_thread=True)
def quote_library(
    db: Db,
    principal: Me,
    status: FromQuery[str] = "",
    service: FromQuery[str] = "",
    industry: FromQuery[str] = "",
    done: FromQuery[str] = "",
) -> Template:
    return _page(db, principal, status=status, service=service, industry=industry, done=done)


@post(f"{_BASE}/{{testimonial_id:int}}/hide", guards=[ui_roles(*MARKETING)], sync_to_thread=True)
def hide_quote(db: Db, principal: Me, testimonial_id: FromPath[int]) -> Template | Redirect:
    return _act(
        db,
        principal,
        "hidden",
        lambda: testimonials.hide(db, testimonial_id, actor=principal.actor),
    )


@post(f"{_BASE}/{{testimonial_id:int}}/show", guards=[ui_roles(*MARKETING)], sync_to_thread=True)
def show_quote(db: Db, principal: Me, testimonial_id: FromPath[int]) -> Template | Redirect:
    return _act(
        db, principal, "shown", lambda: testimonials.show(db, testimonial_id, actor=principal.actor)
    )


@post(
    f"{_BASE}/{{testimonial_id:int}}/withdraw", guards=[ui_roles(*MARKETING)], sync_to_thread=True
)
def withdraw_quote(
    db: Db, principal: Me, testimonial_id: FromPath[int], data: FormData
) -> Template | Redirect:
    by = str(data.get("requested_by", "")).strip()
    reason = str(data.get("reason", "")).strip()

    def run() -> object:
        done = testimonials.withdraw(
            db, testimonial_id, by=by, reason=reason, now=utcnow(), actor=principal.actor
        )
        found = testimonials.withdrawn_event_id(db, testimonial_id)
        hand_over(db, [] if found is None else [found])
        return done

    return _act(db, principal, "withdrawn", run)


@post(f"{_BASE}/{{testimonial_id:int}}/attach", guards=[ui_roles(*MARKETING)], sync_to_thread=True)
def attach_quote(
    db: Db, principal: Me, testimonial_id: FromPath[int], data: FormData
) -> Template | Redirect:
    story_id = parse_id(str(data.get("case_study_id", "")).strip())

    def run() -> object:
        if story_id is None:
            raise InvalidInput.single("case_study_id", "choose a case study")
        return testimonials.attach(db, testimonial_id, story_id, actor=principal.actor)

    return _act(db, principal, "attached", run)


def _act(db: Db, principal: Me, done: str, run: Callable[[], object]) -> Template | Redirect:
    try:
        run()
    except NotFound:
        db.rollback()
        return _page(db, principal, error="No such testimonial or case study.", status_code=404)
    except (Conflict, InvalidInput) as exc:
        db.rollback()
        return _page(
            db, principal, error=str(exc), status_code=409 if isinstance(exc, Conflict) else 422
        )
    db.commit()
    return Redirect(f"{_BASE}?done={done}", status_code=303)


def _page(
    db: Db,
    principal: Me,
    *,
    status: str = "",
    service: str = "",
    industry: str = "",
    done: str = "",
    error: str = "",
    status_code: int = 200,
) -> Template:
    service_id = parse_id(service) if service else None
    wanted = status if status in STATUSES else None
    items = testimonials.library(
        db, service_id=service_id, industry=industry.strip()[:80] or None, status=wanted
    )
    return page(
        "reviews/testimonials.html",
        principal,
        "reviews",
        status_code=status_code,
        tab="testimonials",
        rows=_rows(db, items),
        filters={"status": wanted or "", "service": service_id or "", "industry": industry[:80]},
        statuses=STATUSES,
        services=list(db.execute(select(Service.id, Service.name).order_by(Service.name))),
        industries=sorted({i for i in db.scalars(select(Quote.industry).distinct()) if i}),
        stories=list(db.execute(select(CaseStudy.id, CaseStudy.title).order_by(CaseStudy.title))),
        can_edit=principal.role in MARKETING,
        notice=_NOTICES.get(done, ""),
        error=error,
    )


def _rows(db: Db, items: list[Quote]) -> list[Row]:
    if not items:
        return []
    ids = [t.id for t in items]
    contacts = {
        c.id: c
        for c in db.scalars(
            select(Contact).where(Contact.id.in_({t.contact_id for t in items if t.contact_id}))
        )
    }
    projects = {
        pid: name
        for pid, name in db.execute(
            select(Project.id, Project.name).where(
                Project.id.in_({t.project_id for t in items if t.project_id})
            )
        )
    }
    services = {sid: name for sid, name in db.execute(select(Service.id, Service.name))}
    used: dict[int, list[tuple[int, str]]] = {}
    for story_id, title, quote_id in db.execute(
        select(CaseStudy.id, CaseStudy.title, CaseStudy.testimonial_id).where(
            CaseStudy.testimonial_id.in_(ids)
        )
    ):
        if quote_id is not None:
            used.setdefault(quote_id, []).append((story_id, title))
    return [
        Row(
            quote=t,
            client=contacts.get(t.contact_id) if t.contact_id else None,
            project=projects.get(t.project_id) if t.project_id else None,
            service=services.get(t.service_id) if t.service_id else None,
            case_studies=used.get(t.id, []),
        )
        for t in items
    ]


handlers = [
    quote_library,
    hide_quote,
    show_quote,
    withdraw_quote,
    attach_quote,
]
