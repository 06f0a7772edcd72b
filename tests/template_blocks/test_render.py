"""A document built from every built-in kind compiles in the sandbox and sends what it says."""

from __future__ import annotations

import pytest

from templates.blocks import Block, Document, available_kinds, new_document, write
from templates.library import starter_template
from templates.render import compile_template

BLOCKS = (
    Block.make("header"),
    Block.make("heading", text="Hello {{ contact.first_name | default('there', true) }}"),
    Block.make("heading", text="Details", level="2"),
    Block.make("text", text="Body with <strong>bold</strong> &amp; more", style="body"),
    Block.make("text", text="Small print", style="muted"),
    Block.make("text", text="Eyebrow", style="eyebrow"),
    Block.make("text", text="In a box", style="panel"),
    Block.make("image", src="https://cdn.example.com/a.png", alt="A chart", width="300"),
    Block.make(
        "image", src="https://cdn.example.com/b.png", alt="Linked", href="https://example.com/b"
    ),
    Block.make("button", label="Read it", href="https://example.com/read"),
    Block.make("columns", left="Left side", right="Right side"),
    Block.make("divider"),
    Block.make("spacer", height="32"),
    Block.make("signature", closing="Best regards,"),
)


@pytest.mark.parametrize("audience", ["marketing", "internal"])
def test_every_built_in_kind_compiles_and_renders(audience: str) -> None:
    assert {b.kind for b in BLOCKS} | {"footer", "raw"} == set(available_kinds()) - {
        "case_study",
        "webinar",
    }
    blank = new_document("en", audience)  # type: ignore[arg-type]
    document = Document(blank.head, (*BLOCKS, blank.blocks[-1]), blank.tail)
    sample = starter_template("educational").variants["en"].sample_context()
    compiled = compile_template("Subject", "Preheader", write(document), tracking=False)
    html = compiled.render_slow(
        sample, message_id=1, base_url="https://mail.example", secret=b"k" * 32, contact_id=3
    ).html
    assert f"Hello {sample['contact']['first_name']}" in html
    assert "Body with <strong>bold</strong> &amp; more" in html
    assert 'alt="A chart"' in html
    assert 'href=""' not in html
    assert 'href="https://example.com/b"' in html
    assert 'href="https://example.com/read"' in html
    assert sample["brand"]["color"] in html
    assert sample["rep"]["name"] in html
    assert ("Unsubscribe or choose what we send you</a>" in html) == (audience == "marketing")
    assert (sample["brand"]["address"] in html) == (audience == "marketing")
