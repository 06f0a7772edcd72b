"""Signing in through the real login form, as a person would."""

from __future__ import annotations

from urllib.parse import quote

from playwright.sync_api import Page, expect

from tests.factories import PASSWORD


def sign_in(page: Page, base: str, email: str, then: str = "/") -> None:
    """Open `then`, get sent to the login form, sign in, land back on `then`."""
    page.goto(f"{base}{then}")
    expect(page).to_have_url(f"{base}/login?next={quote(then)}")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base}{then}")
    # Scripts are deferred; a person never types before they have run, so neither do we.
    page.wait_for_load_state("load")
