"""Settings: one typed object, built once from the environment."""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
# Marketing e-mails per contact in any rolling 7 days, across all sequences.
DEFAULT_FREQUENCY_CAP = 3
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
# Quotes, brackets and spaces could end the attribute or the CSS value they are put in.
_FONT_URL = re.compile(r"^https://[^\s\"'<>()\\]+$")
_FONT_FAMILY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]{0,63}$")


class SettingsError(ValueError):
    """A setting has a value we cannot use; the message names the variable."""


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    database_url: str
    secret_key: str
    base_url: str = DEFAULT_BASE_URL
    redis_url: str | None = None
    smtp_url: str | None = None
    # Threads of the in-process Dramatiq worker in the embedded runtime.
    embedded_worker_threads: int = 4
    # Seconds between scheduler ticks (finding lost work, due enrolments).
    tick_seconds: float = 5.0
    # Seconds `nurture serve` and `nurture worker` take at most to stop after SIGTERM or
    # SIGINT: work in progress gets a share of it to finish, then what is left is killed.
    shutdown_seconds: int = 30
    # Seconds a claimed (`sending`) e-mail may go without a result before it counts as
    # interrupted and is sent again (same Message-ID). Far above the SMTP timeouts, so a
    # slow but living sender is not doubled; the fault tests shorten it.
    send_lease_seconds: int = 300
    # Seconds a claimed sequence step may wait for its worker before the tick claims it
    # again (its queue message may be lost: a killed worker, a restarted broker). A second
    # run of a step that did run is a no-op, so a short lease only costs wasted claims.
    step_lease_seconds: int = 600
    # At most this many marketing e-mails per contact per rolling 7 days; 0 turns it off.
    frequency_cap: int = DEFAULT_FREQUENCY_CAP
    # Where `npm ci` put front-end packages; the web app serves a few files from it.
    assets_dir: Path = field(default_factory=lambda: _repo_root() / "node_modules")
    # Outgoing mail: the From address and name, SMTP connections and per-domain rate.
    mail_from: str = "nurture@localhost"
    mail_from_name: str | None = None
    # A web font the brand opts in to for its e-mail (a stylesheet URL and the family it
    # defines); without them e-mail uses the system font stack and loads no font.
    brand_font_url: str | None = None
    brand_font_family: str | None = None
    smtp_concurrency: int = 4
    # Messages per second to one recipient domain (token bucket); 0 means no limit.
    smtp_rate_per_domain: float = 0.0
    # DKIM signing when all three are set (the key file holds a PEM RSA private key).
    dkim_selector: str | None = None
    dkim_domain: str | None = None
    dkim_key_file: Path | None = None
    # Relay webhooks: SendGrid's verification key (base64 DER or PEM), SES topic ARNs accepted.
    sendgrid_public_key: str | None = None
    ses_topic_arns: tuple[str, ...] = ()
    # Replies: outgoing e-mails carry Reply-To reply+<token>@<this domain> when it is set.
    reply_domain: str | None = None
    # /metrics answers a scraper presenting `Authorization: Bearer <this>`; unset, it
    # answers loopback clients only.
    metrics_token: str | None = None

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith("postgresql")

    @property
    def embedded_broker(self) -> bool:
        return self.redis_url is None

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Read NURTURE_* variables; create the data folder and secret key if missing."""
        values = dict(os.environ if env is None else env)
        data_dir = Path(values.get("NURTURE_DATA_DIR") or "./data").resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        database_url = values.get("NURTURE_DATABASE_URL") or f"sqlite:///{data_dir / 'nurture.db'}"
        database_url = _normalise_database_url(database_url)
        base_url = (values.get("NURTURE_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        if urlsplit(base_url).scheme not in ("http", "https"):
            raise SettingsError(
                f"NURTURE_BASE_URL must start with http:// or https://: {base_url!r}"
            )
        secret = values.get("NURTURE_SECRET_KEY") or _stored_secret(data_dir)
        if len(secret) < 32:
            raise SettingsError("NURTURE_SECRET_KEY must be at least 32 characters long")
        extra: dict[str, object] = {}
        if "NURTURE_ASSETS_DIR" in values:
            extra["assets_dir"] = Path(values["NURTURE_ASSETS_DIR"]).resolve()
        extra.update(_mail_settings(values))
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            secret_key=secret,
            base_url=base_url,
            redis_url=values.get("NURTURE_REDIS_URL") or None,
            smtp_url=values.get("NURTURE_SMTP_URL") or None,
            embedded_worker_threads=_int(values, "NURTURE_WORKER_THREADS", 4),
            tick_seconds=float(_int(values, "NURTURE_TICK_SECONDS", 5)),
            shutdown_seconds=_int(values, "NURTURE_SHUTDOWN_SECONDS", 30),
            send_lease_seconds=_int(values, "NURTURE_SEND_LEASE_SECONDS", 300),
            step_lease_seconds=_int(values, "NURTURE_STEP_LEASE_SECONDS", 600),
            frequency_cap=_count(values, "NURTURE_FREQUENCY_CAP", DEFAULT_FREQUENCY_CAP),
            metrics_token=values.get("NURTURE_METRICS_TOKEN") or None,
            **extra,  # type: ignore[arg-type]
        )


@cache
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings.from_env()


def _repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


def _int(values: dict[str, str], name: str, default: int) -> int:
    raw = values.get(name)
    if not raw:
        return default
    try:
        number = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if number < 1:
        raise SettingsError(f"{name} must be at least 1, got {number}")
    return number


def _count(values: dict[str, str], name: str, default: int) -> int:
    """A whole number that may be 0 (which turns the feature off)."""
    raw = values.get(name)
    if not raw:
        return default
    try:
        number = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if number < 0:
        raise SettingsError(f"{name} must not be negative, got {number}")
    return number


def _brand_font(values: dict[str, str]) -> dict[str, object]:
    """NURTURE_BRAND_FONT_URL and NURTURE_BRAND_FONT_FAMILY: both or neither."""
    url = (values.get("NURTURE_BRAND_FONT_URL") or "").strip()
    family = (values.get("NURTURE_BRAND_FONT_FAMILY") or "").strip()
    if not url and not family:
        return {}
    if not (url and family):
        raise SettingsError(
            "set both NURTURE_BRAND_FONT_URL and NURTURE_BRAND_FONT_FAMILY, or none"
        )
    if not _FONT_URL.match(url):
        raise SettingsError(f"NURTURE_BRAND_FONT_URL must be an https:// stylesheet URL: {url!r}")
    if not _FONT_FAMILY.match(family):
        raise SettingsError(
            f"NURTURE_BRAND_FONT_FAMILY must be one family name (letters, digits, spaces, "
            f"hyphens): {family!r}"
        )
    return {"brand_font_url": url, "brand_font_family": family}


def _mail_settings(values: dict[str, str]) -> dict[str, object]:
    """The NURTURE_MAIL_*, NURTURE_SMTP_*, NURTURE_DKIM_*, NURTURE_SES_* and SendGrid settings."""
    extra: dict[str, object] = {
        "mail_from": values.get("NURTURE_MAIL_FROM") or "nurture@localhost",
        "mail_from_name": values.get("NURTURE_MAIL_FROM_NAME") or None,
        "smtp_concurrency": _int(values, "NURTURE_SMTP_CONCURRENCY", 4),
        "dkim_selector": values.get("NURTURE_DKIM_SELECTOR") or None,
        "dkim_domain": values.get("NURTURE_DKIM_DOMAIN") or None,
        "sendgrid_public_key": values.get("NURTURE_SENDGRID_PUBLIC_KEY") or None,
        "ses_topic_arns": tuple(
            arn.strip()
            for arn in values.get("NURTURE_SES_TOPIC_ARNS", "").split(",")
            if arn.strip()
        ),
    }
    reply_domain = (values.get("NURTURE_REPLY_DOMAIN") or "").strip().lower().rstrip(".")
    if reply_domain:
        if not _DOMAIN.match(reply_domain):
            raise SettingsError(
                f"NURTURE_REPLY_DOMAIN must be a domain name like replies.example.com: "
                f"{reply_domain!r}"
            )
        extra["reply_domain"] = reply_domain
    extra |= _brand_font(values)
    if "@" not in str(extra["mail_from"]):
        raise SettingsError(f"NURTURE_MAIL_FROM must be an e-mail address: {extra['mail_from']!r}")
    rate = values.get("NURTURE_SMTP_RATE_PER_DOMAIN")
    if rate:
        try:
            per_second = float(rate)
        except ValueError:
            raise SettingsError(
                f"NURTURE_SMTP_RATE_PER_DOMAIN must be a number, got {rate!r}"
            ) from None
        if not per_second >= 0:  # also refuses NaN
            raise SettingsError("NURTURE_SMTP_RATE_PER_DOMAIN must not be negative")
        extra["smtp_rate_per_domain"] = per_second
    key_file = values.get("NURTURE_DKIM_KEY_FILE")
    if key_file:
        extra["dkim_key_file"] = Path(key_file).resolve()
    dkim = [extra["dkim_selector"], extra["dkim_domain"], key_file]
    if any(dkim) and not all(dkim):
        raise SettingsError(
            "set all of NURTURE_DKIM_SELECTOR, NURTURE_DKIM_DOMAIN and NURTURE_DKIM_KEY_FILE, "
            "or none"
        )
    return extra


def _normalise_database_url(url: str) -> str:
    # Plain postgres URLs would make SQLAlchemy look for psycopg2; we ship psycopg 3.
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if not url.startswith(("sqlite", "postgresql+psycopg")):
        raise SettingsError(
            "NURTURE_DATABASE_URL must be a sqlite:/// or postgresql:// URL, got "
            f"{url.split(':', 1)[0]!r}"
        )
    return url


def _stored_secret(data_dir: Path) -> str:
    """The secret kept in the data folder, generated on first run."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    secret = secrets.token_urlsafe(48)
    # O_EXCL: two processes starting at once agree on the first one written.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secret)
    return secret
