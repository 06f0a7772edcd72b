"""The app's mail settings and transport, shared by the API and the UI."""

from __future__ import annotations

from typing import Any

from litestar import Litestar

from campaigns.delivery.factory import transport_for
from campaigns.delivery.transport import Transport
from campaigns.email.mailconfig import MailConfig
from nurture.web.state import settings_of


def mail_config(app: Litestar) -> MailConfig:
    """The app's MailConfig, built once (it may read the DKIM key file)."""
    found: Any = app.state.get("mail_config")
    if isinstance(found, MailConfig):
        return found
    config = MailConfig.from_settings(settings_of(app))
    app.state.mail_config = config
    return config


def transport(app: Litestar) -> Transport:
    """SMTP when NURTURE_SMTP_URL is set, else the capture mailbox (shared per process)."""
    return transport_for(settings_of(app))
