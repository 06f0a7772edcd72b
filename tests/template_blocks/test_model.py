from __future__ import annotations

import pytest

from templates.blocks import (
    KINDS,
    Block,
    Document,
    FieldSpec,
    KindSpec,
    kind_spec,
    new_document,
    read,
    read_block,
    register_kind,
    write,
    write_block,
)
from templates.blocks.kinds import section
from templates.compile import mjml_to_html


def test_every_built_in_kind_writes_one_block_that_reads_back_as_itself() -> None:
    head = new_document("en", "marketing").head
    for kind in KINDS:
        if kind in ("case_study", "webinar", "raw"):
            continue
        block = Block.make(kind)
        document = Document(head, (block,), "  </mj-body>\n</mjml>\n")
        assert read(write(document)) == document, kind


@pytest.mark.parametrize("locale", ["en", "ru"])
@pytest.mark.parametrize("kind", ["marketing", "internal"])
def test_the_blank_layout_reopens_as_the_same_blocks_and_compiles(locale: str, kind: str) -> None:
    document = new_document(locale, kind)  # type: ignore[arg-type]
    mjml = write(document)
    assert read(mjml) == document
    assert [b.kind for b in document.blocks] == ["header", "heading", "text", "signature", "footer"]
    html = mjml_to_html(mjml)
    assert ("{{ unsubscribe_url }}" in html) == (kind == "marketing")


def test_block_make_fills_defaults_in_field_order_and_refuses_unknown_fields() -> None:
    block = Block.make("button", href="https://example.com/a", label="Read")
    assert [name for name, _ in block.fields] == [f.name for f in kind_spec("button").fields]
    assert block.get("color") == "{{ brand.color }}"
    assert block.get("nothing") == ""
    with pytest.raises(KeyError):
        Block.make("button", colour="#000000")


def test_a_raw_block_writes_its_text_exactly() -> None:
    text = '    <mj-section><mj-column><mj-text>a < b & "c"</mj-text></mj-column></mj-section>\n'
    assert write_block(Block.make("raw", mjml=text)) == text


def test_another_module_registers_a_kind_whose_reader_comes_from_its_writer() -> None:
    spec = KindSpec(
        "sample_card",
        "Sample card",
        (FieldSpec("ref", "Picked item", "ref"), FieldSpec("title", "Title", "line")),
    )

    def writer(block: Block) -> str:
        body = f"        <mj-text>{block.get('title')}</mj-text>\n"
        return section("sample_card", body, classes=f"nb-ref-{block.get('ref')}")

    register_kind(spec, writer)
    card = Block.make("sample_card", ref="12", title="Nordic <b>Freight</b>")
    text = write_block(card)
    assert 'css-class="nb-sample_card nb-ref-12 pad"' in text
    assert read_block(text) == card
    assert read_block(text.replace("nb-ref-12", "nb-ref-12 extra")).kind == "raw"
