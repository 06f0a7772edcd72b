"""The built-in kinds of block and how each is written as MJML.

Each kind is one `<mj-section>` (or, for the header and footer, one `<mj-wrapper>`) whose
`css-class` starts with the marker `nb-<kind>`; the class `pad` after it narrows the side
padding on phones (see the starters' head). The markup is the starters' own, so a starter
converted to blocks looks as it did: the eyebrow, headline, subhead, muted and panel styles
are the `mj-class`es of the shared head, and every colour that is the brand's defaults to
`{{ brand.color }}`, which the renderer fills from the brand settings.

Field values go in as they are (inline HTML and Jinja included). Attribute values (links,
image addresses, colours) sit in double quotes, so a value holding `"` cannot be read back
as typed; the editor's form refuses one.
"""

from __future__ import annotations

from templates.blocks.model import Block, FieldSpec, KindSpec
from templates.blocks.registry import register_kind

BRAND_COLOR = "{{ brand.color }}"
BRAND_LOGO = "{{ brand.logo_url }}"
UNSUBSCRIBE_URL = "{{ unsubscribe_url }}"


def section(
    kind: str, body: str, *, attributes: str = "", column: str = "", classes: str = ""
) -> str:
    """One block's section around `body` (lines indented eight spaces, each ending in a
    newline): the marker class, any further `classes` (a card's `nb-ref-12`), the phone
    padding class, optional section and column attributes (each with its leading space)."""
    extra = f" {classes}" if classes else ""
    return (
        f'    <mj-section css-class="nb-{kind}{extra} pad"{attributes}>\n'
        f"      <mj-column{column}>\n"
        f"{body}"
        "      </mj-column>\n"
        "    </mj-section>\n"
    )


# --- header -------------------------------------------------------------------------------


def _header(block: Block) -> str:
    # A wrapper, so the grey gap above the card and the card's top edge (brand-coloured
    # border, rounded corners) are one block: the editor moves or deletes them together.
    return (
        '    <mj-wrapper css-class="nb-header" padding="24px 0 0">\n'
        f'      <mj-section css-class="pad" border-top="4px solid {BRAND_COLOR}" '
        'border-radius="8px 8px 0 0" padding="24px 32px 8px">\n'
        "        <mj-column>\n"
        f'          <mj-image src="{block.get("logo")}" alt="{block.get("alt")}" '
        f'width="{block.get("width")}px" align="left" padding="0" />\n'
        "        </mj-column>\n"
        "      </mj-section>\n"
        "    </mj-wrapper>\n"
    )


HEADER = KindSpec(
    "header",
    "Header with logo",
    (
        FieldSpec("logo", "Logo", "image", BRAND_LOGO),
        FieldSpec("alt", "Logo text for readers who do not see images", "line", "{{ brand.name }}"),
        FieldSpec("width", "Logo width (px)", "number", "150"),
    ),
)


# --- heading ------------------------------------------------------------------------------

_HEADING_STYLE = {
    # Inline styles reset the browser's h1/h2 margins and sizes, so the mj-class decides
    # the look and the heading element only tells screen readers what it is.
    "1": (
        ' mj-class="headline" css-class="headline"',
        "margin:0;font-size:inherit;line-height:inherit;font-weight:inherit;",
    ),
    "2": (' mj-class="subhead"', "margin:0;font-size:inherit;line-height:inherit;"),
}


def _heading(block: Block) -> str:
    level = block.get("level")
    attributes, style = _HEADING_STYLE[level]
    text = block.get("text")
    return section(
        "heading",
        f'        <mj-text{attributes}><h{level} style="{style}">{text}</h{level}></mj-text>\n',
    )


HEADING = KindSpec(
    "heading",
    "Heading",
    (
        FieldSpec("text", "Heading", "line", ""),
        FieldSpec("level", "Size", "select", "1", (("1", "Title"), ("2", "Subheading"))),
    ),
)


# --- text ---------------------------------------------------------------------------------

_TEXT_STYLE = {
    "body": ("", "", ""),
    "muted": (' mj-class="muted"', "", ""),
    "eyebrow": (' mj-class="eyebrow"', "", ""),
    # A tinted box: the column carries the panel, so the text sits flush inside it.
    "panel": (' padding="0"', ' padding="8px 32px"', ' mj-class="panel"'),
}


def _text(block: Block) -> str:
    text_attributes, section_attributes, column = _TEXT_STYLE[block.get("style")]
    return section(
        "text",
        f"        <mj-text{text_attributes}>{block.get('text')}</mj-text>\n",
        attributes=section_attributes,
        column=column,
    )


TEXT = KindSpec(
    "text",
    "Text",
    (
        FieldSpec("text", "Text", "html", ""),
        FieldSpec(
            "style",
            "Style",
            "select",
            "body",
            (
                ("body", "Body text"),
                ("muted", "Small grey text"),
                ("eyebrow", "Eyebrow (small capitals above a title)"),
                ("panel", "Tinted box"),
            ),
        ),
    ),
)


# --- image --------------------------------------------------------------------------------


def _image(block: Block) -> str:
    # Without a link, no `href` at all: mjml wraps the image in `<a href="">` otherwise.
    href = block.get("href")
    link = f' href="{href}"' if href else ""
    return section(
        "image",
        f'        <mj-image src="{block.get("src")}" alt="{block.get("alt")}" '
        f'width="{block.get("width")}px"{link} padding="8px 0" />\n',
    )


IMAGE = KindSpec(
    "image",
    "Image",
    (
        FieldSpec("src", "Image", "image", ""),
        FieldSpec("alt", "Text for readers who do not see images", "line", ""),
        FieldSpec("width", "Width (px, at most 536)", "number", "536"),
        FieldSpec("href", "Link (optional)", "url", ""),
    ),
)


# --- button -------------------------------------------------------------------------------


def _button(block: Block) -> str:
    return section(
        "button",
        f'        <mj-button href="{block.get("href")}" background-color="{block.get("color")}">'
        f"{block.get('label')}</mj-button>\n",
    )


BUTTON = KindSpec(
    "button",
    "Button",
    (
        FieldSpec("label", "Label", "line", ""),
        FieldSpec("href", "Link", "url", "https://"),
        FieldSpec("color", "Colour", "color", BRAND_COLOR),
    ),
)


# --- columns ------------------------------------------------------------------------------


def _columns(block: Block) -> str:
    # Two columns of text with a 24 px gutter; on phones mjml stacks them.
    return (
        '    <mj-section css-class="nb-columns pad">\n'
        "      <mj-column>\n"
        f'        <mj-text padding="8px 12px 8px 0">{block.get("left")}</mj-text>\n'
        "      </mj-column>\n"
        "      <mj-column>\n"
        f'        <mj-text padding="8px 0 8px 12px">{block.get("right")}</mj-text>\n'
        "      </mj-column>\n"
        "    </mj-section>\n"
    )


COLUMNS = KindSpec(
    "columns",
    "Two columns",
    (
        FieldSpec("left", "Left column", "html", ""),
        FieldSpec("right", "Right column", "html", ""),
    ),
)


# --- divider, spacer ----------------------------------------------------------------------


def _divider(block: Block) -> str:
    return section("divider", "        <mj-divider />\n")


DIVIDER = KindSpec("divider", "Divider line")


def _spacer(block: Block) -> str:
    return section("spacer", f'        <mj-spacer height="{block.get("height")}px" />\n')


SPACER = KindSpec("spacer", "Space", (FieldSpec("height", "Height (px)", "number", "24"),))


# --- signature ----------------------------------------------------------------------------

# The rep's details are the send's, not the template's: whoever owns the contact signs.
_SIGNATURE_DETAILS = (
    "{% if rep.title %}{{ rep.title }}, {% endif %}{{ brand.name }}<br />"
    '<a href="mailto:{{ rep.email }}">{{ rep.email }}</a>'
    "{% if rep.phone %} · <a href=\"tel:{{ rep.phone | replace(' ', '') }}\">{{ rep.phone }}</a>"
    "{% endif %}"
)


def _signature(block: Block) -> str:
    return section(
        "signature",
        "        <mj-divider />\n"
        f'        <mj-text padding="0">{block.get("closing")}<br /><strong>{{{{ rep.name }}}}'
        "</strong></mj-text>\n"
        f'        <mj-text mj-class="muted" padding="0">{_SIGNATURE_DETAILS}</mj-text>\n',
    )


SIGNATURE = KindSpec(
    "signature",
    "Signature",
    (FieldSpec("closing", "Closing words", "line", "Best regards,"),),
)


# --- footer -------------------------------------------------------------------------------

_CARD_BOTTOM = (
    '      <mj-section css-class="pad" border-radius="0 0 8px 8px" padding="8px 32px 24px">'
    '<mj-column><mj-spacer height="1px" /></mj-column></mj-section>\n'
)
_ADDRESS = "{{ brand.name }}{% if brand.address %} · {{ brand.address }}{% endif %}"


def _footer(block: Block) -> str:
    # Marketing mail must carry the sender's postal address and an unsubscribe link (anti-spam
    # law, and the check refuses marketing mail without the link), so the footer writes both
    # itself; the marketer chooses only the words. Internal mail has neither.
    line = '          <mj-text mj-class="footer" css-class="footer">{}</mj-text>\n'
    if block.get("audience") == "marketing":
        lines = line.format(_ADDRESS) + line.format(
            f'{block.get("note")} <a href="{UNSUBSCRIBE_URL}" '
            f'style="color:#4b5563;text-decoration:underline;">{block.get("unsubscribe")}</a>.'
        )
    else:
        lines = line.format(block.get("note"))
    # The wrapper holds the card's rounded bottom edge and the grey footer below it.
    return (
        '    <mj-wrapper css-class="nb-footer" padding="0">\n'
        f"{_CARD_BOTTOM}"
        '      <mj-section background-color="#f3f4f6" padding="20px 32px 32px">\n'
        "        <mj-column>\n"
        f"{lines}"
        "        </mj-column>\n"
        "      </mj-section>\n"
        "    </mj-wrapper>\n"
    )


FOOTER = KindSpec(
    "footer",
    "Footer",
    (
        FieldSpec(
            "audience",
            "Mail for",
            "select",
            "marketing",
            (
                ("marketing", "Contacts (with address and unsubscribe link)"),
                ("internal", "Our team (no unsubscribe link)"),
            ),
        ),
        FieldSpec(
            "note",
            "Why they get this e-mail",
            "html",
            "You are receiving this e-mail because you are in touch with {{ brand.name }}. "
            "Not what you want?",
        ),
        FieldSpec(
            "unsubscribe",
            "Unsubscribe link text",
            "line",
            "Unsubscribe or choose what we send you",
        ),
    ),
)


for _spec, _writer in (
    (HEADER, _header),
    (HEADING, _heading),
    (TEXT, _text),
    (IMAGE, _image),
    (BUTTON, _button),
    (COLUMNS, _columns),
    (DIVIDER, _divider),
    (SPACER, _spacer),
    (SIGNATURE, _signature),
    (FOOTER, _footer),
):
    register_kind(_spec, _writer)
