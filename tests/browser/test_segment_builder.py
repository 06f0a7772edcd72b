"""In Chromium: build a two-level rule in the visual builder, watch the live count, save."""

from __future__ import annotations

import json
import re
import urllib.request

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session

from tests.browser.signin import sign_in
from tests.factories import make_api_key, make_contact, make_user

SCREENSHOTS = "/tmp/nurture-browser"
pytestmark = pytest.mark.browser
LEGAL = {"name": "Brandt & Partner", "domain": "brandt.example", "industry": "legal"}
SOFT = {"name": "Softworks", "domain": "softworks.example", "industry": "software"}


def _seed(db: Session) -> tuple[str, str]:
    user = make_user(db, role="marketer")
    make_contact(db, first_name="Lena", title="Equity Partner", company=LEGAL)
    make_contact(db, first_name="Max", title="Director of Litigation", company=LEGAL)
    make_contact(db, first_name="Tom", title="Paralegal", company=LEGAL)
    make_contact(db, first_name="Ida", title="Partner manager", company=SOFT)
    _, key = make_api_key(db, role="marketer")
    db.commit()
    return user.email, key


def _api_preview(base: str, key: str, document: object) -> int:
    request = urllib.request.Request(  # noqa: S310 (a loopback http URL)
        f"{base}/api/v1/segments/preview",
        data=json.dumps(document).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (loopback)
        count: int = json.load(answer)["count"]
        return count


def _condition(page: Page, path: str, field: str, op: str, value: str) -> None:
    row = page.locator(f'[data-path="{path}"]')
    row.get_by_label("Condition on").select_option(f"field:{field}")
    row.get_by_label("Operator").select_option(op)
    row.locator('[data-key="value"]').fill(value)


def test_a_two_level_rule_counts_what_the_api_previews(
    browser: Browser, live_server: str, db: Session
) -> None:
    email, key = _seed(db)
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, live_server, email, "/segments/new")
    count = page.locator("#preview-count")
    # An empty rule matches everyone.
    expect(count).to_have_attribute("data-count", "4")

    page.get_by_label("Name").fill("Legal partners and directors")
    root = page.locator('[data-path="rule"]')
    root.get_by_role("button", name="+ Condition").last.click()
    _condition(page, "rule.all[0]", "company.industry", "equals", "legal")
    expect(count).to_have_attribute("data-count", "3")

    root.get_by_role("button", name="+ Group").last.click()
    group = page.locator('[data-path="rule.all[1]"]')
    expect(group.get_by_label("Group matches")).to_have_value("any")
    _condition(page, "rule.all[1].any[0]", "title", "contains", "partner")
    group.get_by_role("button", name="+ Condition").click()
    _condition(page, "rule.all[1].any[1]", "title", "contains", "director")
    expect(count).to_have_attribute("data-count", "2")
    expect(page.locator("#preview-sample li")).to_have_count(2)

    document = json.loads(page.locator("#f-rule").input_value())
    assert document == {
        "version": 1,
        "rule": {
            "all": [
                {"field": "company.industry", "op": "equals", "value": "legal"},
                {
                    "any": [
                        {"field": "title", "op": "contains", "value": "partner"},
                        {"field": "title", "op": "contains", "value": "director"},
                    ]
                },
            ]
        },
    }
    assert _api_preview(live_server, key, document) == 2
    page.screenshot(path=f"{SCREENSHOTS}-segment-builder.png", full_page=True)

    # A bad value is marked on its own widget, by the path the server names.
    page.locator('[data-path="rule.all[1].any[1]"]').get_by_label("Operator").select_option(
        "starts_with"
    )
    page.locator('[data-path="rule.all[1].any[1]"] [data-key="value"]').fill("")
    bad = page.locator('[data-path="rule.all[1].any[1]"]')
    expect(bad).to_have_class(re.compile("has-error"))
    expect(bad.locator(".rule-error")).to_contain_text("must not be empty")
    bad.locator('[data-key="value"]').fill("Director")
    expect(bad).not_to_have_class(re.compile("has-error"))
    expect(count).to_have_attribute("data-count", "2")

    page.get_by_role("button", name="Create").click()
    expect(page).to_have_url(re.compile(r"/segments/\d+\?saved=1"))
    expect(page.locator("#segment-size")).to_have_text("2")
    assert errors == []
    context.close()


def test_the_builder_stacks_on_a_phone(browser: Browser, live_server: str, db: Session) -> None:
    email, _ = _seed(db)
    context = browser.new_context(viewport={"width": 375, "height": 760}, is_mobile=True)
    page = context.new_page()
    sign_in(page, live_server, email, "/segments/new")
    page.locator('[data-path="rule"]').get_by_role("button", name="+ Group").click()
    expect(page.locator('[data-path="rule.all[0].any[0]"]')).to_be_visible()
    expect(page.locator("#preview-count")).to_have_attribute("data-count", "3")
    page.screenshot(path=f"{SCREENSHOTS}-segment-builder-phone.png", full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, "nothing overflows the phone's width"
    context.close()
