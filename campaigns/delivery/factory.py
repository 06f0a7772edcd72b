"""The transport the settings ask for: a pooled SMTP relay, or the capture mailbox."""

from __future__ import annotations

import threading

from campaigns.delivery.capture import CaptureTransport
from campaigns.delivery.smtp import SmtpPool
from campaigns.delivery.smtp_url import parse_smtp_url
from campaigns.delivery.transport import Transport
from nurture.config import Settings

_lock = threading.Lock()
_transports: dict[tuple[str, str | None, int, float], Transport] = {}


def transport_for(settings: Settings) -> Transport:
    """One shared transport per configuration in this process (its connections are reused).

    SMTP when NURTURE_SMTP_URL is set, otherwise the capture mailbox in the database.
    """
    key = (
        settings.database_url,
        settings.smtp_url,
        settings.smtp_concurrency,
        settings.smtp_rate_per_domain,
    )
    with _lock:
        transport = _transports.get(key)
        if transport is None:
            transport = build_transport(settings)
            _transports[key] = transport
        return transport


def build_transport(settings: Settings) -> Transport:
    """A new transport for `settings` (the caller closes it)."""
    if settings.smtp_url is None:
        return CaptureTransport(settings.database_url)
    return SmtpPool(
        parse_smtp_url(settings.smtp_url),
        size=settings.smtp_concurrency,
        rate_per_domain=settings.smtp_rate_per_domain,
    )


def close_all() -> None:
    """Close every shared transport (on shutdown)."""
    with _lock:
        for transport in _transports.values():
            transport.close()
        _transports.clear()
