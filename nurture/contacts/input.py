"""Checking what a contact and its company may be: one place for the API, forms and imports."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from sqlalchemy.orm import Session

from nurture.contacts.addresses import normalise_email
from nurture.errors import InvalidInput, Problem
from nurture.models import Company, LifecycleStage, SizeBand, User
from nurture.validation import ATTRIBUTE_KEY_RULE, NUL_MESSAGE, holds_nul, is_attribute_key, is_id

# Free-text fields of a contact and their maximum lengths.
TEXT_FIELDS = {"first_name": 100, "last_name": 100, "title": 200, "phone": 50, "notes": 10_000}

CONTACT_FIELDS = frozenset(
    {
        *TEXT_FIELDS,
        "email",
        "time_zone",
        "locale",
        "lifecycle_stage",
        "owner_id",
        "company",
        "company_id",
        "attributes",
    }
)

COMPANY_FIELDS = frozenset({"name", "domain", "industry", "size_band", "country"})

MAX_ATTRIBUTES = 100

_LOCALE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")

_DOMAIN = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$")


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


@dataclass(slots=True)
class _Checked:
    values: dict[str, Any] = field(default_factory=dict)
    company: dict[str, Any] | None = None
    problems: list[Problem] = field(default_factory=list)

    def fail(self, field_name: str, message: str) -> None:
        self.problems.append(Problem(field_name, message))


def check_contact_input(
    session: Session, data: Mapping[str, object], *, partial: bool
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Validate contact fields; returns (column values, company fields or None).

    Raises InvalidInput listing every problem with its field, so a form or an
    API client can fix them all at once.
    """
    checked = _Checked()
    for name in sorted(set(data) - CONTACT_FIELDS):
        checked.fail(name, "is not a known field")

    if "email" in data or not partial:
        raw = data.get("email")
        if not isinstance(raw, str):
            checked.fail("email", "is required" if raw is None else "must be a string")
        else:
            try:
                checked.values["email"] = normalise_email(raw)
            except ValueError as exc:
                checked.fail("email", str(exc))

    for name, limit in TEXT_FIELDS.items():
        if name in data:
            checked.values[name] = _optional_text(checked, name, data[name], limit)

    if "time_zone" in data:
        zone = _optional_text(checked, "time_zone", data["time_zone"], 64)
        if zone is not None and zone not in _time_zones():
            checked.fail("time_zone", f"{zone!r} is not an IANA time zone like Europe/Berlin")
        checked.values["time_zone"] = zone
    if "locale" in data:
        locale = _optional_text(checked, "locale", data["locale"], 16)
        if locale is not None and not _LOCALE.match(locale):
            checked.fail("locale", f"{locale!r} is not a locale like en or de-AT")
        checked.values["locale"] = locale
    if "lifecycle_stage" in data:
        stage = data["lifecycle_stage"]
        allowed = [s.value for s in LifecycleStage]
        if stage not in allowed:
            checked.fail("lifecycle_stage", f"must be one of {', '.join(allowed)}")
        else:
            checked.values["lifecycle_stage"] = stage
    if "owner_id" in data:
        owner = data["owner_id"]
        if owner is not None and (not is_id(owner) or session.get(User, owner) is None):
            checked.fail("owner_id", f"no user with id {owner}")
        else:
            checked.values["owner_id"] = owner
    if "company_id" in data and "company" in data:
        checked.fail("company", "give company or company_id, not both")
    elif "company_id" in data:
        company_id = data["company_id"]
        if company_id is not None and (
            not is_id(company_id) or session.get(Company, company_id) is None
        ):
            checked.fail("company_id", f"no company with id {company_id}")
        else:
            checked.values["company_id"] = company_id
    elif "company" in data and data["company"] is not None:
        checked.company = _check_company(checked, data["company"])
    elif "company" in data:
        checked.values["company_id"] = None
    if "attributes" in data:
        checked.values["attributes"] = _check_attributes(checked, data["attributes"])

    if checked.problems:
        raise InvalidInput(checked.problems)
    return checked.values, checked.company


def _optional_text(checked: _Checked, name: str, value: object, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        checked.fail(name, "must be a string")
        return None
    if "\x00" in value:
        checked.fail(name, NUL_MESSAGE)
        return None
    value = value.strip()
    if len(value) > limit:
        checked.fail(name, f"must be at most {limit} characters")
        return None
    return value or None


def _check_company(checked: _Checked, raw: object) -> dict[str, Any] | None:
    if not isinstance(raw, Mapping):
        checked.fail("company", "must be an object with at least a name")
        return None
    for name in sorted(set(raw) - COMPANY_FIELDS):
        checked.fail(f"company.{name}", "is not a known field")
    values: dict[str, Any] = {}
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        checked.fail("company.name", "is required")
    elif "\x00" in name:
        checked.fail("company.name", NUL_MESSAGE)
    else:
        values["name"] = name.strip()[:200]
    domain = raw.get("domain")
    if domain is not None:
        domain_text = str(domain).strip().lower().removeprefix("www.")
        if not _DOMAIN.match(domain_text):
            checked.fail("company.domain", f"{domain!r} is not a domain like example.com")
        values["domain"] = domain_text
    industry = raw.get("industry")
    if industry is not None:
        if not isinstance(industry, str) or len(industry) > 80 or "\x00" in industry:
            checked.fail("company.industry", "must be a string of at most 80 characters")
        else:
            values["industry"] = industry.strip().lower() or None
    size_band = raw.get("size_band")
    if size_band is not None:
        allowed = [s.value for s in SizeBand]
        if size_band not in allowed:
            checked.fail("company.size_band", f"must be one of {', '.join(allowed)}")
        values["size_band"] = size_band
    country = raw.get("country")
    if country is not None:
        if not isinstance(country, str) or not re.fullmatch(r"[A-Za-z]{2}", country):
            checked.fail("company.country", "must be a two-letter ISO 3166 code like DE")
        else:
            values["country"] = country.upper()
    return values


def _check_attributes(checked: _Checked, raw: object) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        checked.fail("attributes", "must be an object")
        return {}
    if len(raw) > MAX_ATTRIBUTES:
        checked.fail("attributes", f"at most {MAX_ATTRIBUTES} attributes")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if not is_attribute_key(key):
            checked.fail(f"attributes.{key}", ATTRIBUTE_KEY_RULE)
        elif value is not None and not isinstance(value, str | int | float | bool | list):
            checked.fail(f"attributes.{key}", "must be a string, number, boolean, list or null")
        elif isinstance(value, str) and len(value) > 2000:
            checked.fail(f"attributes.{key}", "must be at most 2000 characters")
        elif holds_nul(value):
            checked.fail(f"attributes.{key}", NUL_MESSAGE)
        else:
            values[key] = value
    return values
