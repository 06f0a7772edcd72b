"""In Chromium: the NPS page draws its trend chart with the interval band under the CSP,
and the comment filters work without JavaScript tricks."""

from __future__ import annotations

import os

from playwright.sync_api import Browser, ConsoleMessage, expect
from sqlalchemy.orm import Session

from tests.browser.signin import sign_in
from tests.factories import make_user
from tests.reports.nps_dataset import build


def test_the_nps_page_draws_the_trend_with_its_band_and_filters_comments(
    browser: Browser, live_server: str, db: Session
) -> None:
    build(db)
    user = make_user(db, role="sales")
    db.commit()
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    sign_in(page, live_server, user.email, then="/reviews")
    page.wait_for_load_state("networkidle")
    datasets = page.evaluate(
        "Chart.getChart(document.getElementById('nps-trend-chart')).data.datasets"
        ".map((d) => [d.label, d.fill])"
    )
    assert datasets == [["95% interval, low", False], ["95% interval", "-1"], ["NPS", False]]
    if shots := os.environ.get("NPS_SCREENSHOTS"):
        page.screenshot(path=f"{shots}/nps-desktop.png", full_page=True)
    page.select_option("#category", label="Detractors")
    page.get_by_role("button", name="Filter comments").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator(".nps-comment")).to_have_count(2)
    expect(page.locator("#comments")).to_contain_text("Invoices were LATE")
    assert problems == []
