"""Every starter template, English and Russian, through the pre-save check.

A starter comes out clean. The check's first run found two real faults, since fixed in
the starters: the footer's grey small print (#6b7280 on #f3f4f6 is 4.39:1, under 4.5:1)
and the NPS score chips' white digits on the mid-scale oranges and the green (17 px bold
is not large text).
"""

from __future__ import annotations

import pytest

from campaigns.email.mailconfig import MailConfig, default_brand
from campaigns.email.store import VariantInput
from campaigns.email.template_check import check_one
from templates.library import StarterTemplate, starter_templates
from templates.message import Address

CONFIG = MailConfig(
    base_url="https://mail.firm.example",
    secret="s" * 40,
    sender=Address("news@firm.example", "Firm"),
    brand=default_brand("Firm"),
)
CASES = [(t, locale) for t in starter_templates() for locale in sorted(t.variants)]


def test_all_twelve_starters_in_both_languages_are_checked() -> None:
    assert len(CASES) == 24


@pytest.mark.parametrize(
    ("starter", "locale"), CASES, ids=[f"{t.name}-{locale}" for t, locale in CASES]
)
def test_a_starter_comes_out_of_the_check_clean(starter: StarterTemplate, locale: str) -> None:
    variant = starter.variants[locale]
    findings = check_one(
        locale,
        VariantInput(variant.subject, variant.body, variant.preheader),
        config=CONFIG,
        marketing=starter.is_marketing,
    )
    assert [f.message for f in findings] == []
