"""write(read(s)) == s for every string, and typed documents reopen as the same blocks."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from templates.blocks import KINDS, Block, Document, kind_spec, new_document, read, write
from templates.blocks.model import FieldSpec
from templates.library import starter_templates

STARTERS = [v.body for t in starter_templates() for v in t.variants.values()]

# Pieces MJML is made of, so random text often looks like MJML: tags, Jinja in and between
# elements, comments, bare `<` and `&`, whitespace.
MJML_PIECES = [
    "<mjml>",
    "</mjml>",
    "<mj-body>",
    '<mj-body width="600px">\n',
    "</mj-body>",
    "<mj-section>",
    '<mj-section css-class="nb-text pad">',
    '<mj-section css-class="nb-divider pad">\n',
    '<mj-wrapper css-class="nb-footer" padding="0">',
    "</mj-section>",
    "</mj-wrapper>",
    "<mj-column>",
    "</mj-column>",
    "<mj-text>",
    "</mj-text>",
    '<mj-button href="{{ x }}">',
    "</mj-button>",
    "<mj-divider />",
    '<mj-image src="a.png" />',
    "<mj-raw>",
    "</mj-raw>",
    "{% if a %}",
    "{% endif %}",
    "{% for x in y %}",
    "{% endfor %}",
    "{{ contact.first_name | default('there', true) }}",
    '{{ "<mj-section>" }}',
    "{# note #}",
    "<!-- c -->",
    "<!--",
    "-->",
    "a < b",
    "&amp;",
    "&",
    "<",
    ">",
    '"',
    "'",
    "/>",
    "\n",
    "    ",
    "\r\n",
    "Hi",
    "Привет",
]


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_text_survives_reading_and_writing(text: str) -> None:
    assert write(read(text)) == text


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(MJML_PIECES) | st.text(max_size=3), max_size=40))
def test_any_mjml_like_text_survives_reading_and_writing(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert write(read(text)) == text


@st.composite
def mutated_starters(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(STARTERS))
    for _ in range(draw(st.integers(1, 4))):
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, min(len(text), start + 200)))
        insert = draw(st.sampled_from(["", *MJML_PIECES]) | st.text(max_size=5))
        text = text[:start] + insert + text[end:]
    return text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_starters())
def test_mutated_starters_survive_reading_and_writing(text: str) -> None:
    document = read(text)
    assert write(document) == text
    # Whatever was typed reads back the same once written.
    assert read(write(document)) == document


# Field values made of what marketers type: words in both languages, inline HTML, Jinja,
# entities and bare `<`/`&`. Attribute values (links, images, colours) hold no `"`.
TEXT_PIECES = [
    "Hello",
    "Привет, мир",
    " ",
    "\n",
    "<strong>",
    "</strong>",
    "<br />",
    '<a href="https://example.com/?a=1&b=2">',
    "</a>",
    "{{ contact.first_name | default('there', true) }}",
    "{% if rep.phone %}{{ rep.phone }}{% endif %}",
    "&amp;",
    "&nbsp;",
    "a < b",
    "&",
    "“quoted”",
    "</h1>",
]
ATTRIBUTE_PIECES = [
    "https://example.com/",
    "{{ article.url }}",
    "?a=1&b=2",
    "#top",
    "{{ brand.color }}",
    "x",
]


def values(spec: FieldSpec) -> st.SearchStrategy[str]:
    if spec.input == "select":
        return st.sampled_from([value for value, _ in spec.choices])
    if spec.input == "number":
        return st.from_regex(r"[0-9]{1,4}", fullmatch=True)
    if spec.input in ("url", "image", "color"):
        return st.lists(st.sampled_from(ATTRIBUTE_PIECES), max_size=4).map("".join)
    return st.lists(st.sampled_from(TEXT_PIECES), max_size=8).map("".join)


@st.composite
def typed_blocks(draw: st.DrawFn) -> Block:
    kind = draw(st.sampled_from([k for k in KINDS if k not in ("raw", "case_study", "webinar")]))
    spec = kind_spec(kind)
    fields = {f.name: draw(values(f)) for f in spec.fields}
    block = Block.make(kind, **fields)
    if kind == "footer" and block.get("audience") == "internal":
        # Internal mail has no unsubscribe link, so its text is not written: it reads back
        # as the default.
        block = block.replace(unsubscribe=spec.field("unsubscribe").default)
    return block


RAW_SECTIONS = [
    '    <mj-section css-class="pad"><mj-column><mj-text>a < b</mj-text></mj-column>'
    "</mj-section>\n",
    "    {% if show %}\n    <mj-section><mj-column><mj-divider /></mj-column></mj-section>\n"
    "    {% endif %}\n",
    "    <!-- kept -->\n",
]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        typed_blocks() | st.sampled_from(RAW_SECTIONS).map(lambda t: Block.make("raw", mjml=t))
    ),
    st.sampled_from(["en", "ru"]),
)
def test_a_document_built_from_blocks_reopens_as_the_same_blocks(
    blocks: list[Block], locale: str
) -> None:
    blank = new_document(locale, "marketing")
    document = Document(blank.head, tuple(blocks), blank.tail)
    assert read(write(document)) == document
