"""The pages work under the Content-Security-Policy: Chromium reports no violation on them."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, ConsoleMessage
from sqlalchemy.orm import Session

from campaigns.sequences import versions
from nurture.events import ingest_raw
from segments import store
from tests.browser.signin import sign_in
from tests.email.conftest import make_template
from tests.factories import make_contact, make_user


@pytest.fixture
def db_url(sqlite_db_url: str) -> str:
    """What the browser may load and run is decided by the headers and the pages' markup and
    scripts: the database plays no part (the data behind the pages is tested on both)."""
    return sqlite_db_url


def test_chart_builder_editor_and_htmx_pages_raise_no_policy_violation(
    browser: Browser, live_server: str, db: Session
) -> None:
    user = make_user(db, role="admin")
    contact = make_contact(db, email="ada@example.com")
    ingest_raw(db, [{"type": "page.visited", "contact_id": contact.id}], source="test")
    segment = store.create_segment(
        db, name="Everyone", kind="dynamic", rule={"version": 1, "rule": {"all": []}}
    )
    sequence = versions.create_sequence(
        db, name="Welcome", steps_definition={"steps": [{"key": "t", "type": "task"}]}
    )
    db.commit()
    template_id = make_template(db, name="Guide")
    db.commit()
    pages = [
        "/",
        "/contacts",
        f"/contacts/{contact.id}",
        f"/segments/{segment.id}",
        f"/segments/{segment.id}/edit",
        f"/sequences/{sequence.id}",
        f"/sequences/{sequence.id}/edit",
        f"/content/{template_id}",
    ]
    page = browser.new_context().new_page()
    violations: list[str] = []
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            violations.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
    sign_in(page, live_server, user.email)
    for path in pages:
        page.goto(f"{live_server}{path}")
        page.wait_for_load_state("networkidle")
    # The charts drew: Chart.js ran under the policy.
    page.goto(f"{live_server}/")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("typeof Chart") == "function"
    assert page.evaluate("typeof htmx") == "object"
    assert not violations, "\n".join(violations)
    assert not errors, "\n".join(errors)
