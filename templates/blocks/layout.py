# ruff: noqa: RUF001  (Russian words: their Cyrillic letters are meant)
"""The blank layout a new e-mail starts from: the starters' head, a header, a heading, a
greeting, the rep's signature and the footer, in English or Russian."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from templates.blocks.model import Block, Document

_SHARED = Path(__file__).resolve().parent.parent / "library" / "_shared"

BODY_OPEN = '  <mj-body background-color="#f3f4f6" width="600px">\n'
TAIL = "  </mj-body>\n</mjml>\n"

# The words of the blank layout; a starter's own words live in templates/library.
_WORDS = {
    "en": {
        "heading": "Your headline",
        "text": "Hi {{ contact.first_name | default('there', true) }},",
        "internal_text": "Hi {{ rep.name }},",
        "closing": "Best regards,",
        "note": "You are receiving this e-mail because you are in touch with {{ brand.name }}. "
        "Not what you want?",
        "unsubscribe": "Unsubscribe or choose what we send you",
        "internal_note": "Internal notification from Nurture for the {{ brand.name }} team. "
        "Please do not forward it outside the company.",
    },
    "ru": {
        "heading": "Ваш заголовок",
        "text": "Здравствуйте, {{ contact.first_name | default('коллега', true) }}!",
        "internal_text": "{{ rep.name }}, здравствуйте!",
        "closing": "С уважением,",
        "note": "Вы получили это письмо, потому что общаетесь с {{ brand.name }}. "
        "Если письма вам больше не нужны,",
        "unsubscribe": "отпишитесь или выберите темы рассылки",
        "internal_note": "Внутреннее уведомление Nurture для сотрудников {{ brand.name }}. "
        "Пожалуйста, не пересылайте его за пределы компании.",
    },
}


def head(locale: str) -> str:
    """The starters' shared head (fonts, styles, the text classes the kinds use) for
    `locale`, up to and including the line that opens `<mj-body>`."""
    text = (_SHARED / "head.mjml").read_text(encoding="utf-8")
    return text.replace("@@LANG@@", locale) + BODY_OPEN


def words(locale: str) -> dict[str, str]:
    """The blank layout's words in `locale` (English for a locale we have no words for)."""
    return _WORDS.get(locale, _WORDS["en"])


def new_document(locale: str, kind: Literal["marketing", "internal"]) -> Document:
    """A new e-mail: header, heading, greeting, signature and footer. Marketing mail gets
    the footer with the address and unsubscribe link; internal mail gets the team note."""
    w = words(locale)
    marketing = kind == "marketing"
    blocks = (
        Block.make("header"),
        Block.make("heading", text=w["heading"]),
        Block.make("text", text=w["text"] if marketing else w["internal_text"]),
        Block.make("signature", closing=w["closing"]),
        Block.make("footer", audience="marketing", note=w["note"], unsubscribe=w["unsubscribe"])
        if marketing
        else Block.make("footer", audience="internal", note=w["internal_note"]),
    )
    return Document(head(locale), blocks, TAIL)
