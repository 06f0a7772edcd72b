"""The model page in Chromium: the calibration chart draws under the page's security policy."""

from __future__ import annotations

from playwright.sync_api import Browser, ConsoleMessage, expect
from sqlalchemy.orm import Session

from nurture.scoring import predictive
from tests.browser.conftest import live_server  # noqa: F401  (fixture)
from tests.browser.signin import sign_in
from tests.factories import make_user
from tests.predictive.synthetic import NOW, history


def test_the_calibration_chart_draws_with_no_script_error(
    browser: Browser,
    live_server: str,  # noqa: F811
    db: Session,
) -> None:
    history(db, rows=400, signal=True, seed=41)
    fit = predictive.fit_model(db, now=NOW, requested_by="test")
    email = make_user(db, role="marketer").email
    db.commit()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(message.text)

    page.on("console", on_console)
    sign_in(page, live_server, email, "/scoring/model")
    expect(page.locator("#published-auc")).to_have_text(f"{fit.metrics['auc']:.2f}")
    drawn = page.wait_for_function(
        "() => { const c = document.getElementById('calibration-chart');"
        " const chart = c && window.Chart && window.Chart.getChart(c);"
        " return chart ? chart.data.datasets.map(d => d.data.length) : null; }"
    )
    assert drawn.json_value() == [10, 10]
    assert problems == []
    context.close()
