"""Every starter, in English and Russian, opens as typed blocks and round-trips exactly."""

from __future__ import annotations

import pytest

from templates.blocks import read, write
from templates.library import LOCALES, StarterTemplate, starter_templates

# The parts of the starters that no kind writes, so they stay raw ("HTML/MJML") blocks, each
# named by a piece of its text. Anything else turning raw is a regression.
RAW_BLOCKS = {
    "case_study": ['css-class="metric"'],  # the three result figures side by side
    "webinar_confirmation": ["webinar.join_url"],  # the tinted box with the join button in it
    "referral_thanks": ["referral_url"],  # the tinted box with the referral button in it
    "nps": ["nps_links[0]"],  # the 0-10 score row and its legend
    "lead_handoff": ["handoff.accept_url"],  # accept and reject buttons side by side
}

STARTERS = [(t, locale) for t in starter_templates() for locale in LOCALES]


@pytest.mark.parametrize(
    ("template", "locale"), STARTERS, ids=[f"{t.name}.{loc}" for t, loc in STARTERS]
)
def test_starter_round_trips_as_blocks_and_keeps_only_the_listed_raw_blocks(
    template: StarterTemplate, locale: str
) -> None:
    body = template.variants[locale].body
    document = read(body)
    assert write(document) == body
    again = read(write(document))
    assert again == document
    raws = [b.get("mjml") for b in document.blocks if b.kind == "raw"]
    expected = RAW_BLOCKS.get(template.name, [])
    assert len(raws) == len(expected), [text[:120] for text in raws]
    for text, marker in zip(raws, expected, strict=True):
        assert marker in text
    kinds = [b.kind for b in document.blocks]
    assert kinds[0] == "header"
    assert kinds[-1] == "footer"
    footer = document.blocks[-1]
    assert footer.get("audience") == template.kind
    if template.is_marketing:
        assert kinds[-2] == "signature"
        assert "{{ unsubscribe_url }}" in write(document)
    assert "heading" in kinds
    assert "text" in kinds
