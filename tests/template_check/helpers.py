"""Small MJML documents for the check's tests: a head, and blocks between."""

from __future__ import annotations

from typing import Any

from templates.blocks import Block, write_block

HEAD = """<mjml>
  <mj-head>
    <mj-attributes>
      <mj-section background-color="#ffffff" />
      <mj-text font-size="16px" color="#1f2937" />
      <mj-class name="quiet" color="#9ca3af" />
      <mj-class name="dark" background-color="#111827" />
    </mj-attributes>
    <mj-style>a { color: {{ brand.color }}; }</mj-style>
  </mj-head>
  <mj-body background-color="#f3f4f6">
"""
TAIL = "  </mj-body>\n</mjml>\n"
UNSUBSCRIBE = (
    '    <mj-section css-class="nb-footer"><mj-column><mj-text>'
    '<a href="{{ unsubscribe_url }}" style="color:#374151">Unsubscribe</a>'
    "</mj-text></mj-column></mj-section>\n"
)
TEXT = "Plenty of words about the project, " * 20
CONTEXT: dict[str, Any] = {
    "brand": {"color": "#2453d4", "name": "Firm"},
    "article": {"url": "https://firm.example/a", "plain": "http://firm.example/b"},
}


def section(inner: str, attrs: str = "") -> str:
    """One block: a section with one column holding `inner`."""
    return f"    <mj-section{attrs}><mj-column>{inner}</mj-column></mj-section>\n"


def document(*blocks: str, unsubscribe: bool = True) -> str:
    """An MJML document of `blocks`, with a typed text block first and a footer last."""
    first = write_block(Block.make("text", text=TEXT))
    return HEAD + first + "".join(blocks) + (UNSUBSCRIBE if unsubscribe else "") + TAIL
