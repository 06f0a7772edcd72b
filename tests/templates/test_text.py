"""Plain text made from HTML is readable."""

from __future__ import annotations

from templates.compile import mjml_to_html
from templates.text import html_to_text
from tests.templates.helpers import mjml


def test_headings_paragraphs_links_lists_and_buttons() -> None:
    html = mjml_to_html(
        mjml(
            '<mj-text><h1>Hello Ada</h1><p>See <a href="https://x.test/a?b=1&amp;c=2">our'
            " study</a> &amp; more.</p><ul><li>one</li><li>two</li></ul>"
            "<ol><li>first</li></ol></mj-text>"
            '<mj-button href="https://x.test/go">Register now</mj-button>'
            '<mj-text>Bye<br />Charles <a href="https://x.test/">https://x.test/</a></mj-text>',
            head="<mj-preview>Hidden preview</mj-preview><mj-style>.a { color: red; }</mj-style>",
        )
    )
    assert html_to_text(html) == (
        "Hello Ada\n\n"
        "See our study (https://x.test/a?b=1&c=2) & more.\n\n"
        "- one\n- two\n\n"
        "- first\n\n"
        "Register now (https://x.test/go)\n\n"
        "Bye\nCharles https://x.test/\n"
    )


def test_style_script_and_hidden_elements_are_dropped() -> None:
    html = (
        "<html><head><title>T</title><style>p{}</style></head><body>"
        '<script>alert(1)</script><div style="display: none">secret</div><p>shown</p>'
        "</body></html>"
    )
    assert html_to_text(html) == "shown\n"


def test_linked_image_uses_its_alt_text() -> None:
    html = '<p><a href="https://x.test/"><img src="l.png" alt="Logo"></a></p>'
    assert html_to_text(html) == "Logo (https://x.test/)\n"
