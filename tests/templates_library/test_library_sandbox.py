"""The starter templates pass the real sandbox and compiler: nothing refused, MJML
compiled once for a bulk send, and sparse recipients still read naturally."""

from __future__ import annotations

from typing import Any

import pytest
from mjml import mjml2html

from templates.compile import compile_body, mjml_to_html
from templates.context import ALLOWED_NAMES, check_context, contact_view, rep_view
from templates.library import StarterTemplate, Variant, starter_template
from templates.marks import restore
from templates.problems import Part
from templates.sandbox import environment, static_problems
from tests.templates_library.rendering import ALL_VARIANTS, VARIANT_IDS, links_of

variants = pytest.mark.parametrize(("template", "variant"), ALL_VARIANTS, ids=VARIANT_IDS)


@variants
def test_sandbox_finds_nothing_to_refuse_in_any_part(
    template: StarterTemplate, variant: Variant
) -> None:
    assert static_problems(variant.body, "body", allowed_names=ALLOWED_NAMES, html=True) == []
    parts: list[tuple[Part, str]] = [("subject", variant.subject), ("preheader", variant.preheader)]
    for part, source in parts:
        assert static_problems(source, part, allowed_names=ALLOWED_NAMES, html=False) == []


@variants
def test_sample_context_is_plain_data_under_allowed_names(
    template: StarterTemplate, variant: Variant
) -> None:
    context = variant.sample_context()
    # check_context raises TypeError naming the first path that is not plain data.
    assert check_context(context) == context
    assert set(context) <= ALLOWED_NAMES


@variants
def test_mjml_is_compiled_once_and_only_jinja_runs_per_recipient(
    template: StarterTemplate, variant: Variant
) -> None:
    compiled = compile_body(variant.body)
    assert compiled.fast, compiled.reason
    assert compiled.html is not None
    context = variant.sample_context()
    env = environment(html=True)
    fast = env.from_string(restore(compiled.html, compiled.protected.constructs)).render(context)
    slow = mjml_to_html(env.from_string(variant.body).render(context))
    assert fast == slow


@pytest.mark.parametrize("locale", ["en", "ru"])
@pytest.mark.parametrize(
    "name",
    [
        "educational",
        "case_study",
        "webinar_invitation",
        "webinar_confirmation",
        "webinar_reminder",
        "nps",
        "testimonial_request",
        "referral",
        "feedback_request",
    ],
)
def test_a_contact_with_only_an_email_address_still_reads_naturally(name: str, locale: str) -> None:
    variant = starter_template(name).variants[locale]
    context = variant.sample_context()
    context["contact"] = contact_view(email="someone@example.com")
    context["rep"] = rep_view(name="Daniel Reed", email="daniel@brightline.example")
    html = _render(variant, context)
    assert "None" not in html
    assert "Daniel Reed" in html
    assert "tel:" not in html, "an empty phone number leaves no link behind"
    fallback = {"en": ("Hi there", "your company"), "ru": ("коллега", "Здравствуйте")}[locale]
    assert any(word in html for word in fallback)


def test_lead_handoff_for_a_lead_known_only_by_email_names_the_email() -> None:
    for variant in starter_template("lead_handoff").variants.values():
        context = variant.sample_context()
        context["lead"] = {**contact_view(email="lead@example.org"), "phone": None}
        html = _render(variant, context)
        assert "None" not in html
        assert "lead@example.org" in html.split("<h1", 1)[1].split("</h1>", 1)[0]
        assert "tel:" not in html
        assert [href for href, _ in links_of(html) if href.startswith("mailto:lead")]


def _render(variant: Variant, context: dict[str, Any]) -> str:
    html: str = environment(html=True).from_string(mjml2html(variant.body)).render(context)
    return html
