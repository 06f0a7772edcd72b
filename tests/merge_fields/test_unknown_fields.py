"""Names under contact, rep and brand that no send gives are found, with their lines."""

from __future__ import annotations

import pytest

from templates.library import starter_templates
from templates.merge_fields import FIELDS, merge_tag, unknown_field_uses, unknown_fields


def test_a_typo_is_found_even_under_default() -> None:
    source = "Hi {{ contact.frist_name | default('there', true) }}"
    assert unknown_fields(source) == ["contact.frist_name"]


def test_each_way_of_reading_a_name_is_checked_with_its_line() -> None:
    source = (
        "{% if contact.favourite_colour %}x{% endif %}\n"
        "{{ rep['mobile'] }}\n"
        "{{ brand.colour is defined }}\n"
        "{{ contact.company.size }}\n"
    )
    assert unknown_field_uses(source) == [
        (1, "contact.favourite_colour"),
        (2, "rep.mobile"),
        (3, "brand.colour"),
        (4, "contact.company.size"),
    ]


@pytest.mark.parametrize(
    "source",
    [
        "{{ contact.attributes.plan }} {{ contact.attributes['Plan tier'] }}",
        "{% for k, v in contact.attributes.items() %}{{ k }}{% endfor %}",
        "{{ contact.company }} {{ contact }} {{ rep }} {{ brand }}",
        "{{ contact.first_name.upper() }} {{ contact.first_name | upper }}",
        "{{ brand.color }} {{ brand.logo_url }} {{ brand.font_family }} {{ brand.font_url }}",
        "{{ rep.signature }}",
        # Names a step gives are checked elsewhere (templates.requirements).
        "{{ case_study.title }} {{ webinar.join_url }} {{ project.name }} {{ nps_links[0] }}",
        "{{ unsubscribe_url }} {{ preferences_url }} {{ links.website }}",
        # A local name shadows the root.
        "{% set contact = {'nick': 'x'} %}{{ contact.nick }}",
        "{% for rep in [1] %}{{ rep.anything }}{% endfor %}",
        # A source that does not parse is reported by the template checks, not here.
        "{{ contact.nope",
        "no jinja at all",
    ],
)
def test_what_a_send_gives_or_others_check_is_not_reported(source: str) -> None:
    assert unknown_fields(source) == []


def test_every_picker_tag_is_known() -> None:
    source = " ".join(merge_tag(f.path, "x") for f in FIELDS)
    assert unknown_fields(source) == []


def test_no_starter_reads_an_unknown_field() -> None:
    for starter in starter_templates():
        for locale, variant in starter.variants.items():
            for part in (variant.subject, variant.preheader, variant.body):
                assert unknown_fields(part) == [], (starter.name, locale)
