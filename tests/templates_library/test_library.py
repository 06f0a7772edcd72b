"""The starter library: every template in every locale compiles, renders its sample
context, reads as its language, and keeps the promises its kind makes."""

from __future__ import annotations

import re

import pytest

from nurture.errors import NotFound
from templates.library import LOCALES, StarterTemplate, Variant, starter_template, starter_templates
from tests.templates_library.rendering import (
    ALL_VARIANTS,
    VARIANT_IDS,
    jinja_then_mjml,
    links_of,
    lookup,
    mjml_then_jinja,
    render_text,
    used_paths,
    visible_copy,
)

EXPECTED = {
    "educational",
    "case_study",
    "webinar_invitation",
    "webinar_confirmation",
    "webinar_reminder",
    "nps",
    "testimonial_request",
    "referral",
    "feedback_request",
    "referral_thanks",
    "lead_handoff",
    "task_overdue",
}
CYRILLIC = re.compile("[\u0430-\u044f\u0451]", re.IGNORECASE)
variants = pytest.mark.parametrize(("template", "variant"), ALL_VARIANTS, ids=VARIANT_IDS)


def test_library_offers_every_starter_template_in_english_and_russian() -> None:
    templates = starter_templates()
    assert {t.name for t in templates} == EXPECTED
    assert len(templates) == len(EXPECTED)
    for template in templates:
        assert set(template.variants) == set(LOCALES) == {"en", "ru"}
        for variant in template.variants.values():
            assert variant.title
            assert variant.description
            assert variant.subject
            assert variant.preheader


def test_only_the_staff_alerts_are_internal_and_marketing_ones_name_a_topic() -> None:
    kinds = {t.name: t.kind for t in starter_templates()}
    internal = [name for name, kind in kinds.items() if kind == "internal"]
    assert internal == ["lead_handoff", "task_overdue"]
    for template in starter_templates():
        assert (template.topic is not None) == template.is_marketing


def test_asking_for_an_unknown_starter_template_is_not_found() -> None:
    assert starter_template("nps").name == "nps"
    with pytest.raises(NotFound):
        starter_template("newsletter-2019")


def test_sample_context_is_a_fresh_copy_each_time() -> None:
    variant = starter_template("educational").variants["en"]
    first = variant.sample_context()
    first["contact"]["first_name"] = "Changed"
    assert variant.sample_context()["contact"]["first_name"] == "Emma"


@variants
def test_body_is_one_complete_self_contained_mjml_document(
    template: StarterTemplate, variant: Variant
) -> None:
    body = variant.body
    assert body.startswith(f'<mjml lang="{variant.locale}"')
    assert body.rstrip().endswith("</mjml>")
    assert body.count("<mj-body") == 1
    assert body.count("<mj-head>") == 1
    assert "@@" not in body, "a build placeholder was left in the body"
    for refused in ("{% include", "{% import", "{% extends", "{% from"):
        assert refused not in body


@variants
def test_body_compiles_and_renders_its_sample_context_strictly(
    template: StarterTemplate, variant: Variant
) -> None:
    context = variant.sample_context()
    compiled_first = mjml_then_jinja(variant.body, context)
    personalised_first = jinja_then_mjml(variant.body, context)
    for html in (compiled_first, personalised_first):
        assert html.lstrip().lower().startswith("<!doctype html>")
        assert f'lang="{variant.locale}"' in html
        assert "{{" not in html
        assert "{%" not in html
        assert context["brand"]["name"] in html
        assert context["rep"]["name"] in html


@variants
def test_subject_and_preheader_render_to_one_line(
    template: StarterTemplate, variant: Variant
) -> None:
    context = variant.sample_context()
    for source in (variant.subject, variant.preheader):
        text = render_text(source, context)
        assert text.strip()
        assert "\n" not in text
        assert "{" not in text
    assert len(render_text(variant.subject, context)) <= 110


@variants
def test_every_variable_a_template_uses_is_documented_and_in_its_sample(
    template: StarterTemplate, variant: Variant
) -> None:
    used = set()
    for source in (variant.body, variant.subject, variant.preheader):
        used |= used_paths(source)
    undocumented = used - set(template.context_schema)
    assert not undocumented, f"used but not in context_schema: {sorted(undocumented)}"
    sample = variant.sample_context()
    for path in template.context_schema:
        lookup(sample, path)  # raises KeyError if the sample lacks a documented value


@variants
def test_marketing_mail_links_to_unsubscribe_and_internal_mail_does_not(
    template: StarterTemplate, variant: Variant
) -> None:
    context = variant.sample_context()
    hrefs = [href for href, _ in links_of(mjml_then_jinja(variant.body, context))]
    if template.is_marketing:
        assert context["unsubscribe_url"] in hrefs
        assert context["brand"]["address"] in mjml_then_jinja(variant.body, context)
    else:
        assert "unsubscribe" not in variant.body.lower()
        assert "unsubscribe_url" not in template.context_schema


@variants
def test_every_link_is_absolute_and_every_image_has_alt_text(
    template: StarterTemplate, variant: Variant
) -> None:
    html = mjml_then_jinja(variant.body, variant.sample_context())
    links = links_of(html)
    assert links
    for href, text in links:
        assert href.startswith(("https://", "mailto:", "tel:")), href
        assert text, f"link {href} has no visible text"
    images = re.findall(r"<img\b[^>]*>", html)
    assert images
    for image in images:
        assert re.search(r'\balt="[^"]+"', image), image


@variants
def test_values_from_the_context_are_escaped(template: StarterTemplate, variant: Variant) -> None:
    context = variant.sample_context()
    context["brand"]["name"] = 'Smith & <b>"Sons"</b>'
    html = mjml_then_jinja(variant.body, context)
    assert "<b>" not in html
    assert "Smith &amp; &lt;b&gt;" in html


@pytest.mark.parametrize("template", starter_templates(), ids=lambda t: t.name)
def test_english_copy_has_no_russian_and_russian_copy_is_russian(
    template: StarterTemplate,
) -> None:
    english = _copy(template.variants["en"].body)
    russian = _copy(template.variants["ru"].body)
    assert not CYRILLIC.search(english)
    # Brand and product names stay in Latin letters; everything else must be Russian.
    latin = set(re.findall(r"[A-Za-z][A-Za-z.&]*", russian))
    assert latin <= {"Google", "Outlook.com", "Apple", "Outlook", "ics", "Nurture"}, latin
    assert len(CYRILLIC.findall(russian)) > 200


def test_each_locale_keeps_its_own_subject_and_preheader() -> None:
    for template in starter_templates():
        en, ru = template.variants["en"], template.variants["ru"]
        assert en.subject != ru.subject
        assert en.preheader != ru.preheader
        assert CYRILLIC.search(render_text(ru.subject, ru.sample_context()))


def test_nps_survey_has_eleven_score_links_from_zero_to_ten_in_order() -> None:
    for variant in starter_template("nps").variants.values():
        context = variant.sample_context()
        links = context["nps_links"]
        assert len(links) == 11
        assert len(set(links)) == 11
        html = mjml_then_jinja(variant.body, context)
        scores = [(href, text) for href, text in links_of(html) if href in links]
        assert scores == [(links[score], str(score)) for score in range(11)]


def test_nps_scores_are_colour_graded_from_red_to_green() -> None:
    html = mjml_then_jinja(
        starter_template("nps").variants["en"].body,
        starter_template("nps").variants["en"].sample_context(),
    )
    colours = re.findall(r'title="[^"]*"[^>]*background-color:#([0-9a-f]{6})', html)
    assert len(colours) == 11
    assert len(set(colours)) == 11
    zero, ten = _rgb(colours[0]), _rgb(colours[10])
    assert zero[0] > 150, "0 is red"
    assert zero[1] < 60, "0 is red"
    assert ten[1] > 100, "10 is green"
    assert ten[0] < 60, "10 is green"


def test_lead_handoff_lists_every_reason_and_activity_with_accept_and_reject() -> None:
    for variant in starter_template("lead_handoff").variants.values():
        context = variant.sample_context()
        html = mjml_then_jinja(variant.body, context)
        handoff = context["handoff"]
        for reason in handoff["reasons"]:
            assert reason in html
        for activity in handoff["activities"]:
            assert activity["when"] in html
        hrefs = [href for href, _ in links_of(html)]
        assert handoff["accept_url"] in hrefs
        assert handoff["reject_url"] in hrefs
        assert hrefs.index(handoff["accept_url"]) < hrefs.index(handoff["reject_url"])


def test_webinar_confirmation_mentions_the_attached_invite_and_calendar_links() -> None:
    for variant in starter_template("webinar_confirmation").variants.values():
        context = variant.sample_context()
        html = mjml_then_jinja(variant.body, context)
        assert ".ics" in html
        hrefs = [href for href, _ in links_of(html)]
        for link in context["webinar"]["calendar"].values():
            assert link.replace("&", "&amp;") in html or link in hrefs


def test_case_study_shows_three_result_metrics_side_by_side() -> None:
    variant = starter_template("case_study").variants["en"]
    context = variant.sample_context()
    body = variant.body
    results = body[body.index("metrics[0]") - 2000 : body.index("metrics[2]")]
    section = results[results.rindex("<mj-section") :]
    assert section.count("<mj-column") == 3
    html = mjml_then_jinja(body, context)
    for metric in context["case_study"]["metrics"]:
        assert metric["value"] in html
        assert metric["label"] in html


def _rgb(hex_colour: str) -> tuple[int, ...]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (0, 2, 4))


def _copy(body: str) -> str:
    head_end = body.index("</mj-head>")
    return visible_copy(body[head_end:])
