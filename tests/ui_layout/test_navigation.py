"""The sidebar's navigation: every page a person may open is one click away, the Imports page
included (nothing linked to it before)."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from tests.factories import make_user
from tests.ui.helpers import HTML, Client, login


def _nav_links(page: str) -> dict[str, str]:
    """The sidebar's links: label -> address, and which one is marked current."""
    nav = page.split('id="sidebar"', 1)[1].split("</nav>", 1)[0]
    return {
        label: href
        for href, label in re.findall(
            r'<a class="nav-link" href="([^"]+)"[^>]*>.*?<span>([^<]+)</span>', nav
        )
    }


def _current(page: str) -> str:
    nav = page.split('id="sidebar"', 1)[1].split("</nav>", 1)[0]
    found = re.search(r'href="([^"]+)" aria-current="page"', nav)
    assert found is not None, nav
    return found.group(1)


def test_marketer_finds_imports_in_the_navigation_and_it_is_marked_there(
    client: Client, db: Session
) -> None:
    user = make_user(db, role="marketer")
    db.commit()
    login(client, user)
    home = client.get("/", headers=HTML)
    assert _nav_links(home.text)["Imports"] == "/imports"

    imports = client.get("/imports", headers=HTML)
    assert imports.status_code == 200
    assert _current(imports.text) == "/imports"


def test_sales_rep_sees_no_imports_link_they_could_not_open(client: Client, db: Session) -> None:
    user = make_user(db, role="sales")
    db.commit()
    login(client, user)
    links = _nav_links(client.get("/", headers=HTML).text)
    assert "Contacts" in links
    assert "Imports" not in links
    assert client.get("/imports", headers=HTML).status_code == 403
