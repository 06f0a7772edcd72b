"""Any card the editor can build reopens as the same card (Hypothesis)."""

from __future__ import annotations

from datetime import UTC

from hypothesis import given, settings
from hypothesis import strategies as st

from templates.blocks import Block, Document, FieldSpec, kind_spec, new_document, read, write

TEXT = [
    "Contract review",
    "Обзор договоров",
    " ",
    "\n",
    "<strong>",
    "</strong>",
    "<br />",
    "&amp;",
    "&#123;",
    "a < b",
    " · ",
    "</h2>",
    "{{ contact.first_name | default('there', true) }}",
]
LINKS = ["https://firm.example/", "?a=1&amp;b=2", "#top", "{{ brand.website }}", ""]
INSTANTS = st.datetimes(timezones=st.just(UTC)).map(lambda moment: moment.isoformat())


def values(spec: FieldSpec) -> st.SearchStrategy[str]:
    if spec.input == "select":
        return st.sampled_from([value for value, _ in spec.choices])
    if spec.input == "ref":
        return st.from_regex(r"[1-9][0-9]{0,6}", fullmatch=True)
    if spec.name in ("starts_at", "ends_at"):
        return INSTANTS
    if spec.input == "url":
        return st.lists(st.sampled_from(LINKS), max_size=3).map("".join)
    return st.lists(st.sampled_from(TEXT), max_size=6).map("".join)


@st.composite
def cards(draw: st.DrawFn) -> Block:
    spec = kind_spec(draw(st.sampled_from(["case_study", "webinar"])))
    return Block.make(spec.kind, **{f.name: draw(values(f)) for f in spec.fields})


# No deadline: speed is for benchmarks, and on a shared machine a wall-clock limit is noise.
@settings(max_examples=200, deadline=None)
@given(st.lists(cards(), min_size=1, max_size=4), st.sampled_from(["en", "ru"]))
def test_a_document_of_cards_reopens_as_the_same_cards(blocks: list[Block], locale: str) -> None:
    blank = new_document(locale, "marketing")
    document = Document(blank.head, (*blank.blocks[:3], *blocks, *blank.blocks[3:]), blank.tail)

    assert read(write(document)) == document
