"""The app's mail settings and transport, shared by the API and the UI."""

from __future__ import annotations

import time
from typing import Any

from litestar import Litestar

from campaigns.delivery.factory import transport_for
from campaigns.delivery.transport import Transport
from campaigns.email import brand
from campaigns.email.mailconfig import MailConfig
from nurture.db import session_scope
from nurture.web.state import settings_of

BRAND_TTL = 10.0


def mail_config(app: Litestar) -> MailConfig:
    """The app's MailConfig, built once (it may read the DKIM key file)."""
    found: Any = app.state.get("mail_config")
    if isinstance(found, MailConfig):
        return found
    config = MailConfig.from_settings(settings_of(app))
    app.state.mail_config = config
    return config


def page_brand(app: Litestar) -> dict[str, Any]:
    """The brand a public page shows: the configured one with Settings → Brand over it.

    Kept for BRAND_TTL seconds: public pages come in bursts after a send, and some are
    answered on the event loop. A save in this process shows at once (`forget_page_brand`),
    one in another process within BRAND_TTL."""
    kept: Any = app.state.get("page_brand")
    now = time.monotonic()
    if isinstance(kept, tuple) and now - kept[0] < BRAND_TTL:
        return dict(kept[1])
    with session_scope(settings_of(app).database_url) as session:
        found = brand.current(session, mail_config(app).brand)
    app.state.page_brand = (now, found)
    return dict(found)


def forget_page_brand(app: Litestar) -> None:
    """Drop the kept brand (after Settings → Brand is saved)."""
    app.state.page_brand = None


def transport(app: Litestar) -> Transport:
    """SMTP when NURTURE_SMTP_URL is set, else the capture mailbox (shared per process)."""
    return transport_for(settings_of(app))
