"""A rep without a title and a brand without an address still sign and close cleanly."""

from __future__ import annotations

import re

import pytest

from campaigns.email.mailconfig import default_brand
from templates.context import rep_view
from templates.library import StarterTemplate, Variant
from templates.render import compile_template
from tests.templates_library.rendering import ALL_VARIANTS, VARIANT_IDS

SIGNED = re.compile(r"^(Best regards|С уважением),$", re.MULTILINE)  # noqa: RUF001
variants = pytest.mark.parametrize(("template", "variant"), ALL_VARIANTS, ids=VARIANT_IDS)
# Marketing mail is signed by the contact's rep; internal mail is addressed to one.
SIGNED_VARIANTS = [(t, v) for t, v in ALL_VARIANTS if t.is_marketing]
signed_variants = pytest.mark.parametrize(
    ("template", "variant"),
    SIGNED_VARIANTS,
    ids=[f"{t.name}.{v.locale}" for t, v in SIGNED_VARIANTS],
)


def _text(variant: Variant, rep: dict[str, object], address: str) -> str:
    context = variant.sample_context()
    context.pop("unsubscribe_url", None)
    context["rep"] = rep
    context["brand"] = {**default_brand("Nurture"), "address": address}
    compiled = compile_template(variant.subject, variant.preheader, variant.body)
    rendered = compiled.render(
        context, message_id=1, base_url="https://mail.nurture.test", secret=b"k" * 32, contact_id=2
    )
    return rendered.text


@signed_variants
def test_a_rep_without_a_title_signs_with_the_brand_alone(
    template: StarterTemplate, variant: Variant
) -> None:
    text = _text(variant, rep_view(name="Sam Sales", email="sam@nurture.test"), "")

    assert SIGNED.search(text), "marketing mail ends with a signature"
    assert "Sam Sales\nNurture\nsam@nurture.test" in text


@signed_variants
def test_a_rep_with_a_title_signs_with_title_and_brand(
    template: StarterTemplate, variant: Variant
) -> None:
    rep = rep_view(name="Sam Sales", email="sam@nurture.test", title="Account manager")
    text = _text(variant, rep, "")

    assert SIGNED.search(text), "marketing mail ends with a signature"
    assert "Account manager, Nurture" in text


@variants
def test_the_footer_of_a_brand_without_an_address_does_not_end_in_a_dot(
    template: StarterTemplate, variant: Variant
) -> None:
    text = _text(variant, rep_view(name="Sam Sales", email="sam@nurture.test"), "")

    assert not re.search(r"·\s*$", text, re.MULTILINE)
    if template.is_marketing:
        with_address = _text(variant, rep_view(name="Sam", email="s@n.test"), "1 Main St, Leeds")
        assert "Nurture · 1 Main St, Leeds" in with_address
