"""The personalisation picker: contact, company, sender and brand fields, each inserted as
sandbox-safe Jinja with a fallback. Shared by the block editor and the MJML editor.

The Jinja is written here, on the server (`templates.merge_fields.merge_tag`), so the
quoting of a fallback has one implementation: the page's script only asks for the tag
and puts it at the cursor.
"""

from __future__ import annotations

from litestar import MediaType, get
from litestar.params import FromQuery
from litestar.response import Response, Template

from nurture.errors import InvalidInput
from nurture.web.auth import ui_roles
from nurture.web.ui.render import MARKETING, fragment
from templates.merge_fields import FIELDS, merge_tag

GROUPS = (
    ("contact", "Contact", "Контакт"),
    ("company", "Company", "Компания"),
    ("rep", "Sender", "Отправитель"),
    ("brand", "Our company", "Наша компания"),
)


@get("/content/merge-picker", guards=[ui_roles(*MARKETING)], sync_to_thread=False)
def merge_picker(locale: FromQuery[str] = "en") -> Template:
    """The picker's form (an htmx fragment), its labels in the editor's language."""
    ru = locale.startswith("ru")
    groups = [
        (label_ru if ru else label_en, [f for f in FIELDS if f.group == group])
        for group, label_en, label_ru in GROUPS
    ]
    return fragment(
        "content/_block_merge_fields.html",
        groups=[(label, fields) for label, fields in groups if fields],
        locale="ru" if ru else "en",
    )


@get(
    "/content/merge-tag",
    guards=[ui_roles(*MARKETING)],
    media_type=MediaType.TEXT,
    sync_to_thread=False,
)
def merge_tag_text(path: FromQuery[str], fallback: FromQuery[str] = "") -> Response[str]:
    """The Jinja that prints `path`, or `fallback` for a contact without it."""
    try:
        tag = merge_tag(path, fallback)
    except ValueError as exc:
        raise InvalidInput.single("path" if "field" in str(exc) else "fallback", str(exc)) from exc
    return Response(tag, media_type=MediaType.TEXT)


handlers = [merge_picker, merge_tag_text]
