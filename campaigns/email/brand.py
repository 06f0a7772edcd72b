"""The firm's brand (Settings → Brand): checked, stored, and laid over the configured one.

The configured brand (`MailConfig.brand`, from the settings) is the default; what an
admin or marketer saves here replaces it field by field wherever a brand reaches a
render: sends and previews (`campaigns.email.recipients`, internal mail in the
pipeline) and the public pages. An empty field keeps the default. Reading it costs
one query, made once per batch of recipients or per page, never per recipient.

The accent colour is where buttons put white text, so it must reach WCAG AA's 4.5:1
against white. The logo must load in every mail client without a warning: an https
URL, or an image uploaded here (served under this site's /img/). Fonts are a fixed
list of stacks every reader already has: e-mail loads no web font a marketer typed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.email.mailconfig import MailConfig, lettermark
from nurture import audit
from nurture.errors import InvalidInput, Problem
from nurture.models import BrandSettings
from templates.compile import SYSTEM_FONT_STACK

SETTINGS_ID = 1
MIN_CONTRAST = 4.5
MAX_NAME = 200
MAX_ADDRESS = 500
MAX_URL = 2000

# key -> (what the page calls it, the CSS stack). Unquoted names, as SYSTEM_FONT_STACK,
# so a stack fits in any attribute.
FONTS: Mapping[str, tuple[str, str]] = {
    "system": ("System (each reader's own interface font)", SYSTEM_FONT_STACK),
    "helvetica": ("Helvetica / Arial", "Helvetica Neue, Helvetica, Arial, sans-serif"),
    "verdana": ("Verdana (wide, easy to read small)", "Verdana, Geneva, Tahoma, sans-serif"),
    "trebuchet": ("Trebuchet", "Trebuchet MS, Lucida Grande, Tahoma, sans-serif"),
    "georgia": ("Georgia (serif)", "Georgia, Times New Roman, Times, serif"),
}
FIELDS = ("name", "color", "logo_url", "address", "font")

_COLOR = re.compile(r"^#[0-9a-f]{6}$")


@dataclass(frozen=True, slots=True)
class BrandForm:
    """What is stored; "" for a field left to the configured default."""

    name: str = ""
    color: str = ""
    logo_url: str = ""
    address: str = ""
    font: str = ""

    def as_dict(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in FIELDS}


def stored(session: Session) -> BrandForm:
    """The saved brand fields (all "" until the page is first saved)."""
    row = session.execute(
        select(
            BrandSettings.name,
            BrandSettings.color,
            BrandSettings.logo_url,
            BrandSettings.address,
            BrandSettings.font,
        ).where(BrandSettings.id == SETTINGS_ID)
    ).first()
    return BrandForm(*row) if row is not None else BrandForm()


def over(base: Mapping[str, Any], form: BrandForm) -> dict[str, Any]:
    """`base` (a configured brand) with the saved fields in place of its own."""
    brand = dict(base)
    for name in ("name", "color", "logo_url", "address"):
        value = getattr(form, name)
        if value:
            brand[name] = value
    default_logo = lettermark(str(base.get("name", "")), str(base.get("color", "")))
    if not form.logo_url and base.get("logo_url") == default_logo:
        # The default logo is the name's initial on the accent colour: it follows both.
        brand["logo_url"] = lettermark(str(brand.get("name", "")), str(brand.get("color", "")))
    if form.font in FONTS:
        # A stack every reader has: no web font to load.
        brand["font_family"] = FONTS[form.font][1]
        brand["font_url"] = ""
    return brand


def current(session: Session, base: Mapping[str, Any]) -> dict[str, Any]:
    """The brand a render uses now: `base` with what is saved laid over it (one query)."""
    return over(base, stored(session))


def with_brand(session: Session, config: MailConfig) -> MailConfig:
    """`config` whose brand is `current` (one query)."""
    return replace(config, brand=current(session, config.brand))


def save(session: Session, values: Mapping[str, str], *, actor: str, base_url: str) -> BrandForm:
    """Check and store the brand; InvalidInput names every bad field and nothing is
    written. Audited with what changed. The caller commits."""
    form, problems = check(values, base_url=base_url)
    if problems:
        raise InvalidInput(problems)
    before = stored(session)
    row = session.get(BrandSettings, SETTINGS_ID, with_for_update=True)
    if row is None:
        row = BrandSettings(id=SETTINGS_ID)
        session.add(row)
    for name in FIELDS:
        setattr(row, name, getattr(form, name))
    row.updated_by = actor[:200]
    session.flush()
    old, new = before.as_dict(), form.as_dict()
    audit.record(
        session,
        actor=actor,
        action="brand.saved",
        entity_type="brand_settings",
        entity_id=SETTINGS_ID,
        changes={name: [old[name], new[name]] for name in FIELDS if old[name] != new[name]},
    )
    return form


def check(values: Mapping[str, str], *, base_url: str) -> tuple[BrandForm, list[Problem]]:
    """The cleaned form and a problem per bad field (each message says how to fix it)."""
    problems: list[Problem] = [
        Problem(str(name), "is not a brand setting") for name in values if name not in FIELDS
    ]
    clean: dict[str, str] = {}
    for name in FIELDS:
        raw = values.get(name, "")
        text = raw.strip() if isinstance(raw, str) else ""
        if not isinstance(raw, str) or "\x00" in raw:
            problems.append(Problem(name, "must be text without NUL characters"))
        clean[name] = text
    name = " ".join(clean["name"].split())
    if len(name) > MAX_NAME:
        problems.append(Problem("name", f"must be at most {MAX_NAME} characters"))
    clean["name"] = name
    clean["color"] = clean["color"].lower()
    problems += _color_problems(clean["color"])
    problems += _logo_problems(clean["logo_url"], base_url)
    if len(clean["address"]) > MAX_ADDRESS:
        problems.append(Problem("address", f"must be at most {MAX_ADDRESS} characters"))
    clean["address"] = " ".join(clean["address"].split())
    if clean["font"] and clean["font"] not in FONTS:
        labels = ", ".join(label for label, _ in FONTS.values())
        problems.append(Problem("font", f"must be one of: {labels}"))
    return BrandForm(**clean), problems


def contrast_with_white(color: str) -> float:
    """WCAG contrast ratio of white text on `color` ("#rrggbb"), 1 to 21."""
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return 1.05 / (luminance + 0.05)


def _color_problems(color: str) -> list[Problem]:
    if not color:
        return []
    if not _COLOR.match(color):
        return [Problem("color", "must be a colour like #2453d4 (# and six hex digits)")]
    ratio = contrast_with_white(color)
    if ratio < MIN_CONTRAST:
        return [
            Problem(
                "color",
                f"is too light for white button text: contrast {ratio:.2f}:1, "
                f"at least {MIN_CONTRAST}:1 is needed (choose a darker shade)",
            )
        ]
    return []


def _logo_problems(url: str, base_url: str) -> list[Problem]:
    if not url:
        return []
    own = base_url.rstrip("/") + "/img/"
    if len(url) > MAX_URL or any(c.isspace() for c in url):
        return [Problem("logo_url", f"must be one address without spaces, {MAX_URL} at most")]
    if url.startswith(own) and len(url) > len(own):
        return []
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        host = None
    if not url.startswith("https://") or not host:
        return [
            Problem(
                "logo_url",
                f"must start with https:// (or be an image uploaded here, {own}...): "
                "mail clients warn about or block other images",
            )
        ]
    return []
