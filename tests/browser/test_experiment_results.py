"""In Chromium: a bandit test of a case-study e-mail with a clear winner. The results page
draws its three charts (rates with intervals, the posterior, the allocation over time)
from the same numbers as its table, refuses to declare the control the winner with the
data's reason, declares the variant, and reads in Russian for a Russian browser."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session

from campaigns.experiments import store
from tests.browser.signin import sign_in
from tests.experiments_web.helpers import build_sequence, running_with_data
from tests.factories import make_user

SCREENSHOTS = Path("/tmp/nurture-browser")
pytestmark = pytest.mark.browser


def _datasets(page: Page, canvas: str) -> int:
    """How many datasets Chart.js drew on `canvas` (waits until it has drawn)."""
    drawn = page.wait_for_function(
        f"() => window.Chart && window.Chart.getChart(document.getElementById('{canvas}'))"
        f" && window.Chart.getChart(document.getElementById('{canvas}')).data.datasets.length"
    )
    count: int = drawn.json_value()
    return count


def _watch(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # The refused declaration answers 409 on purpose; Chromium logs that as a console error.
    page.on(
        "console",
        lambda m: errors.append(m.text) if m.type == "error" and "409" not in m.text else None,
    )
    return errors


def test_the_results_page_draws_the_test_and_declares_only_what_the_data_support(
    browser: Browser, live_server: str, db: Session
) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    built = build_sequence(db)
    experiment_id = running_with_data(
        db, built, control=(900, 90), variant=(900, 180), mode="bandit"
    )
    user = make_user(db, role="marketer")
    db.commit()
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB")
    page = context.new_page()
    errors = _watch(page)
    sign_in(page, live_server, user.email, f"/experiments/{experiment_id}")

    expect(page.locator("#decision-state")).to_contain_text("A winner is clear")
    expect(page.locator("#decision-reason")).to_contain_text("beats the control")
    expect(page.locator("tr[data-arm=a] [data-col=rate]")).to_have_text("10.0 %")
    expect(page.locator("tr[data-arm=b] [data-col=rate]")).to_have_text("20.0 %")
    expect(page.locator("tr[data-arm=b] [data-col=lift]")).to_contain_text("+100.0 %")
    expect(page.locator("tr[data-arm=b] [data-col=lift]")).to_contain_text("significant")
    assert _datasets(page, "rates-chart") == 2  # the intervals and the rates
    assert _datasets(page, "posterior-chart") == 2  # one density per variant
    assert _datasets(page, "allocation-chart") == 2  # one share line per variant
    # The chart's interval bars carry the table's interval, in percent.
    interval = page.evaluate(
        "() => window.Chart.getChart(document.getElementById('rates-chart')).data"
        ".datasets[0].data[1]"
    )
    low, high = (f"{bound:.1f} %" for bound in interval)
    expect(page.locator("tr[data-arm=b] [data-col=interval]")).to_have_text(f"{low} … {high}")
    page.screenshot(path=f"{SCREENSHOTS}/experiment-results.png", full_page=True)

    page.locator("#declare-key").select_option("a")
    page.get_by_role("button", name="Declare the winner").click()
    expect(page.locator("#experiment-error")).to_contain_text(
        "Not declared: 'a' cannot be declared the winner"
    )
    expect(page.locator("#experiment-status")).to_have_text("Running")
    page.screenshot(path=f"{SCREENSHOTS}/experiment-refused.png", full_page=True)

    page.locator("#declare-key").select_option("b")
    page.get_by_label("Note for the audit log (optional)").fill("Question subject wins")
    page.get_by_role("button", name="Declare the winner").click()
    expect(page.locator("#experiment-notice")).to_have_text(
        "Declared “b” the winner: everyone new gets it."
    )
    expect(page.locator("#experiment-status")).to_have_text("Decided")
    expect(page.locator("tr[data-arm=b]")).to_contain_text("winner")
    assert errors == []

    russian = browser.new_context(viewport={"width": 1366, "height": 900}, locale="ru-RU")
    page = russian.new_page()
    errors = _watch(page)
    sign_in(page, live_server, user.email, f"/experiments/{experiment_id}")
    expect(page.locator("#decision-title")).to_have_text("Решение")
    expect(page.locator("#experiment-status")).to_have_text("Решён")
    assert _datasets(page, "posterior-chart") == 2
    axis = page.evaluate(
        "() => window.Chart.getChart(document.getElementById('posterior-chart'))"
        ".options.scales.x.title.text"
    )
    assert axis == "Доля, %"
    page.screenshot(path=f"{SCREENSHOTS}/experiment-results-ru.png", full_page=True)
    assert errors == []
    context.close()
    russian.close()


def test_a_marketer_adds_variants_from_the_sequence_page_and_starts_the_test(
    browser: Browser, live_server: str, db: Session
) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    built = build_sequence(db)
    user = make_user(db, role="marketer")
    db.commit()
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    errors = _watch(page)
    sign_in(page, live_server, user.email, f"/sequences/{built.sequence_id}")
    page.get_by_role("link", name="Add variant").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Test variants of “E-mail: Case study: DORA”"
    )
    sample = page.locator("#sample-size-text")
    expect(sample).to_contain_text("Give the current rate")
    page.get_by_label("Current rate, %").fill("4")
    expect(sample).to_contain_text("sends per variant to detect a 20 % lift")
    two_arms = int("".join(c for c in sample.inner_text().split(" sends")[0] if c.isdigit()))

    page.locator("#v-1-subject").fill("Ready for DORA?")
    page.get_by_role("button", name="+ Add variant").click()
    rows = page.locator("[data-variant-row]")
    expect(rows).to_have_count(3)
    expect(rows.nth(2).locator("[data-variant-key]")).to_have_text("c")
    # A third arm splits the same traffic three ways and corrects for two comparisons.
    expect(sample).not_to_contain_text(f"{two_arms:,}".replace(",", "\u202f") + " sends")
    three_arms = int("".join(c for c in sample.inner_text().split(" sends")[0] if c.isdigit()))
    assert three_arms > two_arms
    rows.nth(2).get_by_label("Sender name").fill("Ada at Firm")
    page.screenshot(path=f"{SCREENSHOTS}/experiment-editor.png", full_page=True)
    rows.nth(1).get_by_role("button", name="Remove").click()
    expect(rows).to_have_count(2)
    expect(rows.nth(1).locator("[data-variant-key]")).to_have_text("b")
    page.get_by_role("button", name="Create the test").click()

    expect(page.locator("#experiment-notice")).to_have_text(
        "Created as a draft. Check it, then start it."
    )
    expect(page.locator("#experiment-status")).to_have_text("Draft")
    page.get_by_role("button", name="Start the test").click()
    expect(page.locator("#experiment-status")).to_have_text("Running")
    expect(page.locator("#planned")).to_contain_text("per variant to detect a 20 % lift")
    db.expire_all()
    experiment = store.experiment_of_step(db, sequence_id=built.sequence_id, step_key="intro")
    assert experiment is not None
    variants = store.variants_of(db, experiment.id)
    assert [(v.key, v.content) for v in variants] == [
        ("a", {}),
        ("b", {"from_name": "Ada at Firm"}),
    ]
    assert errors == []
