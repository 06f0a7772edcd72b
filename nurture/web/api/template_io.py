"""Template API bodies and answers: request fields checked by hand (every problem named),
response shapes documented in /schema."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from campaigns.email.store import UNSET, VariantInput, variants_from_json
from nurture.errors import InvalidInput, Problem
from nurture.models import EmailTemplate, EmailTemplateVersion
from nurture.web.api.bodies import MAX_ID

_SETTINGS = {"name", "description", "kind", "topic", "tracking", "variants"}


class VariantIn(msgspec.Struct, forbid_unknown_fields=True):
    """One locale's content: MJML `body` with Jinja, `text_body` optional (made from the HTML)."""

    subject: str
    body: str
    preheader: str = ""
    text_body: str | None = None


class TemplateIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new template; `variants` needs at least `en` (the fallback locale)."""

    name: str
    variants: Annotated[dict[str, VariantIn], Meta(examples=[{"en": {"subject": "Hi"}}])]
    kind: str = "marketing"
    topic: str | None = None
    tracking: bool = True
    description: str | None = None


class TemplatePatch(msgspec.Struct, forbid_unknown_fields=True):
    """Fields to change; every save writes a new version (variants left out are carried over)."""

    name: str | None = None
    variants: dict[str, VariantIn] | None = None
    topic: str | None = None
    tracking: bool | None = None
    description: str | None = None


class RenderIn(msgspec.Struct, forbid_unknown_fields=True):
    contact_id: Annotated[int, Meta(ge=1, le=MAX_ID)]
    locale: str | None = None
    version: int | None = None
    extra: dict[str, Any] = {}


class SendIn(msgspec.Struct, forbid_unknown_fields=True):
    contact_id: Annotated[int, Meta(ge=1, le=MAX_ID)]
    idempotency_key: str | None = None
    extra: dict[str, Any] = {}


class VariantOut(msgspec.Struct):
    locale: str
    subject: str
    preheader: str
    body: str
    text_body: str | None


class VersionOut(msgspec.Struct):
    number: int
    created_by: str
    created_at: datetime
    tracking: bool
    topic: str | None
    variants: list[VariantOut] | None = None


class TemplateOut(msgspec.Struct):
    id: int
    name: str
    description: str | None
    kind: str
    topic: str | None
    tracking: bool
    current_version: int
    starter_name: str | None
    archived: bool
    created_at: datetime
    updated_at: datetime
    variants: list[VariantOut] | None = None


class RenderOut(msgspec.Struct):
    """The e-mail as the contact would get it; links point at the redirector with a
    preview token (message id 0) that leads nowhere until a real message exists."""

    subject: str
    preheader: str
    html: str
    text: str
    locale: str
    version: int
    links: list[str]


class SendOut(msgspec.Struct):
    message_id: int
    status: str
    idempotency_key: str


def template_out(template: EmailTemplate, version: EmailTemplateVersion | None) -> TemplateOut:
    return TemplateOut(
        id=template.id,
        name=template.name,
        description=template.description,
        kind=template.kind,
        topic=template.topic,
        tracking=template.tracking,
        current_version=template.current_version,
        starter_name=template.starter_name,
        archived=template.archived_at is not None,
        created_at=template.created_at,
        updated_at=template.updated_at,
        variants=None if version is None else _variants(version),
    )


def version_out(version: EmailTemplateVersion, *, with_variants: bool) -> VersionOut:
    return VersionOut(
        number=version.number,
        created_by=version.created_by,
        created_at=version.created_at,
        tracking=version.tracking,
        topic=version.topic,
        variants=_variants(version) if with_variants else None,
    )


def _variants(version: EmailTemplateVersion) -> list[VariantOut]:
    return [
        VariantOut(v.locale, v.subject, v.preheader, v.body, v.text_body) for v in version.variants
    ]


def check_fields(data: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise InvalidInput([Problem(name, "is not a known field") for name in unknown])


def create_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments for `store.create_template` from a decoded body."""
    check_fields(data, _SETTINGS)
    name = data.get("name")
    if not isinstance(name, str):
        raise InvalidInput.single("name", "is required and must be a string")
    fields: dict[str, Any] = {
        "name": name,
        "variants": variants_from_json(data.get("variants")),
        "kind": _text(data, "kind", "marketing"),
        "topic": _optional_text(data, "topic"),
        "tracking": _flag(data, "tracking", True),
        "description": _optional_text(data, "description"),
    }
    return fields


def update_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments for `store.update_template` from a decoded body."""
    check_fields(data, _SETTINGS - {"kind"})
    fields: dict[str, Any] = {}
    if "name" in data:
        if not isinstance(data["name"], str):
            raise InvalidInput.single("name", "must be a string")
        fields["name"] = data["name"]
    if "variants" in data:
        fields["variants"] = variants_from_json(data["variants"])
    fields["topic"] = _optional_text(data, "topic") if "topic" in data else UNSET
    fields["description"] = _optional_text(data, "description") if "description" in data else UNSET
    if "tracking" in data:
        fields["tracking"] = _flag(data, "tracking", True)
    return fields


def render_fields(data: Mapping[str, Any]) -> tuple[int, str | None, int | None, dict[str, Any]]:
    """contact_id, locale, version and extra context of a render request."""
    check_fields(data, {"contact_id", "locale", "version", "extra"})
    return (
        positive_id(data, "contact_id"),
        _optional_text(data, "locale"),
        positive_id(data, "version") if data.get("version") is not None else None,
        _extra(data),
    )


def send_fields(data: Mapping[str, Any]) -> tuple[int, str | None, dict[str, Any]]:
    """contact_id, idempotency_key and extra context of a send request."""
    check_fields(data, {"contact_id", "idempotency_key", "extra"})
    return positive_id(data, "contact_id"), _optional_text(data, "idempotency_key"), _extra(data)


def positive_id(data: Mapping[str, Any], name: str) -> int:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise InvalidInput.single(name, "is required and must be a positive integer")
    return value


def variant_input(raw: Mapping[str, Any]) -> VariantInput:
    return variants_from_json({"draft": raw})["draft"]


def _extra(data: Mapping[str, Any]) -> dict[str, Any]:
    extra = data.get("extra", {})
    if extra is None:
        return {}
    if not isinstance(extra, dict):
        raise InvalidInput.single("extra", "must be an object of template values")
    return extra


def _text(data: Mapping[str, Any], name: str, default: str) -> str:
    value = data.get(name, default)
    if not isinstance(value, str):
        raise InvalidInput.single(name, "must be a string")
    return value


def _optional_text(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidInput.single(name, "must be a string or null")
    return value


def _flag(data: Mapping[str, Any], name: str, default: bool) -> bool:
    value = data.get(name, default)
    if not isinstance(value, bool):
        raise InvalidInput.single(name, "must be true or false")
    return value
