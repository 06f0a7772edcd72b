"""The case-study and webinar cards: blocks filled from the content library.

A card keeps the id of what was picked in its marker class (`nb-case_study nb-ref-12`),
so the editor can fill it again from the library (campaigns.content.card_picks), and the
words it shows as ordinary fields, copied at pick time: the MJML is the e-mail, and a
later edit of the library does not change it behind the marketer's back.

The webinar card writes no date, only the instants (UTC): the sandbox's `local_time`
filter shows each reader the date and time in their own zone, in the card's language
(`locale`, the language of the variant it sits in). Its button is
`{{ 'id' | registration_link }}`: the renderer signs each recipient's own link to the
public registration page, the one the webinar invitation step sends
(templates.webinar_links).

Both writers put every field value in as it is (the block model never escapes), so the
reader is derived from them (templates.blocks.derive).
"""

from __future__ import annotations

from templates.blocks.model import Block, FieldSpec, KindSpec
from templates.blocks.registry import register_kind

_EYEBROW = (
    '<mj-text font-size="13px" line-height="18px" font-weight="700" letter-spacing="1px"'
    ' text-transform="uppercase" color="{{ brand.color }}" padding="0">'
)
_TITLE = (
    '<mj-text font-size="20px" line-height="28px" font-weight="700" color="#111827"'
    ' padding="8px 0 4px"><h2 style="margin:0;font-size:inherit;line-height:inherit;'
    'font-weight:inherit;">'
)
# Between client and industry: markup no one types, so the two always read back apart.
_DOT = '<span class="nb-dot"> · </span>'
_PANEL = '<mj-column background-color="#f3f6fb" border-radius="8px" padding="20px 24px">'
_BUTTON_ATTRIBUTES = 'background-color="{{ brand.color }}" padding="16px 0 0"'
_LANGUAGES = (("en", "English"), ("ru", "Russian"))
# Said after the time, so a reader knows it is already theirs.
_YOUR_TIME = {"en": "your time", "ru": "по вашему времени"}

CASE_STUDY = KindSpec(
    "case_study",
    "Case study card",
    (
        FieldSpec("ref", "Case study", "ref"),
        FieldSpec("eyebrow", "Label above the title", "line", "Case study"),
        FieldSpec("title", "Title", "line"),
        FieldSpec("client", "Client", "line"),
        FieldSpec("industry", "Industry", "line"),
        FieldSpec("summary", "Summary", "html"),
        FieldSpec("result", "Result", "line"),
        FieldSpec("link", "Link to the case study", "url"),
        FieldSpec("label", "Button text", "line", "Read the case study"),
    ),
)

WEBINAR = KindSpec(
    "webinar",
    "Webinar card",
    (
        FieldSpec("ref", "Webinar", "ref"),
        FieldSpec("locale", "Language of the date", "select", "en", _LANGUAGES),
        FieldSpec("eyebrow", "Label above the title", "line", "Live webinar"),
        FieldSpec("title", "Title", "line"),
        FieldSpec("summary", "Summary", "html"),
        FieldSpec("starts_at", "Starts (UTC)", "line"),
        FieldSpec("ends_at", "Ends (UTC)", "line"),
        FieldSpec("label", "Button text", "line", "Register for free"),
    ),
)


def write_case_study(block: Block) -> str:
    """A panel: label, title, client and industry, summary, result, and the button.

    Every field is written, the button too (a card whose story has no link shows the
    button without one until she gives it one or deletes the card): a field the MJML
    did not hold would be lost when the card is read back."""
    return (
        f'    <mj-section css-class="nb-case_study nb-ref-{block.get("ref")} pad"'
        ' padding="8px 32px">\n'
        f"      {_PANEL}\n"
        f"        {_EYEBROW}{block.get('eyebrow')}</mj-text>\n"
        f"        {_TITLE}{block.get('title')}</h2></mj-text>\n"
        '        <mj-text font-size="14px" line-height="22px" color="#4b5563" padding="0 0 8px">'
        f"{block.get('client')}{_DOT}{block.get('industry')}</mj-text>\n"
        '        <mj-text padding="4px 0"><p style="margin:0 0 8px;">'
        f'{block.get("summary")}</p><p style="margin:0;font-weight:700;color:#111827;">'
        f"{block.get('result')}</p></mj-text>\n"
        f'        <mj-button href="{block.get("link")}" {_BUTTON_ATTRIBUTES}>'
        f"{block.get('label')}</mj-button>\n"
        "      </mj-column>\n"
        "    </mj-section>\n"
    )


def write_webinar(block: Block) -> str:
    """A panel: label, title, summary, when (in the reader's zone) and the register button."""
    ref, lang = block.get("ref"), block.get("locale")
    starts, ends = block.get("starts_at"), block.get("ends_at")

    def local(instant: str, part: str) -> str:
        return f"{{{{ '{instant}' | local_time('{part}', '{lang}') }}}}"

    return (
        f'    <mj-section css-class="nb-webinar nb-ref-{ref} pad" padding="8px 32px">\n'
        f"      {_PANEL}\n"
        f"        {_EYEBROW}{block.get('eyebrow')}</mj-text>\n"
        f"        {_TITLE}{block.get('title')}</h2></mj-text>\n"
        f'        <mj-text padding="4px 0">{block.get("summary")}</mj-text>\n'
        f'        <mj-text padding="4px 0"><strong>{local(starts, "date")}</strong><br />'
        f"{local(starts, 'time')}\u2013{local(ends, 'time')} "
        f'<span style="color:#4b5563;">({_YOUR_TIME.get(lang, _YOUR_TIME["en"])}, '
        f"{local(starts, 'zone')})</span></mj-text>\n"
        f"        <mj-button href=\"{{{{ '{ref}' | registration_link }}}}\" {_BUTTON_ATTRIBUTES}>"
        f"{block.get('label')}</mj-button>\n"
        "      </mj-column>\n"
        "    </mj-section>\n"
    )


register_kind(CASE_STUDY, write_case_study)
register_kind(WEBINAR, write_webinar)
