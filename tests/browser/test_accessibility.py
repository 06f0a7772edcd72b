"""axe-core, run in Chromium, finds no WCAG 2 A/AA violation on any page of the
navigation, the builders, the settings or the public pages a client opens from an e-mail,
at desktop (1280 px) and phone (375 px) widths.

One server, one browser and one context per width: the pages are only read, so they
share the seeded world, and the module costs about a minute."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy.orm import Session

from tests.browser.a11y_world import World, build_world
from tests.browser.signin import sign_in

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# The secret tests/browser/conftest.py gives the live server.
SECRET = "browser-test-secret-" + "x" * 40
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WIDTHS = (1280, 375)

# Pages as (name, path from the world). Builders get their own list so that new ones
# join with one line.
Path_ = Callable[[World], str]
NAVIGATION: list[tuple[str, Path_]] = [
    ("home", lambda w: "/"),
    ("contacts", lambda w: "/contacts"),
    ("contact", lambda w: f"/contacts/{w.contact_id}"),
    ("contact edit", lambda w: f"/contacts/{w.contact_id}/edit"),
    ("imports", lambda w: "/imports"),
    ("import", lambda w: f"/imports/{w.import_id}"),
    ("segments", lambda w: "/segments?deleted=Old+list"),
    ("segment", lambda w: f"/segments/{w.segment_id}?saved=1"),
    ("scoring", lambda w: "/scoring"),
    ("scoring model", lambda w: "/scoring/model"),
    ("behaviour rule", lambda w: "/scoring/behaviour/new"),
    ("fit rule", lambda w: "/scoring/fit/new"),
    ("sequences", lambda w: "/sequences"),
    ("sequence", lambda w: f"/sequences/{w.sequence_id}"),
    ("broadcasts", lambda w: "/broadcasts"),
    ("broadcast", lambda w: f"/broadcasts/{w.broadcast_id}"),
    ("new broadcast", lambda w: "/broadcasts/new"),
    ("broadcast edit", lambda w: f"/broadcasts/{w.broadcast_id}/edit"),
    ("content", lambda w: "/content"),
    ("case studies", lambda w: "/content/library/case-studies"),
    ("webinars", lambda w: "/content/library/webinars?deleted=1"),
    ("articles (none yet)", lambda w: "/content/library/articles"),
    ("case study", lambda w: f"/content/library/case-studies/{w.story_id}?saved=1"),
    ("attendance", lambda w: f"/content/webinars/{w.webinar_id}/attendance"),
    ("template version", lambda w: f"/content/{w.template_id}/versions/1"),
    ("sales inbox", lambda w: "/inbox"),
    ("hand-off", lambda w: f"/inbox/{w.handoff_id}"),
    ("tasks", lambda w: "/tasks"),
    ("reviews", lambda w: "/reviews"),
    ("projects", lambda w: "/reviews/projects"),
    ("testimonials", lambda w: "/reviews/testimonials"),
    ("referrals", lambda w: "/reviews/referrals"),
    ("review settings", lambda w: "/reviews/settings"),
    ("reports", lambda w: "/reports"),
    ("outbox", lambda w: "/outbox"),
    ("outbox failed", lambda w: "/outbox?status=failed"),
    ("outbox message", lambda w: f"/outbox/messages/{w.message_id}"),
    ("not found", lambda w: "/contacts/987654"),
]
BUILDERS: list[tuple[str, Path_]] = [
    ("segment builder (new)", lambda w: "/segments/new"),
    ("segment builder", lambda w: f"/segments/{w.segment_id}/edit"),
    ("sequence builder (new)", lambda w: "/sequences/new"),
    ("sequence builder", lambda w: f"/sequences/{w.sequence_id}/edit"),
    ("step experiment", lambda w: f"/sequences/{w.sequence_id}/steps/intro/experiment"),
    ("new template", lambda w: "/content/new"),
    ("content editor", lambda w: f"/content/{w.template_id}"),
    ("block editor", lambda w: f"/content/{w.template_id}/blocks?locale=en"),
    ("block editor (Russian)", lambda w: f"/content/{w.template_id}/blocks?locale=ru"),
]
SETTINGS: list[tuple[str, Path_]] = [
    ("settings", lambda w: "/settings"),
    ("users", lambda w: "/settings/users"),
    ("api keys", lambda w: "/settings/api-keys"),
    ("audit log", lambda w: "/settings/audit"),
    ("qualification", lambda w: "/settings/qualification"),
    ("routing", lambda w: "/settings/qualification/routing"),
    ("webhooks", lambda w: "/settings/webhooks"),
    ("webhook", lambda w: f"/settings/webhooks/{w.subscription_id}"),
    ("brand", lambda w: "/settings/brand"),
]
PUBLIC: list[tuple[str, Path_]] = [
    ("unsubscribe", lambda w: w.unsubscribe),
    ("preferences saved", lambda w: w.unsubscribe + "?done=saved"),
    ("nps answer", lambda w: w.nps_answer),
    ("nps follow-up", lambda w: w.nps_follow_up),
    ("nps thanks", lambda w: w.nps_thanks),
    ("testimonial", lambda w: w.testimonial),
    ("testimonial withdraw", lambda w: w.testimonial + "/withdraw"),
    ("referral", lambda w: w.referral),
    ("referral thanks", lambda w: w.referral + "/thanks"),
    ("webinar registration", lambda w: w.webinar),
    ("webinar registered", lambda w: w.webinar + "?done=registered"),
    ("link refused", lambda w: "/nps/not-a-real-token-at-all-0123456789/9"),
]
# Pages that answer an error on purpose, and the status they answer.
ERRORS = {"not found": 404, "link refused": 400}
SIGNED_IN = NAVIGATION + BUILDERS + SETTINGS

# Runs axe on the whole document with the WCAG 2.0/2.1 A and AA rules; answers one
# row per violated rule: [rule, node count, first node's selector, what is wrong with it
# (for contrast: the two colours and the ratio)].
RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  return result.violations.map((v) => {
    const first = v.nodes[0];
    const check = [...first.any, ...first.all, ...first.none][0];
    return [v.id, v.nodes.length, String(first.target[0]), check ? check.message : v.help];
  });
}"""
# htmx fetches badges and panels on load; audit what a person sees once they are in.
SETTLED = "() => document.readyState === 'complete' && !document.querySelector('.htmx-request')"

# page, width, rule, node count, first target, why
Row = tuple[str, int, str, int, str, str]


@pytest.fixture
def db_url(sqlite_db_url: str) -> str:
    # What is audited is markup and CSS; the database behind them does not change it.
    return sqlite_db_url


def _audit(page: Page, url: str, name: str, width: int, axe: str) -> list[Row]:
    response = page.goto(url)
    assert response is not None, url
    assert response.status == ERRORS.get(name, 200), f"{name}: {url} answered {response.status}"
    return _axe(page, name, width, axe)


def _axe(page: Page, name: str, width: int, axe: str) -> list[Row]:
    page.wait_for_function(SETTLED)
    # CDP evaluation is not bound by the page's CSP, which forbids inline scripts.
    page.evaluate(axe)
    found: list[list[Any]] = page.evaluate(RUN_AXE, TAGS)
    return [(name, width, str(rule), int(n), str(at), str(why)) for rule, n, at, why in found]


def _table(rows: list[Row]) -> str:
    lines = [f"{'page':28} {'width':>5}  {'rule':26} {'nodes':>5}  first target"]
    lines += [
        f"{name:28} {width:>5}  {rule:26} {nodes:>5}  {target}  ({why})"
        for name, width, rule, nodes, target, why in rows
    ]
    pages = len({(r[0], r[1]) for r in rows})
    lines.append(f"{sum(r[3] for r in rows)} nodes, {len(rows)} violations on {pages} pages")
    return "\n".join(lines)


def test_no_page_violates_wcag_a_or_aa(browser: Browser, live_server: str, db: Session) -> None:
    world = build_world(db, SECRET)
    axe = AXE.read_text() + "\n;true"
    found: list[Row] = []
    errors: list[str] = []
    for width in WIDTHS:
        # No transitions: a colour caught halfway through one would be measured.
        context = browser.new_context(
            viewport={"width": width, "height": 900}, reduced_motion="reduce"
        )
        try:
            page = context.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            for name, path in PUBLIC:
                found += _audit(page, live_server + path(world), name, width, axe)
            found += _audit(page, f"{live_server}/login", "sign-in", width, axe)
            page.get_by_label("E-mail").fill(world.admin.email)
            page.get_by_label("Password").fill("not the password")
            page.get_by_role("button", name="Sign in").click()
            page.get_by_role("alert").wait_for()
            found += _axe(page, "sign-in refused", width, axe)
            sign_in(page, live_server, world.admin.email)
            for name, path in SIGNED_IN:
                found += _audit(page, live_server + path(world), name, width, axe)
        finally:
            context.close()
    assert errors == [], f"scripts failed: {errors}"
    assert not found, "axe found WCAG 2 A/AA violations:\n" + _table(found)
