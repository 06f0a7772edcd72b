"""In Chromium against the real server: an admin adds the CRM's endpoint, an event reaches
it signed, the log shows it, and Replay sends the same message again."""

from __future__ import annotations

import time

import httpx
from playwright.sync_api import Browser, ConsoleMessage, expect
from sqlalchemy.orm import Session
from standardwebhooks import Webhook

from tests.browser.conftest import live_server  # noqa: F401 - the fixture
from tests.browser.signin import sign_in
from tests.factories import make_api_key, make_user
from tests.webhooks.conftest import Receiver


def _wait_for(receiver: Receiver, count: int) -> None:
    deadline = time.monotonic() + 30
    while len(receiver.requests) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(receiver.requests) == count


def test_an_admin_connects_the_crm_and_replays_a_delivery(
    browser: Browser,
    live_server: str,  # noqa: F811
    db: Session,
    receiver: Receiver,
) -> None:
    admin = make_user(db, role="admin")
    _, key = make_api_key(db, role="admin")
    db.commit()
    page = browser.new_context().new_page()
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    sign_in(page, live_server, admin.email, then="/settings/webhooks")

    page.get_by_label("Endpoint URL").fill(receiver.url)
    page.get_by_label("Description").fill("Sales CRM")
    page.get_by_role("button", name="Add endpoint").click()
    secret = page.get_by_test_id("webhook-secret").inner_text()
    assert secret.startswith("whsec_")

    stored = httpx.post(
        f"{live_server}/api/v1/events",
        json={"type": "lead.qualified", "email": "ada@example.com", "properties": {"score": 72}},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert stored.status_code < 300, stored.text
    _wait_for(receiver, 1)
    first = receiver.requests[0]
    assert Webhook(secret).verify(first.body, first.headers)["data"]["properties"] == {"score": 72}

    page.get_by_role("link", name="Open its delivery log").click()
    log = page.get_by_test_id("delivery-log")
    expect(log).to_contain_text("Delivered")
    expect(log).to_contain_text("lead.qualified")
    page.get_by_role("button", name="Replay").click()
    expect(page.get_by_role("status")).to_contain_text("queued again")
    _wait_for(receiver, 2)
    again = receiver.requests[1]
    assert again.headers["webhook-id"] == first.headers["webhook-id"]
    Webhook(secret).verify(again.body, again.headers)
    assert problems == []
