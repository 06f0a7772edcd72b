"""What the block editor posts: one locale's blocks as the page's inputs name them."""

from __future__ import annotations

from templates.blocks import Document, read


def blocks_form(
    body: str,
    *,
    locale: str = "en",
    name: str = "Guide",
    subject: str = "Hi {{ contact.first_name }}",
    preheader: str = "",
) -> dict[str, str]:
    """The fields of the block editor holding `body` read as blocks (keys b0, b1...)."""
    return document_form(read(body), locale=locale, name=name, subject=subject, preheader=preheader)


def document_form(
    doc: Document,
    *,
    locale: str = "en",
    name: str = "Guide",
    subject: str = "Hi",
    preheader: str = "",
) -> dict[str, str]:
    form = {
        "name": name,
        "locale": locale,
        "subject": subject,
        "preheader": preheader,
        "doc_head": doc.head,
        "doc_tail": doc.tail,
        "blocks_order": " ".join(f"b{n}" for n in range(len(doc.blocks))),
    }
    for n, block in enumerate(doc.blocks):
        form[f"block_kind__b{n}"] = block.kind
        for field, value in block.fields:
            form[f"block__b{n}__{field}"] = value
    return form
