"""Server-side sessions end when they should, and CSRF tokens only work with their session."""

from __future__ import annotations

from datetime import timedelta

from litestar.testing import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture import accounts
from nurture.models import ApiKey, User, UserSession, utcnow
from tests.factories import PASSWORD, make_user
from tests.ui.helpers import HTML, Client, csrf_token, login, post_form

BASE_URL = "http://127.0.0.1:8000"


def _signed_in(client: Client, db: Session, role: str = "marketer") -> User:
    user = make_user(db, role=role)
    db.commit()
    login(client, user)
    return user


def _replay(client: Client, session_cookie: str) -> int:
    """Status of GET /contacts from a fresh browser holding only `session_cookie`."""
    with TestClient(client.app, base_url=BASE_URL) as other:
        other.cookies.set("nurture_session", session_cookie)
        return other.get("/contacts", headers=HTML, follow_redirects=False).status_code


def test_a_session_cookie_replayed_after_logout_opens_nothing(client: Client, db: Session) -> None:
    _signed_in(client, db)
    stolen = client.cookies.get("nurture_session")
    assert stolen
    assert _replay(client, stolen) == 200
    assert post_form(client, "/logout").status_code == 303
    assert _replay(client, stolen) in (302, 303)


def test_sign_out_everywhere_ends_the_other_browsers_at_once(client: Client, db: Session) -> None:
    member = make_user(db, role="sales")
    _signed_in(client, db, role="admin")
    with (
        TestClient(client.app, base_url=BASE_URL) as laptop,
        TestClient(client.app, base_url=BASE_URL) as phone,
    ):
        login(laptop, member)
        login(phone, member)
        assert phone.get("/contacts", headers=HTML).status_code == 200
        response = post_form(client, f"/settings/users/{member.id}/sessions/revoke")
        assert response.status_code == 303
        assert "2 sessions ended" in client.get(response.headers["location"], headers=HTML).text
        for browser in (laptop, phone):
            page = browser.get("/contacts", headers=HTML, follow_redirects=False)
            assert page.status_code in (302, 303)
    # The admin who did it is still signed in.
    assert client.get("/settings/users", headers=HTML).status_code == 200


def test_signing_yourself_out_everywhere_ends_this_browser_too(client: Client, db: Session) -> None:
    admin = _signed_in(client, db, role="admin")
    response = post_form(client, f"/settings/users/{admin.id}/sessions/revoke")
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert client.get("/contacts", headers=HTML, follow_redirects=False).status_code in (302, 303)


def test_only_admins_may_sign_others_out(client: Client, db: Session) -> None:
    other = make_user(db, role="marketer")
    _signed_in(client, db, role="marketer")
    response = post_form(client, f"/settings/users/{other.id}/sessions/revoke")
    assert response.status_code == 403


def test_deactivation_and_password_change_end_sessions(client: Client, db: Session) -> None:
    user = _signed_in(client, db)
    cookie = client.cookies.get("nurture_session")
    assert cookie
    accounts.set_password(db, user_id=user.id, password="a brand new password", actor="test")
    db.commit()
    assert _replay(client, cookie) in (302, 303)
    login(client, user, password="a brand new password")
    cookie = client.cookies.get("nurture_session")
    assert cookie
    assert _replay(client, cookie) == 200
    make_user(db, role="admin")
    accounts.set_user_active(db, user_id=user.id, active=False, actor="test")
    accounts.set_user_active(db, user_id=user.id, active=True, actor="test")
    db.commit()
    # Reactivating does not bring the old session back.
    assert _replay(client, cookie) in (302, 303)


def test_an_expired_or_idle_session_opens_nothing(client: Client, db: Session) -> None:
    _signed_in(client, db)
    assert client.get("/contacts", headers=HTML).status_code == 200
    row = db.scalars(select(UserSession)).one()
    row.last_seen_at = utcnow() - accounts.SESSION_IDLE_TIMEOUT - timedelta(minutes=1)
    db.commit()
    assert client.get("/contacts", headers=HTML, follow_redirects=False).status_code in (302, 303)


def test_an_anonymous_csrf_token_does_not_pass_with_an_admins_session(
    client: Client, db: Session
) -> None:
    _signed_in(client, db, role="admin")
    admin_session = client.cookies.get("nurture_session")
    assert admin_session
    with TestClient(client.app, base_url=BASE_URL) as attacker:
        anonymous = csrf_token(attacker)
        attacker.cookies.set("nurture_session", admin_session)
        response = attacker.post(
            "/settings/api-keys",
            data={"_csrf_token": anonymous, "name": "Backdoor", "role": "admin"},
            headers=HTML,
            follow_redirects=False,
        )
        assert response.status_code == 403
        # Nor in the header that htmx sends.
        response = attacker.post(
            "/settings/api-keys",
            data={"name": "Backdoor", "role": "admin"},
            headers={**HTML, "x-csrftoken": anonymous},
            follow_redirects=False,
        )
        assert response.status_code == 403
    assert db.scalar(select(func.count()).select_from(ApiKey)) == 0
    # The admin's own token, bound to their session, still works.
    created = post_form(client, "/settings/api-keys", {"name": "Website", "role": "marketer"})
    assert created.status_code == 303


def test_a_token_from_one_session_fails_with_another(client: Client, db: Session) -> None:
    user = _signed_in(client, db, role="admin")
    first_token = csrf_token(client)
    with TestClient(client.app, base_url=BASE_URL) as second:
        login(second, user)
        assert csrf_token(second) != first_token
        response = second.post(
            "/settings/api-keys",
            data={"_csrf_token": first_token, "name": "Other", "role": "marketer"},
            headers=HTML,
            follow_redirects=False,
        )
        assert response.status_code == 403


def test_the_page_token_matches_the_cookie_after_sign_in(client: Client, db: Session) -> None:
    _signed_in(client, db)
    page = client.get("/contacts", headers=HTML).text
    token = client.cookies.get("nurture_csrf")
    assert token
    assert f'"x-csrftoken": "{token}"' in page


def test_changing_your_password_signs_out_every_other_browser(client: Client, db: Session) -> None:
    user = make_user(db)
    db.commit()
    with TestClient(client.app, base_url=BASE_URL) as other:
        login(other, user)
        login(client, user)
        wrong = post_form(
            client,
            "/settings/password",
            {"current_password": "not it at all", "new_password": "a brand new password"},
        )
        assert wrong.status_code == 422
        assert "is not your current password" in wrong.text
        assert other.get("/contacts", headers=HTML).status_code == 200
        changed = post_form(
            client,
            "/settings/password",
            {"current_password": PASSWORD, "new_password": "a brand new password"},
        )
        assert changed.status_code == 303
        assert changed.headers["location"] == "/settings?password=changed"
        page = client.get("/settings?password=changed", headers=HTML)
        assert "Every other browser has been signed out" in page.text
        # This browser's new session works with its new token; the other one is out.
        assert post_form(client, "/settings/password", {}).status_code == 422
        gone = other.get("/contacts", headers=HTML, follow_redirects=False)
        assert gone.status_code in (302, 303)
        login(other, user, password="a brand new password")
