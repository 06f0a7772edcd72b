"""The unsubscribe and preferences page behind a signed token: public, no login.

`GET /u/{token}` shows the topics and "unsubscribe from all" and changes nothing.
`POST /u/{token}` acts, authorised by the token alone (no cookies, no CSRF token,
no JavaScript needed):

- the RFC 8058 one-click body `List-Unsubscribe=One-Click` (what mail clients send
  from the List-Unsubscribe-Post header) unsubscribes from everything and answers
  200; repeating it changes nothing and answers the same;
- the page's own form sends `action=save` (with the `topics` kept),
  `action=unsubscribe_all` or `action=resubscribe`, and is sent back to the page.
"""

from __future__ import annotations

from typing import Any

import anyio
from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from campaigns.email import preferences as prefs
from nurture.db import session_scope
from nurture.errors import InvalidInput
from nurture.web.mail import page_brand
from nurture.web.public.copy import texts
from nurture.web.state import settings_of

ACTIONS = frozenset({"save", "unsubscribe_all", "resubscribe"})
DONE = frozenset({"saved", "unsubscribed", "resubscribed"})


def _page(
    request: Request[Any, Any, Any],
    template: str,
    *,
    locale: str = "en",
    status_code: int = 200,
    **context: Any,
) -> Template:
    brand = page_brand(request.app)
    return Template(
        f"public/{template}",
        context={"brand": brand, "t": texts(locale), "locale": locale, **context},
        status_code=status_code,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


def _is_test_token(request: Request[Any, Any, Any], token: str) -> bool:
    # Test sends carry an unsubscribe link that names no contact (id 0).
    secret = settings_of(request.app).secret_key
    return prefs.verify_token(token, secret=secret).contact_id == 0


@get("/u/{token:str}", sync_to_thread=True, name="preferences-page")
def preferences_page(
    request: Request[Any, Any, Any], token: FromPath[str], done: FromQuery[str] = ""
) -> Template:
    """The preferences page; GET never changes anything."""
    if _is_test_token(request, token):
        return _page(request, "test_link.html")
    with session_scope(settings_of(request.app).database_url) as session:
        found = prefs.preferences(session, token, secret=settings_of(request.app).secret_key)
    return _page(
        request,
        "preferences.html",
        locale=found.locale,
        prefs=found,
        token=token,
        done=done if done in DONE else "",
    )


@post("/u/{token:str}", status_code=200, name="preferences-post")
async def preferences_post(
    request: Request[Any, Any, Any], token: FromPath[str]
) -> Template | Redirect:
    """One-click unsubscribe (RFC 8058) or the page's form."""
    form = await request.form()
    one_click = form.get("List-Unsubscribe") == "One-Click"
    action = "unsubscribe_all" if one_click else str(form.get("action") or "")
    if action not in ACTIONS:
        raise InvalidInput.single(
            "action", "send List-Unsubscribe=One-Click, or action=save|unsubscribe_all|resubscribe"
        )
    topics = [str(v) for v in form.getall("topics", [])]
    if _is_test_token(request, token):
        return _page(request, "test_link.html")
    settings = settings_of(request.app)

    def act() -> tuple[str, str]:
        with session_scope(settings.database_url) as session:
            secret = settings.secret_key
            if action == "unsubscribe_all":
                prefs.unsubscribe_all(
                    session, token, secret=secret, source="one-click" if one_click else "page"
                )
                done = "unsubscribed"
            elif action == "resubscribe":
                prefs.resubscribe(session, token, secret=secret)
                done = "resubscribed"
            else:
                prefs.update_topics(session, token, subscribed=topics, secret=secret)
                done = "saved"
            return prefs.preferences(session, token, secret=secret).locale, done

    locale, done = await anyio.to_thread.run_sync(act)
    if one_click:
        return _page(request, "unsubscribed.html", locale=locale)
    return Redirect(f"/u/{token}?done={done}", status_code=303)


handlers = [preferences_page, preferences_post]
