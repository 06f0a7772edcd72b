"""The public webinar registration page behind a signed link: no login.

`GET /w/{token}` shows the webinar and a one-click "Register" form and changes
nothing. `POST /w/{token}` registers the contact the token names (idempotent: a
second post finds the registration) and shows the page again; a full webinar
answers 409 with a page that says so. `GET /w/{token}/invite.ics` downloads the
calendar invitation the confirmation e-mail carries. The token alone authorises,
as for the unsubscribe page, so these paths are exempt from the CSRF cookie.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from campaigns.content import registrations
from nurture.db import session_scope
from nurture.models import utcnow
from nurture.web.mail import mail_config, page_brand, transport
from nurture.web.state import settings_of
from templates.ics import content_type
from workers.actors import hand_over

log = logging.getLogger(__name__)
_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _page(
    request: Request[Any, Any, Any], template: str, status_code: int = 200, **context: Any
) -> Template:
    brand = page_brand(request.app)
    return Template(
        f"public/{template}",
        context={"brand": brand, "locale": "en", **context},
        status_code=status_code,
        headers=_HEADERS,
    )


@get("/w/{token:str}", sync_to_thread=True, name="webinar-page")
def webinar_page(
    request: Request[Any, Any, Any], token: FromPath[str], done: FromQuery[str] = ""
) -> Template:
    """The webinar and its Register button; GET never changes anything."""
    config = mail_config(request.app)
    with session_scope(settings_of(request.app).database_url) as session:
        page = registrations.registration_page(
            session, signer=config.signer, token=token, now=utcnow()
        )
    return _page(
        request, "webinar_register.html", page=page, token=token, done=done == "registered"
    )


@post("/w/{token:str}", sync_to_thread=True, status_code=303, name="webinar-register")
def webinar_register(request: Request[Any, Any, Any], token: FromPath[str]) -> Redirect | Template:
    """Register (once) and send the confirmation; back to the page, or the 'full' page."""
    try:
        with session_scope(settings_of(request.app).database_url) as session:
            done = registrations.register_by_token(
                session,
                token=token,
                now=utcnow(),
                transport=transport(request.app),
                config=mail_config(request.app),
            )
            hand_over(session, done.event_ids)
    except registrations.WebinarFull:
        return _page(request, "webinar_full.html", status_code=409)
    except registrations.RegistrationClosed:
        return _page(request, "webinar_closed.html", status_code=409)
    return Redirect(f"/w/{token}?done=registered", status_code=303)


@get("/w/{token:str}/invite.ics", sync_to_thread=True, name="webinar-invite-ics")
def webinar_invite_ics(request: Request[Any, Any, Any], token: FromPath[str]) -> Response[bytes]:
    """The calendar invitation for this contact and webinar."""
    with session_scope(settings_of(request.app).database_url) as session:
        invitation = registrations.invite_by_token(
            session, token=token, config=mail_config(request.app)
        )
    return Response(
        invitation,
        media_type=content_type(invitation),
        headers={**_HEADERS, "Content-Disposition": 'attachment; filename="invite.ics"'},
    )


handlers = [webinar_page, webinar_register, webinar_invite_ics]
