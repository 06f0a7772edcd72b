"""Template API bodies (decoded by Litestar into the structs below) and answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, UnsetType

from campaigns.email import store
from campaigns.email.store import VariantInput
from nurture.errors import InvalidInput
from nurture.models import EmailTemplate, EmailTemplateVersion
from nurture.web.api.bodies import Id
from templates.context import ALLOWED_NAMES, check_context

# Version numbers are 32-bit INTEGER columns, not BIGINT ids: a larger one overflowed (500).
MAX_VERSION = 2**31 - 1
VersionNumber = Annotated[int, Meta(ge=1, le=MAX_VERSION)]


class VariantIn(msgspec.Struct, forbid_unknown_fields=True):
    """One locale's content: MJML `body` with Jinja, `text_body` optional (made from the HTML)."""

    subject: str
    body: str
    preheader: str = ""
    text_body: str | None = None


Variants = Annotated[
    dict[str, VariantIn],
    Meta(min_length=1, examples=[{"en": {"subject": "Hi", "body": "<mjml>...</mjml>"}}]),
]


class TemplateIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new template; `variants` needs at least `en` (the fallback locale)."""

    name: str
    variants: Variants
    kind: str = "marketing"
    topic: str | None = None
    tracking: bool = True
    description: str | None = None


class TemplatePatch(msgspec.Struct, forbid_unknown_fields=True):
    """Fields to change; every save writes a new version (variants left out are carried
    over). A `topic` or `description` of null clears it."""

    name: str | UnsetType = UNSET
    variants: Variants | UnsetType = UNSET
    topic: str | UnsetType | None = UNSET
    tracking: bool | UnsetType = UNSET
    description: str | UnsetType | None = UNSET


class RenderIn(msgspec.Struct, forbid_unknown_fields=True):
    contact_id: Id
    locale: str | None = None
    version: VersionNumber | None = None
    extra: Annotated[dict[str, Any], Meta(description="Template values beyond the contact")] = {}


class SendIn(msgspec.Struct, forbid_unknown_fields=True):
    contact_id: Id
    idempotency_key: str | None = None
    extra: Annotated[dict[str, Any], Meta(description="Template values beyond the contact")] = {}


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


def variant_inputs(variants: dict[str, VariantIn]) -> dict[str, VariantInput]:
    return {
        locale: VariantInput(v.subject, v.body, v.preheader, v.text_body)
        for locale, v in variants.items()
    }


def create_fields(data: TemplateIn) -> dict[str, Any]:
    """Keyword arguments for `store.create_template`."""
    return {
        "name": data.name,
        "variants": variant_inputs(data.variants),
        "kind": data.kind,
        "topic": data.topic,
        "tracking": data.tracking,
        "description": data.description,
    }


def update_fields(data: TemplatePatch) -> dict[str, Any]:
    """Keyword arguments for `store.update_template`: only what the body holds."""
    fields: dict[str, Any] = {}
    if not isinstance(data.name, UnsetType):
        fields["name"] = data.name
    if not isinstance(data.variants, UnsetType):
        fields["variants"] = variant_inputs(data.variants)
    if not isinstance(data.tracking, UnsetType):
        fields["tracking"] = data.tracking
    # The store tells "leave as it is" from "clear" by its own marker.
    fields["topic"] = store.UNSET if isinstance(data.topic, UnsetType) else data.topic
    fields["description"] = (
        store.UNSET if isinstance(data.description, UnsetType) else data.description
    )
    return fields


def checked_extra(extra: dict[str, Any]) -> dict[str, Any]:
    """`extra` if the renderer would take it: only its known names and plain data;
    else InvalidInput naming `extra` (the renderer's TypeError was a 500)."""
    unknown = sorted(set(extra) - ALLOWED_NAMES)
    if unknown:
        known = ", ".join(sorted(ALLOWED_NAMES))
        raise InvalidInput.single("extra", f"unknown names {unknown}; templates know {known}")
    try:
        return check_context(extra)
    except TypeError as exc:
        raise InvalidInput.single("extra", str(exc)) from None
