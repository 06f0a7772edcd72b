"""In Chromium: an admin sets up a team and a routing rule, then turns qualification on."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.models import RoutingRule, SalesTeam
from nurture.qualification import settings
from tests.browser.signin import sign_in
from tests.factories import make_user

SCREENSHOTS = "/tmp/nurture-browser"
pytestmark = pytest.mark.browser


def test_admin_sets_up_routing_and_qualification(
    browser: Browser, live_server: str, db: Session
) -> None:
    admin = make_user(db, role="admin")
    ann, ben = make_user(db, role="sales"), make_user(db, role="sales")
    db.commit()
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    sign_in(page, live_server, admin.email, then="/settings")

    tabs = page.get_by_role("navigation", name="Settings sections")
    tabs.get_by_role("link", name="Routing").click()
    new_team = page.locator("form[action='/settings/qualification/routing/teams']")
    new_team.get_by_label("Name").fill("DACH")
    new_team.get_by_label(ann.name).check()
    new_team.get_by_label(ben.name).check()
    new_team.get_by_label("Team lead").select_option(label=ann.name)
    new_team.get_by_role("button", name="Create team").click()
    expect(page.get_by_role("status")).to_contain_text("Saved.")

    new_rule = page.locator("form[action='/settings/qualification/routing/rules']")
    new_rule.get_by_label("Name").fill("German-speaking")
    new_rule.get_by_label("Countries").fill("DE, AT, CH")
    new_rule.get_by_label("Goes to").select_option(label="Team DACH (round-robin)")
    new_rule.get_by_role("button", name="Add rule").click()
    expect(page.get_by_role("cell", name="country: DE, AT, CH")).to_be_visible()
    page.screenshot(path=f"{SCREENSHOTS}/routing-settings.png", full_page=True)

    tabs.get_by_role("link", name="Qualification").click()
    page.get_by_label("Qualify leads automatically").check()
    page.get_by_label("SLA in working hours").fill("0")
    page.get_by_role("button", name="Save qualification settings").click()
    expect(page.get_by_text("must be a whole number of hours from 1 to 1000")).to_be_visible()
    page.get_by_label("SLA in working hours").fill("4")
    page.get_by_label("Fallback owner").select_option(label=ben.name)
    page.get_by_role("button", name="Save qualification settings").click()
    expect(page.get_by_role("status")).to_contain_text("Qualification settings saved.")
    page.screenshot(path=f"{SCREENSHOTS}/qualification-settings.png", full_page=True)
    context.close()

    db.expire_all()
    team = db.scalars(select(SalesTeam)).one()
    assert team.lead_id == ann.id
    rule = db.scalars(select(RoutingRule)).one()
    assert (rule.team_id, rule.match) == (team.id, {"country": ["DE", "AT", "CH"]})
    stored = settings.get(db)
    assert (stored.enabled, stored.sla_hours, stored.fallback_owner_id) == (True, 4, ben.id)
