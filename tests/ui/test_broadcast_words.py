"""Every word the broadcast pages ask for exists in English and in Russian (Jinja would
otherwise print nothing for a missing one, silently)."""

from __future__ import annotations

import re
from pathlib import Path

from nurture.models import BroadcastStatus, RecipientPhase
from nurture.web.ui.broadcast_words import ENGLISH, RUSSIAN

TEMPLATES = Path(__file__).resolve().parents[2] / "nurture/web/html/broadcasts"
# Keys built from a value in the template: their suffixes are the values it can take.
BUILT = {
    "status_": [s.value for s in BroadcastStatus],
    "phase_": [p.value for p in RecipientPhase],
    "metric_": ["opens", "clicks", "replies"],
}


def _asked_for() -> set[str]:
    keys: set[str] = set()
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text()
        keys |= set(re.findall(r"\bt\.([a-z_]+)", text))
        for prefix in re.findall(r't\["([a-z_]+)" ~', text):
            keys |= {prefix + suffix for suffix in BUILT[prefix]}
    # Notes named by the page handler (`?saved=1` and the like).
    return keys | {"saved", "scheduled_note", "cancelled_note"}


def test_every_word_the_pages_use_is_in_both_languages() -> None:
    asked = _asked_for()
    assert len(asked) > 50  # the scan found the templates' words
    assert sorted(asked - ENGLISH.keys()) == []
    assert sorted(asked - RUSSIAN.keys()) == []


def test_both_languages_have_the_same_words_with_the_same_placeholders() -> None:
    assert ENGLISH.keys() == RUSSIAN.keys()
    for key, english in ENGLISH.items():
        assert re.findall(r"\{\w+\}", english) == re.findall(r"\{\w+\}", RUSSIAN[key]), key
