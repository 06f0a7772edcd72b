"""The marketer pages' language follows the browser's Accept-Language preferences."""

from __future__ import annotations

import pytest

from nurture.web.ui.language import from_header, words


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "en"),
        ("", "en"),
        ("ru", "ru"),
        ("ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7", "ru"),
        ("en-GB,en;q=0.9,ru;q=0.8", "en"),
        ("de-DE,de;q=0.9,ru;q=0.5,en;q=0.4", "ru"),
        ("de, fr", "en"),
        ("ru;q=0, en", "en"),
        ("en;q=0.2, RU-ru;q=0.7", "ru"),
        ("ru;q=abc, en;q=0.1", "en"),
        ("*", "en"),
        ("ru;q=5", "en"),
    ],
)
def test_language_is_the_best_weighted_one_we_speak(header: str | None, expected: str) -> None:
    assert from_header(header) == expected


def test_missing_translation_falls_back_to_english() -> None:
    catalogue = {"en": {"a": "One", "b": "Two"}, "ru": {"a": "Один"}}
    assert words(catalogue, "ru") == {"a": "Один", "b": "Two"}
    assert words(catalogue, "en")["b"] == "Two"
