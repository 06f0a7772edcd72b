"""The starter templates through the real renderer: tracked links, the recipient's own
unsubscribe link, a plain-text part, and the NPS scores still in order behind tracking."""

from __future__ import annotations

import pytest

from templates.library import StarterTemplate, Variant, starter_template
from templates.render import compile_template
from tests.templates_library.rendering import ALL_VARIANTS, VARIANT_IDS, links_of

BASE_URL = "https://mail.nurture.test"
SECRET = b"k" * 32
variants = pytest.mark.parametrize(("template", "variant"), ALL_VARIANTS, ids=VARIANT_IDS)


@variants
def test_renderer_produces_subject_html_and_text_for_the_sample_contact(
    template: StarterTemplate, variant: Variant
) -> None:
    compiled = compile_template(
        variant.subject, variant.preheader, variant.body, sample_context=variant.sample_context()
    )
    context = variant.sample_context()
    context.pop("unsubscribe_url", None)  # the renderer makes the recipient's own
    rendered = compiled.render(
        context, message_id=7, base_url=BASE_URL, secret=SECRET, contact_id=42
    )
    assert rendered.subject.strip()
    assert rendered.preheader.strip()
    assert rendered.text.strip()
    assert context["rep"]["name"] in rendered.text
    assert compiled.uses_unsubscribe_link == template.is_marketing
    hrefs = [href for href, _ in links_of(rendered.html)]
    if template.is_marketing:
        assert rendered.unsubscribe_url is not None
        assert rendered.unsubscribe_url.startswith(BASE_URL + "/u/")
        assert rendered.unsubscribe_url in hrefs
    web = [href for href in hrefs if href.startswith("http")]
    assert web
    # Every web link leaves through the redirector except the unsubscribe link.
    assert all(h.startswith(BASE_URL + "/") for h in web)


def test_nps_scores_stay_in_order_behind_tracked_links() -> None:
    for variant in starter_template("nps").variants.values():
        context = variant.sample_context()
        links = context["nps_links"]
        compiled = compile_template(variant.subject, variant.preheader, variant.body)
        rendered = compiled.render(
            context, message_id=9, base_url=BASE_URL, secret=SECRET, contact_id=3
        )
        assert [target for target in rendered.links if target in links] == links
        scores = [text for _, text in links_of(rendered.html) if text.isdigit()]
        assert scores == [str(score) for score in range(11)]
