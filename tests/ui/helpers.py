"""Signing a test client in and posting forms the way a browser does (with the CSRF token)."""

from __future__ import annotations

from typing import Any

from httpx import Response
from litestar import Litestar
from litestar.testing import TestClient

from nurture.models import User
from tests.factories import PASSWORD

Client = TestClient[Litestar]
HTML = {"accept": "text/html"}


def csrf_token(client: Client) -> str:
    """The CSRF cookie, fetched from the login page if the client has none yet."""
    token = client.cookies.get("nurture_csrf")
    if token is None:
        client.get("/login", headers=HTML)
        token = client.cookies.get("nurture_csrf")
    assert token, "the login page sets the CSRF cookie"
    return token


def post_form(client: Client, url: str, data: dict[str, Any] | None = None) -> Response:
    form = {"_csrf_token": csrf_token(client), **(data or {})}
    return client.post(url, data=form, headers=HTML, follow_redirects=False)


def login(client: Client, user: User, password: str = PASSWORD) -> Response:
    response = post_form(client, "/login", {"email": user.email, "password": password})
    assert response.status_code == 303, response.text
    return response
