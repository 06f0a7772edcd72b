"""Links are tracked through signed tokens; the unsubscribe link and opt-outs are not."""

from __future__ import annotations

import re

import pytest

from templates.context import sample_context
from templates.render import RenderedEmail, compile_template, signer_for
from tests.templates.helpers import BASE_URL, SECRET, mjml

BODY = mjml(
    '<mj-text><a href="https://example.net/one?a=1&amp;b=2">One</a>\n'
    '<a href="{{ case_study.url }}">Case</a>\n'
    '<a href="https://example.net/quiet" data-notrack>Quiet</a>\n'
    '<a href="mailto:hello@example.net">Mail</a>\n'
    '<a href="{{ unsubscribe_url }}">Unsubscribe</a></mj-text>\n'
    '<mj-button href="https://example.net/one?a=1&amp;b=2">Again</mj-button>'
)


def _render(tracking: bool = True, message_id: int = 41) -> RenderedEmail:
    compiled = compile_template("s", "", BODY, tracking=tracking)
    return compiled.render(
        sample_context(), message_id=message_id, contact_id=9, base_url=BASE_URL, secret=SECRET
    )


def _hrefs(html: str) -> list[str]:
    return re.findall(r'<a [^>]*href="([^"]*)"', html)


def test_every_http_link_is_rewritten_and_its_target_recorded_in_order() -> None:
    rendered = _render()
    assert rendered.links == (
        "https://example.net/one?a=1&b=2",
        "https://example.net/cases/manufacturing",
        "https://example.net/one?a=1&b=2",
    )
    signer = signer_for(SECRET)
    tracked = [h for h in _hrefs(rendered.html) if h.startswith(f"{BASE_URL}/t/c/")]
    assert len(tracked) == 3
    refs = [signer.verify_click(h.rsplit("/", 1)[1]) for h in tracked]
    assert [(r.message_id, r.link_index) for r in refs] == [(41, 0), (41, 1), (41, 2)]


def test_original_targets_do_not_appear_in_tracked_links() -> None:
    rendered = _render()
    assert "example.net/one" not in rendered.html
    assert "cases/manufacturing" not in rendered.html


def test_unsubscribe_notrack_and_mailto_links_are_left_alone() -> None:
    rendered = _render()
    hrefs = _hrefs(rendered.html)
    assert rendered.unsubscribe_url in hrefs
    assert rendered.unsubscribe_url is not None
    assert rendered.unsubscribe_url.startswith(f"{BASE_URL}/u/")
    assert "https://example.net/quiet" in hrefs
    assert "mailto:hello@example.net" in hrefs


def test_unsubscribe_token_identifies_contact_and_message() -> None:
    rendered = _render()
    assert rendered.unsubscribe_url is not None
    ref = signer_for(SECRET).verify_unsubscribe(rendered.unsubscribe_url.rsplit("/", 1)[1])
    assert (ref.contact_id, ref.message_id) == (9, 41)


def test_open_pixel_sits_before_the_end_of_the_body() -> None:
    rendered = _render()
    pixel = re.search(
        rf'<img src="{re.escape(BASE_URL)}/t/o/([\w-]+)" width="1" height="1"', rendered.html
    )
    assert pixel is not None
    assert pixel.end() < rendered.html.index("</body>")
    assert signer_for(SECRET).verify_open(pixel.group(1)) == 41


def test_text_part_uses_the_same_tracked_links() -> None:
    rendered = _render()
    html_links = {h for h in _hrefs(rendered.html) if "/t/c/" in h}
    text_links = set(re.findall(rf"{re.escape(BASE_URL)}/t/c/[\w-]+", rendered.text))
    assert text_links
    assert text_links <= html_links
    assert "https://example.net/quiet" in rendered.text
    assert "example.net/one" not in rendered.text


def test_links_in_a_written_text_body_are_tracked_too() -> None:
    compiled = compile_template(
        "s", "", BODY, "See https://example.net/one?a=1&b=2 and https://example.net/only-text."
    )
    rendered = compiled.render(
        sample_context(), message_id=3, contact_id=9, base_url=BASE_URL, secret=SECRET
    )
    assert rendered.links[-1] == "https://example.net/only-text"
    assert "example.net" not in rendered.text
    assert rendered.text.endswith(".")


def test_tracking_off_leaves_links_untouched_and_adds_no_pixel() -> None:
    rendered = _render(tracking=False)
    assert rendered.links == ()
    assert "/t/c/" not in rendered.html
    assert "/t/o/" not in rendered.html
    assert "https://example.net/one?a=1&amp;b=2" in rendered.html
    assert "https://example.net/cases/manufacturing" in rendered.html


@pytest.mark.parametrize("slow", [False, True])
def test_each_message_gets_its_own_tokens(slow: bool) -> None:
    compiled = compile_template("s", "", BODY)
    render = compiled.render_slow if slow else compiled.render
    first = render(sample_context(), message_id=1, contact_id=9, base_url=BASE_URL, secret=SECRET)
    second = render(sample_context(), message_id=2, contact_id=9, base_url=BASE_URL, secret=SECRET)
    assert set(_hrefs(first.html)).isdisjoint(h for h in _hrefs(second.html) if "/t/c/" in h)
