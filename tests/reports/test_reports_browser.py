"""In Chromium: the Reports page draws its three charts under the CSP, and the filter form
narrows every section."""

from __future__ import annotations

from playwright.sync_api import Browser, ConsoleMessage, expect
from sqlalchemy.orm import Session

from tests.browser.signin import sign_in
from tests.factories import make_user
from tests.reports.dataset import build


def test_the_reports_page_draws_its_charts_and_filters_by_segment(
    browser: Browser, live_server: str, db: Session
) -> None:
    build(db)
    user = make_user(db, role="marketer")
    db.commit()
    page = browser.new_context().new_page()
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    sign_in(page, live_server, user.email, then="/reports?from=2026-03-02&to=2026-03-31")
    page.wait_for_load_state("networkidle")
    drawn = page.evaluate(
        "['funnel-chart', 'movement-chart', 'sequences-chart']"
        ".map((id) => Boolean(Chart.getChart(document.getElementById(id))))"
    )
    assert drawn == [True, True, True]
    funnel = page.locator("#funnel tbody tr").nth(1)
    expect(funnel).to_contain_text("6")
    page.select_option("#segment", label="Warm")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_load_state("networkidle")
    assert "segment=" in page.url
    lead = page.locator("#funnel tbody tr").nth(1).locator("td")
    expect(lead.nth(1)).to_have_text("2")
    expect(lead.nth(2)).to_have_text("1")
    assert not problems, problems
