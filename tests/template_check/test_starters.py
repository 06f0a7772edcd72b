"""Every starter template, English and Russian, through the pre-save check.

A starter should come out clean. The findings listed in KNOWN are real ones in the
starter MJML (which the block-model work owns), reported for fixing there: the footer's
grey small print (#6b7280 on #f3f4f6 is 4.39:1, under 4.5:1) and the NPS score chips'
white digits on the mid-scale oranges and the green (17 px bold is not large text). The
test names them exactly, so a fix, or any new finding, shows here.
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
FOOTER_GREY = "text contrast 4.39:1, needs 4.5:1: #6b7280 on #f3f4f6"
NPS_CHIPS = [
    "link contrast 4.36:1, needs 4.5:1: #ffffff on #d94512",
    "link contrast 4.03:1, needs 4.5:1: #ffffff on #de4e0f",
    "link contrast 3.72:1, needs 4.5:1: #ffffff on #e2580c",
    "link contrast 3.29:1, needs 4.5:1: #ffffff on #17a34a",
]
# Internal mail has one footer line, marketing mail two (the second holds the unsubscribe link).
KNOWN = {
    "lead_handoff": [FOOTER_GREY],
    "task_overdue": [FOOTER_GREY],
    "nps": [*NPS_CHIPS, FOOTER_GREY, FOOTER_GREY],
}
CASES = [(t, locale) for t in starter_templates() for locale in sorted(t.variants)]


def test_all_twelve_starters_in_both_languages_are_checked() -> None:
    assert len(CASES) == 24


@pytest.mark.parametrize(
    ("starter", "locale"), CASES, ids=[f"{t.name}-{locale}" for t, locale in CASES]
)
def test_a_starter_comes_out_of_the_check_with_only_the_known_findings(
    starter: StarterTemplate, locale: str
) -> None:

    variant = starter.variants[locale]
    findings = check_one(
        locale,
        VariantInput(variant.subject, variant.body, variant.preheader),
        config=CONFIG,
        marketing=starter.is_marketing,
    )
    assert [f.message for f in findings] == KNOWN.get(starter.name, [FOOTER_GREY, FOOTER_GREY])
    assert all(f.locale == locale and f.block is not None for f in findings)
