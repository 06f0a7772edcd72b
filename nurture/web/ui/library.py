"""Content library pages: a list, a new-item form and an edit form for services, case
studies, webinars and articles, shown as tabs of the Content section.

Everyone may look; only marketers and admins may change anything (the POST
handlers are guarded, so a sales rep gets 403 even with a hand-made form).
"""

from __future__ import annotations

from typing import Any

from litestar import get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from campaigns.content import library
from campaigns.content.kinds import SERVICES
from nurture.errors import Conflict, InvalidInput, Problem
from nurture.web.auth import ui_roles
from nurture.web.ui import library_forms as forms
from nurture.web.ui.params import Db, FormData, Me
from nurture.web.ui.render import EVERYONE, MARKETING, page

BASE = "/content/library"


def _page_for(key: str) -> forms.Page:
    found = forms.PAGES.get(key)
    if found is None:
        raise NotFoundException(f"no library section {key!r}")
    return found


def _form(
    db: Db,
    principal: Me,
    spec: forms.Page,
    *,
    item_id: int | None,
    values: dict[str, str],
    problems: list[Problem] | None = None,
    message: str | None = None,
    status_code: int = 200,
    saved: bool = False,
) -> Template:
    errors = {
        p.field: p.message if p.index is None else f"line {p.index + 1}: {p.message}"
        for p in problems or []
    }
    services = library.listing(db, SERVICES) if spec.key == "case-studies" else []
    return page(
        "library/form.html",
        principal,
        "content",
        status_code=status_code,
        spec=spec,
        item_id=item_id,
        values=values,
        errors=errors,
        message=message,
        services=services,
        can_edit=principal.role in MARKETING,
        saved=saved,
        base=BASE,
    )


@get(f"{BASE}/{{key:str}}", guards=[ui_roles(*EVERYONE)], sync_to_thread=True)
def library_list(
    db: Db, principal: Me, key: FromPath[str], deleted: FromQuery[bool] = False
) -> Template:
    spec = _page_for(key)
    items = library.listing(db, spec.kind)
    rows = [(item.id, _title(item), [c.cell(item) for c in spec.columns]) for item in items]
    return page(
        "library/list.html",
        principal,
        "content",
        spec=spec,
        rows=rows,
        can_edit=principal.role in MARKETING,
        deleted=deleted,
        base=BASE,
    )


@get(f"{BASE}/{{key:str}}/new", guards=[ui_roles(*MARKETING)], sync_to_thread=True)
def library_new(db: Db, principal: Me, key: FromPath[str]) -> Template:
    spec = _page_for(key)
    return _form(db, principal, spec, item_id=None, values=forms.form_values(spec, None))


@post(f"{BASE}/{{key:str}}/new", guards=[ui_roles(*MARKETING)], sync_to_thread=True)
def library_create(
    db: Db, principal: Me, key: FromPath[str], data: FormData
) -> Template | Redirect:
    spec = _page_for(key)
    values = forms.posted(spec, data)
    try:
        item = library.create(db, spec.kind, actor=principal.actor, data=values)
    except (InvalidInput, Conflict) as exc:
        db.rollback()
        return _refused(db, principal, spec, None, values, exc)
    return Redirect(f"{BASE}/{key}/{item.id}?saved=1", status_code=303)


@get(f"{BASE}/{{key:str}}/{{item_id:int}}", guards=[ui_roles(*EVERYONE)], sync_to_thread=True)
def library_edit(
    db: Db,
    principal: Me,
    key: FromPath[str],
    item_id: FromPath[int],
    saved: FromQuery[bool] = False,
) -> Template:
    spec = _page_for(key)
    item = library.get(db, spec.kind, item_id)
    values = forms.form_values(spec, item)
    return _form(db, principal, spec, item_id=item_id, values=values, saved=saved)


@post(f"{BASE}/{{key:str}}/{{item_id:int}}", guards=[ui_roles(*MARKETING)], sync_to_thread=True)
def library_save(
    db: Db, principal: Me, key: FromPath[str], item_id: FromPath[int], data: FormData
) -> Template | Redirect:
    spec = _page_for(key)
    values = forms.posted(spec, data)
    try:
        library.update(db, spec.kind, item_id, actor=principal.actor, data=values)
    except (InvalidInput, Conflict) as exc:
        # Nothing of a refused save is stored; the form keeps what was typed.
        db.rollback()
        return _refused(db, principal, spec, item_id, values, exc)
    return Redirect(f"{BASE}/{key}/{item_id}?saved=1", status_code=303)


@post(
    f"{BASE}/{{key:str}}/{{item_id:int}}/delete", guards=[ui_roles(*MARKETING)], sync_to_thread=True
)
def library_delete(db: Db, principal: Me, key: FromPath[str], item_id: FromPath[int]) -> Redirect:
    spec = _page_for(key)
    library.delete(db, spec.kind, item_id, actor=principal.actor)
    return Redirect(f"{BASE}/{key}?deleted=1", status_code=303)


def _refused(
    db: Db,
    principal: Me,
    spec: forms.Page,
    item_id: int | None,
    values: dict[str, str],
    exc: InvalidInput | Conflict,
) -> Template:
    problems = exc.problems if isinstance(exc, InvalidInput) else []
    message = str(exc) if isinstance(exc, Conflict) else None
    return _form(
        db,
        principal,
        spec,
        item_id=item_id,
        values=values,
        problems=problems,
        message=message,
        status_code=422 if isinstance(exc, InvalidInput) else 409,
    )


def _title(item: Any) -> str:
    return str(getattr(item, "title", None) or getattr(item, "name", ""))


handlers = [library_list, library_new, library_create, library_edit, library_save, library_delete]
