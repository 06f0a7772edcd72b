"""The block editor: one locale of a template shown as blocks (header, heading, text,
image...), reordered by drag or by keyboard, each block a small server-rendered form.

MJML stays the stored format: the page reads the current version's body into blocks
(what no kind fits stays an "HTML/MJML" block, verbatim) and a save writes the blocks
back as that locale's body in a new version, other locales untouched. The preview and
the test send go through the same server-side compiler as every sent e-mail.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from campaigns.content.card_picks import card_block, card_choices
from campaigns.email import store
from nurture.contacts import preview_contacts
from nurture.errors import InvalidInput
from nurture.models import EmailTemplate, TemplateKind
from nurture.validation import parse_id
from nurture.web.auth import ui_roles
from nurture.web.ui import block_form as form
from nurture.web.ui.content_form import LOCALES
from nurture.web.ui.content_preview import preview_fragment
from nurture.web.ui.params import Db, FormData, Me
from nurture.web.ui.render import EVERYONE, MARKETING, fragment, page
from nurture.web.ui.template_check import check_fragment
from templates.blocks import KINDS, Block, kind_spec, new_document, read

PREVIEW_CONTACTS = 100
CARD_KINDS = ("case_study", "webinar")
_LOCALE_NAMES = {"en": "English", "ru": "Русский"}


def _locale(value: str | None) -> str:
    return value if value in LOCALES else "en"


def _kind(template: EmailTemplate) -> str:
    return "marketing" if template.kind == TemplateKind.MARKETING.value else "internal"


def palette() -> list[tuple[str, str]]:
    """(kind, label) of each block the palette offers, raw HTML/MJML last."""
    kinds = [k for k in KINDS if k != form.RAW and form.known_kind(k)]
    return [(k, form.kind_label(k)) for k in [*kinds, form.RAW]]


def _state(db: Session, template: EmailTemplate, locale: str) -> form.BlockEditorState:
    version = store.get_version(db, template.id)
    variant = next((v for v in version.variants if v.locale == locale), None)
    if variant is None:
        return form.from_document(
            name=template.name,
            locale=locale,
            subject="",
            preheader="",
            document=new_document(locale, _kind(template)),  # type: ignore[arg-type]
        )
    return form.from_document(
        name=template.name,
        locale=locale,
        subject=variant.subject,
        preheader=variant.preheader,
        document=read(variant.body),
    )


def _editor(
    db: Session,
    principal: Me,
    template: EmailTemplate,
    state: form.BlockEditorState,
    *,
    saved: bool = False,
    status_code: int = 200,
) -> Template:
    return page(
        "content/blocks.html",
        principal,
        "content",
        status_code=status_code,
        tmpl=template,
        state=state,
        palette=palette(),
        locales=[(code, _LOCALE_NAMES[code]) for code in LOCALES],
        spec=kind_spec,
        ref_choices=_ref_choices(db),
        contacts=preview_contacts(db, limit=PREVIEW_CONTACTS),
        can_edit=principal.role in MARKETING,
        saved=saved,
    )


@get("/content/{template_id:int}/blocks", guards=[ui_roles(*EVERYONE)], sync_to_thread=True)
def block_editor(
    db: Db,
    principal: Me,
    template_id: FromPath[int],
    locale: FromQuery[str] = "en",
    saved: FromQuery[bool] = False,
) -> Template:
    template = store.get_template(db, template_id)
    state = _state(db, template, _locale(locale))
    return _editor(db, principal, template, state, saved=saved)


@post("/content/{template_id:int}/blocks", guards=[ui_roles(*MARKETING)], sync_to_thread=True)
def save_blocks(
    db: Db, principal: Me, template_id: FromPath[int], data: FormData
) -> Template | Redirect:
    """A new version whose `locale` body is written from the blocks; other locales kept."""
    template = store.get_template(db, template_id)
    locale = _locale(data.get("locale"))
    state = form.from_form(data, locale=locale)
    if state.has_errors:
        return _editor(db, principal, template, state, status_code=422)
    variants = _variants(db, template_id, state)
    try:
        store.update_template(
            db, template_id, actor=principal.actor, name=state.name, variants=variants
        )
    except InvalidInput as exc:
        # Nothing of a refused save is stored; the blocks come back as typed.
        db.rollback()
        state = form.with_problems(state, exc.problems)
        template = store.get_template(db, template_id)
        return _editor(db, principal, template, state, status_code=422)
    return Redirect(f"/content/{template_id}/blocks?locale={locale}&saved=1", status_code=303)


def _variants(
    db: Session, template_id: int, state: form.BlockEditorState
) -> dict[str, store.VariantInput]:
    """The saved version's variants with the edited locale's written from the blocks (its
    hand-written plain-text part, if any, kept)."""
    current = store.get_version(db, template_id)
    variants = {
        v.locale: store.VariantInput(v.subject, v.body, v.preheader, v.text_body)
        for v in current.variants
    }
    kept = variants.get(state.locale)
    variants[state.locale] = store.VariantInput(
        state.subject, form.body(state), state.preheader, kept.text_body if kept else None
    )
    return variants


def _ref_choices(db: Session) -> Callable[[str], list[tuple[int, str]]]:
    """What a card block may pick from the content library, looked up when drawn."""

    def choices(kind: str) -> list[tuple[int, str]]:
        return card_choices(db, kind)

    return choices


@get("/content/blocks/new", guards=[ui_roles(*MARKETING)], sync_to_thread=True)
def new_block(
    db: Db,
    kind: FromQuery[str],
    locale: FromQuery[str] = "en",
    ref: FromQuery[str] = "",
    key: FromQuery[str] = "",
) -> Template:
    """One block's form for the palette (a GET: nothing is stored until Save). With `ref`,
    a card filled from that content-library item, keeping the block's `key`."""
    if not form.known_kind(kind):
        raise InvalidInput.single("kind", "is not a kind of block this editor knows")
    item = parse_id(ref)
    if item is not None and kind in CARD_KINDS:
        block = card_block(db, kind, item, _locale(locale))
    elif kind == form.RAW:
        block = Block(form.RAW, (("mjml", ""),))
    else:
        block = Block(kind, tuple((f.name, f.default) for f in kind_spec(kind).fields))
    row = form.BlockRow(key if form.valid_key(key) else form.new_key(), block)
    return fragment(
        "content/_block.html",
        row=row,
        spec=kind_spec,
        ref_choices=_ref_choices(db),
        can_edit=True,
        locale=_locale(locale),
    )


@post("/content/new/blocks", guards=[ui_roles(*MARKETING)], sync_to_thread=True)
def create_from_blocks(db: Db, principal: Me, data: FormData) -> Redirect:
    """A new template from the blank block layout, in English and Russian, opened in blocks."""
    name = str(data.get("name", "")).strip() or "New e-mail"
    kind = "internal" if data.get("kind") == "internal" else "marketing"
    variants = {
        locale: store.VariantInput(name, form.body(_blank(locale, kind)), "") for locale in LOCALES
    }
    template = store.create_template(
        db,
        name=name,
        variants=variants,
        kind=TemplateKind.INTERNAL.value if kind == "internal" else TemplateKind.MARKETING.value,
        actor=principal.actor,
    )
    return Redirect(f"/content/{template.id}/blocks?locale=en", status_code=303)


def _blank(locale: str, kind: str) -> form.BlockEditorState:
    return form.from_document(
        name="",
        locale=locale,
        subject="",
        preheader="",
        document=new_document(locale, kind),  # type: ignore[arg-type]
    )


@post(
    "/content/{template_id:int}/blocks/preview", guards=[ui_roles(*EVERYONE)], sync_to_thread=True
)
def preview_blocks(
    request: Request[Any, Any, Any], db: Db, template_id: FromPath[int], data: FormData
) -> Template:
    """The unsaved blocks rendered for the chosen contact, as the sent e-mail would be."""
    locale = _locale(data.get("locale"))
    state = form.from_form(data, locale=locale)
    return preview_fragment(
        request,
        db,
        template_id=template_id,
        contact_id=parse_id(data.get("contact_id", "")),
        locale=locale,
        draft=store.VariantInput(state.subject or " ", form.body(state), state.preheader),
    )


@post("/content/{template_id:int}/blocks/check", guards=[ui_roles(*EVERYONE)], sync_to_thread=True)
def check_blocks(
    request: Request[Any, Any, Any], db: Db, template_id: FromPath[int], data: FormData
) -> Template:
    """The pre-save check of the unsaved blocks (and the other languages as saved), each
    finding linking to its block."""
    state = form.from_form(data, locale=_locale(data.get("locale")))
    variants = _variants(db, template_id, state)
    return check_fragment(request, db, template_id, variants, active=state.locale, block_links=True)


handlers = [
    block_editor,
    save_blocks,
    new_block,
    create_from_blocks,
    preview_blocks,
    check_blocks,
]
