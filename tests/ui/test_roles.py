"""Who may open which page: the role matrix of the UI."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from nurture.models import User
from tests.factories import make_contact, make_user
from tests.ui.helpers import HTML, Client, login, post_form

ALL = {"admin", "marketer", "sales"}
# Page -> roles that may open it; every other role gets 403.
PAGES = {
    "/": ALL,
    "/contacts": ALL,
    "/contacts/{contact}": ALL,
    "/contacts/{contact}/edit": ALL,
    "/segments": {"admin", "marketer"},
    "/sequences": ALL,
    "/content": ALL,
    "/inbox": {"admin", "sales"},
    "/reviews": ALL,
    "/reports": ALL,
    "/settings": ALL,
    "/settings/users": {"admin"},
    "/settings/api-keys": {"admin"},
    "/settings/audit": {"admin"},
}


@pytest.mark.parametrize("role", sorted(ALL))
def test_each_role_opens_exactly_its_pages(client: Client, db: Session, role: str) -> None:
    contact = make_contact(db)
    user = make_user(db, role=role)
    db.commit()
    login(client, user)
    seen = {}
    for template in PAGES:
        path = template.format(contact=contact.id)
        seen[template] = client.get(path, headers=HTML, follow_redirects=False).status_code
    expected = {template: 200 if role in roles else 403 for template, roles in PAGES.items()}
    assert seen == expected


def test_anonymous_visitor_is_redirected_to_login_from_every_page(
    client: Client, db: Session
) -> None:
    contact = make_contact(db)
    db.commit()
    for template in PAGES:
        path = template.format(contact=contact.id)
        response = client.get(path, headers=HTML, follow_redirects=False)
        assert response.status_code in (302, 303), path
        assert response.headers["location"].startswith("/login?next="), path


def test_forbidden_page_explains_itself_without_a_stack_trace(client: Client, db: Session) -> None:
    login(client, _committed_user(db, "marketer"))
    response = client.get("/settings/users", headers=HTML)
    assert response.status_code == 403
    assert "access to this page" in response.text
    assert "marketer role may not open this page" in response.text


@pytest.mark.parametrize("role", ["marketer", "sales"])
def test_only_admins_may_change_users_and_keys(client: Client, db: Session, role: str) -> None:
    other = make_user(db, role="marketer")
    login(client, _committed_user(db, role))
    attempts = [
        ("/settings/users", {"email": "x@nurture.test", "password": "x" * 12, "role": "admin"}),
        (f"/settings/users/{other.id}/active", {"active": "0"}),
        ("/settings/api-keys", {"name": "sneaky", "role": "admin"}),
        ("/settings/api-keys/1/revoke", {}),
    ]
    for url, data in attempts:
        assert post_form(client, url, data).status_code == 403, url


def test_anonymous_htmx_request_is_told_to_reload_the_login_page(client: Client) -> None:
    response = client.get("/contacts/rows", headers={**HTML, "hx-request": "true"})
    # A 2xx htmx acts on, with no fragment to swap in: the header sends it to the login page.
    assert response.status_code == 200
    assert response.headers["hx-redirect"] == "/login"
    assert "location" not in response.headers


def _committed_user(db: Session, role: str) -> User:
    user = make_user(db, role=role)
    db.commit()
    return user
