"""NURTURE_SMTP_URL: `smtp://user:pass@host:587?starttls=true` or `smtps://user:pass@host:465`."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from nurture.config import SettingsError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True, slots=True)
class SmtpServer:
    host: str
    port: int
    implicit_tls: bool = False
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    # Only for tests against a self-signed certificate; never set in production.
    verify_certificate: bool = True
    timeout: float = 30.0


def parse_smtp_url(url: str) -> SmtpServer:
    """Parse the relay URL; SettingsError names what is wrong.

    Query options: `starttls=true|false` (smtp:// only), `verify=false` (accept any
    certificate, for a local test relay), `timeout=<seconds>`.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise SettingsError(f"NURTURE_SMTP_URL must start with smtp:// or smtps://: {url!r}")
    if not parts.hostname:
        raise SettingsError("NURTURE_SMTP_URL names no host")
    options = {k: v[-1].lower() for k, v in parse_qs(parts.query).items()}
    implicit = parts.scheme == "smtps"
    starttls = _flag(options, "starttls", default=False)
    if implicit and starttls:
        raise SettingsError("NURTURE_SMTP_URL: smtps:// is already TLS; drop starttls=true")
    try:
        port = parts.port or (465 if implicit else 25)
    except ValueError:
        raise SettingsError("NURTURE_SMTP_URL has a bad port") from None
    try:
        timeout = float(options.get("timeout", "30"))
    except ValueError:
        raise SettingsError("NURTURE_SMTP_URL: timeout must be a number of seconds") from None
    return SmtpServer(
        host=parts.hostname,
        port=port,
        implicit_tls=implicit,
        starttls=starttls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        verify_certificate=_flag(options, "verify", default=True),
        timeout=timeout,
    )


def _flag(options: dict[str, str], name: str, *, default: bool) -> bool:
    value = options.get(name)
    if value is None:
        return default
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingsError(f"NURTURE_SMTP_URL: {name} must be true or false, got {value!r}")
