"""The starter templates in a real Chromium at desktop and phone width."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from templates.library import starter_template
from tests.templates_library.rendering import ALL_VARIANTS, VARIANT_IDS, mjml_then_jinja

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page(browser: Browser) -> Iterator[Page]:
    """One tab for the whole module: opening a tab costs more than rendering an e-mail."""
    tab = browser.new_page()
    yield tab
    tab.close()


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Each template and locale rendered with its sample context, as a file URL."""
    folder = tmp_path_factory.mktemp("library")
    urls = {}
    for template, variant in ALL_VARIANTS:
        path: Path = folder / f"{template.name}.{variant.locale}.html"
        path.write_text(mjml_then_jinja(variant.body, variant.sample_context()), "utf-8")
        urls[f"{template.name}.{variant.locale}"] = path.as_uri()
    return urls


@pytest.mark.parametrize("key", VARIANT_IDS)
def test_nothing_overflows_a_phone_screen(page: Page, pages: dict[str, str], key: str) -> None:
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(pages[key])
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


@pytest.mark.parametrize("locale", ["en", "ru"])
def test_nps_scores_sit_in_one_row_on_desktop(
    page: Page, pages: dict[str, str], locale: str
) -> None:
    boxes = _score_boxes(page, pages[f"nps.{locale}"], width=600)
    assert len({box["y"] for box in boxes}) == 1
    assert [box["x"] for box in boxes] == sorted(box["x"] for box in boxes)


@pytest.mark.parametrize("locale", ["en", "ru"])
def test_nps_scores_wrap_to_two_tappable_rows_on_a_phone(
    page: Page, pages: dict[str, str], locale: str
) -> None:
    boxes = _score_boxes(page, pages[f"nps.{locale}"], width=375)
    rows = sorted({box["y"] for box in boxes})
    assert len(rows) == 2
    assert [box["y"] for box in boxes] == [rows[0]] * 6 + [rows[1]] * 5
    for box in boxes:
        assert box["width"] >= 40
        assert box["height"] >= 40
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= 375


def _score_boxes(page: Page, url: str, *, width: int) -> list[dict[str, float]]:
    links = starter_template("nps").variants["en"].sample_context()["nps_links"]
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(url)
    boxes: list[dict[str, float]] = []
    for score, link in enumerate(links):
        element = page.locator(f'a[href="{link}"]')
        assert element.inner_text() == str(score)
        box = element.bounding_box()
        assert box is not None
        boxes.append({key: box[key] for key in ("x", "y", "width", "height")})
    return boxes
