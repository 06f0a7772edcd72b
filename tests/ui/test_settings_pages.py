"""Settings for admins: users, API keys shown once, the audit log."""

from __future__ import annotations

import re

from litestar.testing import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture import accounts
from nurture.models import ApiKey, User
from tests.factories import PASSWORD, make_contact, make_user
from tests.ui.helpers import HTML, Client, login, post_form


def _admin(client: Client, db: Session) -> User:
    admin = make_user(db, role="admin")
    db.commit()
    login(client, admin)
    return admin


def test_admin_creates_a_user_who_can_then_sign_in(client: Client, db: Session) -> None:
    _admin(client, db)
    response = post_form(
        client,
        "/settings/users",
        {"email": "New.Rep@Firm.example", "name": "New Rep", "role": "sales", "password": "x" * 12},
    )
    assert response.status_code == 303
    listing = client.get(response.headers["location"], headers=HTML).text
    assert "Account created for new.rep@firm.example" in listing
    db.expire_all()
    user = db.scalar(select(User).where(User.email == "new.rep@firm.example"))
    assert user is not None
    assert user.role == "sales"
    assert accounts.authenticate(db, email="new.rep@firm.example", password="x" * 12) is not None


def test_creating_a_user_with_bad_input_names_the_field_and_keeps_the_form(
    client: Client, db: Session
) -> None:
    existing = make_user(db)
    _admin(client, db)
    short = post_form(
        client,
        "/settings/users",
        {"email": "ok@firm.example", "name": "Kim", "role": "marketer", "password": "short"},
    )
    assert short.status_code == 422
    assert 'id="uerr-password"' in short.text
    assert 'value="ok@firm.example"' in short.text
    taken = post_form(
        client,
        "/settings/users",
        {"email": existing.email, "role": "marketer", "password": "x" * 12},
    )
    assert taken.status_code == 422
    assert "already exists" in taken.text
    db.expire_all()
    assert db.scalar(select(User).where(User.email == "ok@firm.example")) is None


def test_deactivated_user_is_signed_out_and_can_be_reactivated(client: Client, db: Session) -> None:
    member = make_user(db, role="marketer")
    _admin(client, db)
    with TestClient(client.app, base_url="http://127.0.0.1:8000") as other:
        login(other, member)
        assert other.get("/contacts", headers=HTML).status_code == 200
        response = post_form(client, f"/settings/users/{member.id}/active", {"active": "0"})
        assert response.status_code == 303
        locked_out = other.get("/contacts", headers=HTML, follow_redirects=False)
        assert locked_out.status_code in (302, 303)
    post_form(client, f"/settings/users/{member.id}/active", {"active": "1"})
    db.expire_all()
    stored = db.get(User, member.id)
    assert stored is not None
    assert stored.is_active


def test_admin_cannot_deactivate_their_own_account(client: Client, db: Session) -> None:
    admin = _admin(client, db)
    response = post_form(client, f"/settings/users/{admin.id}/active", {"active": "0"})
    assert response.status_code == 409
    assert "cannot deactivate your own account" in response.text
    db.expire_all()
    stored = db.get(User, admin.id)
    assert stored is not None
    assert stored.is_active


def test_new_api_key_is_shown_once_and_works(client: Client, db: Session) -> None:
    _admin(client, db)
    answer = post_form(client, "/settings/api-keys", {"name": "Website forms", "role": "marketer"})
    assert answer.status_code == 303
    created = client.get(answer.headers["location"], headers=HTML)
    assert created.headers["cache-control"] == "no-store"
    match = re.search(r'data-testid="new-api-key">(nk_[^<]+)</code>', created.text)
    assert match is not None
    key = match.group(1)
    assert accounts.verify_api_key(db, key) is not None
    again = client.get("/settings/api-keys", headers=HTML).text
    assert key not in again
    assert "Website forms" in again
    assert (
        client.get("/api/v1/contacts", headers={"authorization": f"Bearer {key}"}).status_code
        == 200
    )


def test_revoked_api_key_stops_working_at_once(client: Client, db: Session) -> None:
    key, plaintext = accounts.create_api_key(db, name="CRM", actor="test")
    _admin(client, db)
    bearer = {"authorization": f"Bearer {plaintext}"}
    assert client.get("/api/v1/contacts", headers=bearer).status_code == 200
    response = post_form(client, f"/settings/api-keys/{key.id}/revoke")
    assert response.status_code == 303
    assert client.get("/api/v1/contacts", headers=bearer).status_code == 401
    db.expire_all()
    stored = db.get(ApiKey, key.id)
    assert stored is not None
    assert stored.revoked_at is not None


def test_api_key_without_a_name_is_refused_by_field(client: Client, db: Session) -> None:
    _admin(client, db)
    response = post_form(client, "/settings/api-keys", {"name": "  ", "role": "marketer"})
    assert response.status_code == 422
    assert 'id="kerr-name"' in response.text
    assert db.scalar(select(ApiKey)) is None


def test_audit_log_names_who_changed_what_and_pages(client: Client, db: Session) -> None:
    admin = _admin(client, db)
    contact = make_contact(db, first_name="Before")
    db.commit()
    post_form(
        client, f"/contacts/{contact.id}/edit", {"email": contact.email, "first_name": "After"}
    )
    page = client.get("/settings/audit", headers=HTML).text
    assert "contact.updated" in page
    assert admin.name in page
    assert "Before → After" in page
    for n in range(60):
        accounts.create_api_key(db, name=f"k{n}", actor="cli")
    db.commit()
    first = client.get("/settings/audit", headers=HTML).text
    # What the command line did reads as such, not as the raw actor "cli".
    assert "command line" in first
    assert ">cli<" not in first
    older = re.search(r'href="(/settings/audit\?before=\d+)"', first)
    assert older is not None
    second = client.get(older.group(1), headers=HTML).text
    assert "contact.updated" in second
    assert "back to newest" in second


def test_settings_account_page_shows_the_signed_in_user(client: Client, db: Session) -> None:
    user = make_user(db, role="sales")
    db.commit()
    login(client, user, PASSWORD)
    page = client.get("/settings", headers=HTML).text
    assert user.email in page
    assert "/settings/users" not in page
