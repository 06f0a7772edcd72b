"""The language of the marketer pages: English or Russian, chosen from the browser's
Accept-Language header. Each page family keeps its own words in its own catalogue module
(a mapping per language); this module only decides which one to use."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal, TypeAlias

from litestar.connection import ASGIConnection

Language: TypeAlias = Literal["en", "ru"]
LANGUAGES: Final[tuple[Language, ...]] = ("en", "ru")
DEFAULT: Final[Language] = "en"
_BY_PRIMARY: Final[dict[str, Language]] = {language: language for language in LANGUAGES}


def _weight(parameters: list[str]) -> float:
    for parameter in parameters:
        name, _, value = parameter.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                weight = float(value)
            except ValueError:
                return 0.0
            # A weight outside 0..1 is malformed; treat the range as refused rather than guess.
            return weight if 0.0 <= weight <= 1.0 else 0.0
    return 1.0


def from_header(header: str | None) -> Language:
    """The best of our languages for an Accept-Language value; English when none fits.

    Ties keep the browser's order (RFC 9110 leaves it to the server; the first listed is
    what the user put first). `q=0` means "not this one"."""
    best: Language | None = None
    best_weight = 0.0
    for item in (header or "").split(",")[:32]:  # a header is short; ignore absurd ones
        tag, *parameters = item.split(";")
        primary = tag.strip().lower().split("-")[0]
        weight = _weight(parameters)
        if weight <= best_weight:
            continue
        found = _BY_PRIMARY.get(primary)
        if found is not None:
            best, best_weight = found, weight
        elif primary == "*" and best is None:
            best, best_weight = DEFAULT, weight
    return best or DEFAULT


def ui_language(request: ASGIConnection[Any, Any, Any, Any]) -> Language:
    """The language of the page answering `request`."""
    return from_header(request.headers.get("accept-language"))


def words(catalogue: Mapping[str, Mapping[str, str]], language: Language) -> Mapping[str, str]:
    """The catalogue's words in `language`, English for a key the translation lacks."""
    english = catalogue[DEFAULT]
    if language == DEFAULT:
        return english
    return {**english, **catalogue.get(language, {})}
