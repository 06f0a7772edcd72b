"""Content pages: the template list (with the starter library), the editor with live
preview at desktop and phone width, test sends, and version history.

Everyone may look; only marketers and admins may change anything (the POST handlers
are guarded, so a sales rep gets 403 even with a hand-made form).
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import select

from campaigns.email import pipeline, starter_copy, store
from campaigns.email.needs import starter_use
from campaigns.email.seed import seed_starter_library
from nurture.contacts import preview_contacts
from nurture.errors import InvalidInput
from nurture.models import Contact, EmailTemplate, User
from nurture.validation import parse_id
from nurture.web.auth import ui_roles
from nurture.web.mail import mail_config, transport
from nurture.web.ui import content_form as form
from nurture.web.ui.actors import actor_names
from nurture.web.ui.content_preview import preview_fragment
from nurture.web.ui.params import Db, FormData, Me
from nurture.web.ui.render import EVERYONE, MARKETING, fragment, page
from templates.library import starter_templates
from templates.message import Address

PREVIEW_CONTACTS = 100


def _contacts(db: Db) -> list[Contact]:
    return preview_contacts(db, limit=PREVIEW_CONTACTS)


def _can_edit(principal: Me) -> bool:
    return principal.role in MARKETING


@get("/content", guards=[ui_roles(*EVERYONE)], sync_to_thread=True)
def template_list(db: Db, principal: Me, loaded: FromQuery[int] = -1) -> Template:
    templates = store.list_templates(db)
    have = set(db.scalars(select(EmailTemplate.starter_name)))
    missing = [s for s in starter_templates() if s.name not in have]
    return page(
        "content/list.html",
        principal,
        "content",
        templates=templates,
        missing_starters=missing,
        starter_uses={s.name: starter_use(s) for s in missing},
        can_edit=_can_edit(principal),
        loaded=loaded,
    )


@post("/content/starters", guards=[ui_roles(*MARKETING)], sync_to_thread=True)
def load_starters(db: Db, principal: Me) -> Redirect:
    created = seed_starter_library(db, actor=principal.actor)
    return Redirect(f"/content?loaded={len(created)}", status_code=303)


def _editor(
    db: Db,
    principal: Me,
    *,
    template: EmailTemplate | None,
    state: form.EditorState,
    version: int | None = None,
    viewing_old: bool = False,
    status_code: int = 200,
    saved: bool = False,
) -> Template:
    versions = store.list_versions(db, template.id) if template is not None else []
    return page(
        "content/editor.html",
        principal,
        "content",
        status_code=status_code,
        tmpl=template,
        state=state,
        versions=versions,
        authors=actor_names(db, (v.created_by for v in versions)),
        version=version,
        viewing_old=viewing_old,
        contacts=_contacts(db),
        can_edit=_can_edit(principal) and not viewing_old,
        can_restore=_can_edit(principal) and viewing_old,
        saved=saved,
    )


@get("/content/new", guards=[ui_roles(*MARKETING)], sync_to_thread=True)
def new_template(principal: Me) -> Template:
    """Where a new template starts: a blank page or a copy of one of the starters."""
    starters = starter_templates()
    return page(
        "content/new.html",
        principal,
        "content",
        starters=starters,
        starter_uses={s.name: starter_use(s) for s in starters},
    )


@get("/content/new/blank", guards=[ui_roles(*MARKETING)], sync_to_thread=True)
def new_blank_template(db: Db, principal: Me) -> Template:
    return _editor(db, principal, template=None, state=form.from_version("", None))


@post("/content/new/starter", guards=[ui_roles(*MARKETING)], sync_to_thread=True)
def create_from_starter(db: Db, principal: Me, data: FormData) -> Redirect:
    """A new template with the starter's English and Russian versions, opened for editing."""
    name = data.get("starter", "")
    if not name:
        raise InvalidInput.single("starter", "choose a starter template")
    template = starter_copy.create_from_starter(db, starter=name, actor=principal.actor)
    return Redirect(f"/content/{template.id}?saved=1", status_code=303)


@post("/content/new", guards=[ui_roles(*MARKETING)], sync_to_thread=True)
def create_template(db: Db, principal: Me, data: FormData) -> Template | Redirect:
    state = form.from_form(data)
    try:
        template = store.create_template(
            db,
            name=state.name,
            variants=form.inputs(state),
            topic=data.get("topic") or None,
            actor=principal.actor,
        )
    except InvalidInput as exc:
        db.rollback()
        state = form.with_problems(state, exc.problems)
        return _editor(db, principal, template=None, state=state, status_code=422)
    return Redirect(f"/content/{template.id}?saved=1", status_code=303)


@get("/content/{template_id:int}", guards=[ui_roles(*EVERYONE)], sync_to_thread=True)
def edit_template(
    db: Db, principal: Me, template_id: FromPath[int], saved: FromQuery[bool] = False
) -> Template:
    template = store.get_template(db, template_id)
    version = store.get_version(db, template_id)
    state = form.from_version(template.name, version)
    return _editor(db, principal, template=template, state=state, saved=saved)


@post("/content/{template_id:int}", guards=[ui_roles(*MARKETING)], sync_to_thread=True)
def save_template(
    db: Db, principal: Me, template_id: FromPath[int], data: FormData
) -> Template | Redirect:
    template = store.get_template(db, template_id)
    state = form.from_form(data)
    try:
        store.update_template(
            db, template_id, actor=principal.actor, name=state.name, variants=form.inputs(state)
        )
    except InvalidInput as exc:
        # Nothing of a refused save is stored; the editor keeps what was typed.
        db.rollback()
        state = form.with_problems(state, exc.problems)
        template = store.get_template(db, template_id)
        return _editor(db, principal, template=template, state=state, status_code=422)
    return Redirect(f"/content/{template.id}?saved=1", status_code=303)


@get(
    "/content/{template_id:int}/versions/{number:int}",
    guards=[ui_roles(*EVERYONE)],
    sync_to_thread=True,
)
def view_version(
    db: Db, principal: Me, template_id: FromPath[int], number: FromPath[int]
) -> Template:
    template = store.get_template(db, template_id)
    version = store.get_version(db, template_id, number)
    state = form.from_version(template.name, version)
    current = number == template.current_version
    return _editor(
        db, principal, template=template, state=state, version=number, viewing_old=not current
    )


@post(
    "/content/{template_id:int}/versions/{number:int}/restore",
    guards=[ui_roles(*MARKETING)],
    sync_to_thread=True,
)
def restore_version(
    db: Db, principal: Me, template_id: FromPath[int], number: FromPath[int]
) -> Redirect:
    """Restoring writes the old content as a new version: history only grows."""
    old = store.get_version(db, template_id, number)
    variants = {
        v.locale: store.VariantInput(v.subject, v.body, v.preheader, v.text_body)
        for v in old.variants
    }
    store.update_template(db, template_id, actor=principal.actor, variants=variants)
    return Redirect(f"/content/{template_id}?saved=1", status_code=303)


@post("/content/{template_id:int}/preview", guards=[ui_roles(*EVERYONE)], sync_to_thread=True)
def preview(
    request: Request[Any, Any, Any], db: Db, template_id: FromPath[int], data: FormData
) -> Template:
    """The unsaved source of the active locale, rendered for the chosen contact."""
    state = form.from_form(data)
    return preview_fragment(
        request,
        db,
        template_id=template_id,
        contact_id=parse_id(data.get("contact_id", "")),
        locale=data.get("active_locale") or "en",
        draft=form.draft(state, data.get("active_locale") or "en"),
    )


@post("/content/{template_id:int}/test-send", guards=[ui_roles(*MARKETING)], sync_to_thread=True)
def test_send(
    request: Request[Any, Any, Any],
    db: Db,
    principal: Me,
    template_id: FromPath[int],
    data: FormData,
) -> Template:
    """Send the saved version, as the chosen contact would get it, to the signed-in user."""
    user = db.get(User, principal.id)
    contact_id = parse_id(data.get("contact_id", ""))
    if user is None or contact_id is None:
        raise InvalidInput.single("contact_id", "choose a contact to send the test as")
    sent = pipeline.send_test(
        db,
        template_id,
        contact_id,
        to=Address(user.email, user.name),
        idempotency_key=f"test:{template_id}:{uuid.uuid4().hex}",
        transport=transport(request.app),
        config=mail_config(request.app),
    )
    return fragment(
        "content/_test_sent.html", message=sent.message, to=user.email, filled=sent.filled
    )


handlers = [
    template_list,
    load_starters,
    new_template,
    new_blank_template,
    create_from_starter,
    create_template,
    edit_template,
    save_template,
    view_version,
    restore_version,
    preview,
    test_send,
]
