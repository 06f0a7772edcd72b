"""/schema and /schema/swagger draw the API's operations with no network beyond our server."""

from __future__ import annotations

import json
import urllib.request

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Route, expect

VIEWERS = ["/schema", "/schema/swagger"]


@pytest.fixture
def db_url(sqlite_db_url: str) -> str:
    """The viewer is static files and the OpenAPI document: the database plays no part."""
    return sqlite_db_url


def _operation_count(live_server: str) -> int:
    with urllib.request.urlopen(f"{live_server}/schema/openapi.json") as answer:  # noqa: S310
        document = json.load(answer)
    methods = {"get", "post", "put", "patch", "delete"}
    return sum(1 for item in document["paths"].values() for method in item if method in methods)


@pytest.mark.parametrize("path", VIEWERS)
def test_the_api_viewer_renders_every_operation_from_our_own_files_offline(
    browser: Browser, live_server: str, path: str
) -> None:
    page = browser.new_context().new_page()
    elsewhere: list[str] = []
    problems: list[str] = []

    def offline(route: Route) -> None:
        # As without internet: anything not from this server fails.
        if route.request.url.startswith(live_server):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort("internetdisconnected")

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(message.text)

    page.route("**/*", offline)
    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.goto(f"{live_server}{path}")
    sources = page.eval_on_selector_all(
        "script[src], link[href]",
        "nodes => nodes.map(n => n.getAttribute('src') || n.getAttribute('href'))",
    )
    assert sources, "the page loads no files at all"
    assert all(source.startswith("/static/") for source in sources), sources
    page.wait_for_selector(".opblock", timeout=20_000)
    # Swagger UI draws operations as they scroll into view; its state holds all it read.
    assert page.evaluate("window.ui.specSelectors.operations().size") == _operation_count(
        live_server
    )
    assert page.get_by_text("/api/v1/contacts", exact=True).first.is_visible()
    page.locator(".opblock-summary").first.click()
    # The opened operation's body is drawn after the click returns: wait for it, as a
    # reader would (reading it at once failed in CI with an empty body).
    expect(page.locator(".opblock-body").first).to_contain_text("Try it out")
    assert not elsewhere, elsewhere
    assert not problems, problems
