"""Signing in and out: credentials, session, safe redirects, CSRF, throttling."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient
from sqlalchemy.orm import Session

from nurture import accounts
from nurture.config import Settings
from nurture.ratelimit import limiter_for
from nurture.web.app import create_app
from nurture.web.ui.session import LOGIN_PER_ACCOUNT, LOGIN_PER_ADDRESS, safe_next
from tests.factories import PASSWORD, make_user
from tests.ui.helpers import HTML, Client, csrf_token, login, post_form


def test_anonymous_visitor_is_sent_to_login_with_the_page_to_return_to(client: Client) -> None:
    response = client.get("/contacts?q=ada", headers=HTML, follow_redirects=False)
    assert response.status_code in (302, 303)
    assert response.headers["location"] == "/login?next=/contacts%3Fq%3Dada"


def test_correct_password_signs_in_and_returns_to_next(client: Client, db: Session) -> None:
    user = make_user(db, role="marketer")
    db.commit()
    response = post_form(
        client, "/login", {"email": user.email.upper(), "password": PASSWORD, "next": "/contacts"}
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/contacts"
    page = client.get("/contacts", headers=HTML)
    assert page.status_code == 200
    assert user.name in page.text


def test_wrong_password_shows_an_error_and_keeps_the_email(client: Client, db: Session) -> None:
    user = make_user(db)
    db.commit()
    response = post_form(client, "/login", {"email": user.email, "password": "not the password"})
    assert response.status_code == 400
    assert "do not match an active account" in response.text
    assert f'value="{user.email}"' in response.text
    assert client.get("/", headers=HTML, follow_redirects=False).status_code in (302, 303)


def test_deactivated_user_cannot_sign_in(client: Client, db: Session) -> None:
    user = make_user(db)
    accounts.set_user_active(db, user_id=user.id, active=False, actor="test")
    db.commit()
    response = post_form(client, "/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 400


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/steal",
        "https://evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/\tevil.example",
    ],
)
def test_login_never_redirects_off_site(client: Client, db: Session, target: str) -> None:
    user = make_user(db)
    db.commit()
    response = post_form(
        client, "/login", {"email": user.email, "password": PASSWORD, "next": target}
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_safe_next_keeps_local_paths_with_queries() -> None:
    assert safe_next("/contacts?q=ada&stage=lead") == "/contacts?q=ada&stage=lead"
    assert safe_next("//evil.example") == "/"
    assert safe_next("https://evil.example/x") == "/"
    assert safe_next(None) == "/"


def test_login_form_post_without_csrf_token_is_refused(client: Client, db: Session) -> None:
    user = make_user(db)
    db.commit()
    csrf_token(client)
    response = client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD},
        headers=HTML,
        follow_redirects=False,
    )
    assert response.status_code == 403


def test_logout_needs_csrf_and_then_ends_the_session(client: Client, db: Session) -> None:
    user = make_user(db)
    db.commit()
    login(client, user)
    refused = client.post("/logout", headers=HTML, follow_redirects=False)
    assert refused.status_code == 403
    assert client.get("/", headers=HTML).status_code == 200
    response = post_form(client, "/logout")
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert client.get("/", headers=HTML, follow_redirects=False).status_code in (302, 303)


def test_signing_in_discards_what_the_old_session_held(client: Client, db: Session) -> None:
    first = make_user(db, role="admin")
    second = make_user(db, role="sales")
    db.commit()
    login(client, first)
    login(client, second)
    page = client.get("/settings", headers=HTML)
    assert second.email in page.text
    assert client.get("/settings/users", headers=HTML).status_code == 403


def test_signed_in_visitor_skips_the_login_form(client: Client, db: Session) -> None:
    user = make_user(db)
    db.commit()
    login(client, user)
    response = client.get("/login?next=/contacts", headers=HTML, follow_redirects=False)
    assert response.status_code in (302, 303)
    assert response.headers["location"] == "/contacts"


# The peer address Litestar's test client reports.
TEST_CLIENT_ADDRESS = "testclient"


def _attempt(client: Client, email: str, password: str) -> int:
    return post_form(client, "/login", {"email": email, "password": password}).status_code


def test_too_many_wrong_passwords_lock_the_account_even_for_the_right_one(
    client: Client, db: Session
) -> None:
    user = make_user(db)
    db.commit()
    for _ in range(LOGIN_PER_ACCOUNT.hits):
        assert _attempt(client, user.email, "not the password") == 400
    # Typed differently, still the same account.
    response = post_form(client, "/login", {"email": user.email.upper(), "password": PASSWORD})
    assert response.status_code == 429
    assert 0 < int(response.headers["retry-after"]) <= LOGIN_PER_ACCOUNT.window_seconds
    assert "Too many sign-in attempts. Try again in" in response.text
    assert client.get("/", headers=HTML, follow_redirects=False).status_code in (302, 303)


def test_a_successful_sign_in_clears_the_accounts_count(
    client: Client, db: Session, settings: Settings
) -> None:
    user = make_user(db)
    db.commit()
    limiter = limiter_for(settings)
    # Counted as if by earlier wrong passwords (each real one costs an argon2 hash).
    for _ in range(LOGIN_PER_ACCOUNT.hits - 2):
        limiter.hit(LOGIN_PER_ACCOUNT, user.email)
    assert _attempt(client, user.email, "not the password") == 400
    login(client, user)
    assert limiter.peek(LOGIN_PER_ACCOUNT, user.email).hits == 0


def test_one_address_trying_many_accounts_is_throttled(
    client: Client, db: Session, settings: Settings
) -> None:
    user = make_user(db)
    db.commit()
    limiter = limiter_for(settings)
    for _ in range(LOGIN_PER_ADDRESS.hits - 1):
        limiter.hit(LOGIN_PER_ADDRESS, TEST_CLIENT_ADDRESS)
    assert _attempt(client, "nobody@nurture.test", "guess") == 400
    response = post_form(client, "/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "retry-after" in response.headers
    # The account itself was never tried wrongly: the address alone refused it.
    assert limiter.peek(LOGIN_PER_ACCOUNT, user.email).hits == 0


def test_the_limit_holds_across_two_web_processes(
    client: Client, db: Session, settings: Settings
) -> None:
    user = make_user(db)
    db.commit()
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as second:
        for n in range(LOGIN_PER_ACCOUNT.hits):
            either = client if n % 2 else second
            assert _attempt(either, user.email, "not the password") == 400
        assert _attempt(second, user.email, PASSWORD) == 429
        assert _attempt(client, user.email, PASSWORD) == 429
