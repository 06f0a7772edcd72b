"""What the pipeline needs from the settings, in one object built once."""

from __future__ import annotations

from base64 import b64encode
from dataclasses import dataclass, field
from html import escape
from typing import Any

from nurture.config import Settings
from templates.compile import brand_font_family
from templates.message import Address
from templates.render import signer_for
from templates.tokens import TokenSigner


@dataclass(frozen=True, slots=True)
class DkimKey:
    selector: str
    domain: str
    private_key_pem: bytes


@dataclass(frozen=True)
class MailConfig:
    """Sender, links and signing for outgoing mail. `brand` is the `brand` templates see."""

    base_url: str
    secret: str
    sender: Address
    brand: dict[str, Any] = field(default_factory=dict)
    dkim: DkimKey | None = None
    # The domain of our Message-IDs (the sender's domain by default).
    message_id_domain: str = ""
    # Where replies go (reply+<token>@domain); None keeps replies going to the sender.
    reply_domain: str | None = None

    @property
    def signer(self) -> TokenSigner:
        return signer_for(self.secret)

    @classmethod
    def from_settings(
        cls, settings: Settings, *, brand: dict[str, Any] | None = None
    ) -> MailConfig:
        """The config for `settings`; reads the DKIM key file when DKIM is configured."""
        dkim = None
        if settings.dkim_selector and settings.dkim_domain and settings.dkim_key_file:
            dkim = DkimKey(
                settings.dkim_selector, settings.dkim_domain, settings.dkim_key_file.read_bytes()
            )
        name = settings.mail_from_name or "Nurture"
        return cls(
            base_url=settings.base_url,
            secret=settings.secret_key,
            sender=Address(settings.mail_from, settings.mail_from_name),
            brand=brand
            or default_brand(
                name, font_url=settings.brand_font_url, font_family=settings.brand_font_family
            ),
            dkim=dkim,
            message_id_domain=settings.mail_from.rpartition("@")[2],
            reply_domain=settings.reply_domain,
        )


DEFAULT_COLOR = "#2453d4"


def lettermark(name: str, color: str) -> str:
    """A data: URL of a square logo: the name's first letter, white on `color` (#rrggbb)."""
    initial = (name[:1] or "N").upper()
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96">'
        f'<rect width="96" height="96" rx="20" fill="{escape(color)}"/>'
        '<text x="48" y="64" font-family="Helvetica,Arial,sans-serif" font-size="48" '
        f'font-weight="700" fill="#fff" text-anchor="middle">{escape(initial)}</text></svg>'
    )
    return "data:image/svg+xml;base64," + b64encode(svg.encode()).decode()


def default_brand(
    name: str, *, font_url: str | None = None, font_family: str | None = None
) -> dict[str, Any]:
    """A plain brand (name, a lettermark logo, a blue accent) until the firm sets its own.

    `font_family` is the CSS list templates set (`brand_font_family`); `font_url` is the
    stylesheet of the brand's web font, "" when it has none (then no font is loaded)."""
    return {
        "name": name,
        "logo_url": lettermark(name, DEFAULT_COLOR),
        "color": DEFAULT_COLOR,
        "address": "",
        "font_family": brand_font_family(font_family if font_url else None),
        "font_url": font_url or "",
    }
