"""Template storage: create, edit (every save is a new immutable version), read, archive.

Saving validates each locale variant with the rendering core: Jinja syntax, the
sandbox's refusals, MJML errors, and a test render against a sample contact that
reports undefined variables. Problems come back as one InvalidInput whose fields
name the variant and part (`variants.ru.body`) and whose messages start with the
line (`line 12: ...`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from campaigns.email import compiled as compiled_cache
from campaigns.email.samples import validation_context
from campaigns.email.topics import TOPIC_SLUGS
from nurture import audit
from nurture.errors import Conflict, InvalidInput, NotFound, Problem
from nurture.models import (
    EmailTemplate,
    EmailTemplateVariant,
    EmailTemplateVersion,
    TemplateKind,
    utcnow,
)
from templates.merge_fields import unknown_field_uses
from templates.problems import TemplateInvalid
from templates.render import CompiledTemplate, compile_template

DEFAULT_LOCALE = "en"
MAX_NAME = 200
MAX_SUBJECT = 1000
MAX_BODY = 500_000
_LOCALE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


@dataclass(frozen=True, slots=True)
class VariantInput:
    """One locale's content as the marketer wrote it."""

    subject: str
    body: str
    preheader: str = ""
    text_body: str | None = None


class _Unset:
    pass


UNSET: Any = _Unset()


def create_template(
    session: Session,
    *,
    name: str,
    variants: Mapping[str, VariantInput],
    actor: str,
    kind: str = TemplateKind.MARKETING.value,
    topic: str | None = None,
    tracking: bool = True,
    description: str | None = None,
    starter_name: str | None = None,
    sample_context: Mapping[str, Mapping[str, Any]] | None = None,
) -> EmailTemplate:
    """A new template with its first version; the caller commits.

    Raises InvalidInput (bad fields, template problems with lines) or Conflict (the
    name is taken). `sample_context` maps a locale to the context its test render
    uses (default: samples for every variable of the starter library).
    """
    name = _check_name(name)
    _check_settings(kind, topic)
    compiled = _validate(variants, tracking=tracking, sample_context=sample_context)
    if session.scalar(select(EmailTemplate.id).where(EmailTemplate.name == name)) is not None:
        raise Conflict(f"a template called {name!r} exists already")
    template = EmailTemplate(
        name=name,
        description=_description(description),
        kind=kind,
        topic=topic,
        tracking=tracking,
        starter_name=starter_name,
        current_version=0,
    )
    session.add(template)
    session.flush()
    _add_version(session, template, variants, compiled, actor=actor)
    audit.record(
        session,
        actor=actor,
        action="template.created",
        entity_type="email_template",
        entity_id=template.id,
        changes={"name": name},
    )
    return template


def update_template(
    session: Session,
    template_id: int,
    *,
    actor: str,
    variants: Mapping[str, VariantInput] | None = None,
    name: str | None = None,
    description: str | None = UNSET,
    topic: str | None = UNSET,
    tracking: bool | None = None,
    sample_context: Mapping[str, Mapping[str, Any]] | None = None,
) -> EmailTemplateVersion:
    """Save a template: every save writes a new version (content not given is carried
    over from the current one) and answers it; the caller commits."""
    template = get_template(session, template_id)
    current = get_version(session, template_id)
    if name is not None:
        name = _check_name(name)
        taken = session.scalar(
            select(EmailTemplate.id).where(
                EmailTemplate.name == name, EmailTemplate.id != template_id
            )
        )
        if taken is not None:
            raise Conflict(f"a template called {name!r} exists already")
    new_topic = template.topic if topic is UNSET else topic
    _check_settings(template.kind, new_topic)
    new_tracking = template.tracking if tracking is None else tracking
    if variants is None:
        variants = {
            v.locale: VariantInput(v.subject, v.body, v.preheader, v.text_body)
            for v in current.variants
        }
    compiled = _validate(variants, tracking=new_tracking, sample_context=sample_context)
    if name is not None:
        template.name = name
    if description is not UNSET:
        template.description = _description(description)
    template.topic = new_topic
    template.tracking = new_tracking
    version = _add_version(session, template, variants, compiled, actor=actor)
    audit.record(
        session,
        actor=actor,
        action="template.saved",
        entity_type="email_template",
        entity_id=template.id,
        changes={"version": version.number},
    )
    return version


def get_template(session: Session, template_id: int) -> EmailTemplate:
    """The template (archived ones too); NotFound if there is none."""
    template = session.get(EmailTemplate, template_id)
    if template is None:
        raise NotFound("template", template_id)
    return template


def list_templates(session: Session, *, include_archived: bool = False) -> list[EmailTemplate]:
    """Templates by name."""
    stmt = select(EmailTemplate).order_by(EmailTemplate.name)
    if not include_archived:
        stmt = stmt.where(EmailTemplate.archived_at.is_(None))
    return list(session.scalars(stmt))


def get_version(
    session: Session, template_id: int, number: int | None = None
) -> EmailTemplateVersion:
    """Version `number` of a template (the current one by default), variants loaded."""
    if number is None:
        number = get_template(session, template_id).current_version
    version = session.scalar(
        select(EmailTemplateVersion)
        .options(selectinload(EmailTemplateVersion.variants))
        .where(
            EmailTemplateVersion.template_id == template_id,
            EmailTemplateVersion.number == number,
        )
    )
    if version is None:
        raise NotFound("template version", f"{template_id}/{number}")
    return version


def get_version_by_id(session: Session, version_id: int) -> EmailTemplateVersion:
    version = session.scalar(
        select(EmailTemplateVersion)
        .options(selectinload(EmailTemplateVersion.variants))
        .where(EmailTemplateVersion.id == version_id)
    )
    if version is None:
        raise NotFound("template version", version_id)
    return version


def list_versions(session: Session, template_id: int) -> list[EmailTemplateVersion]:
    """Every version of a template, newest first (for the history view)."""
    get_template(session, template_id)
    return list(
        session.scalars(
            select(EmailTemplateVersion)
            .where(EmailTemplateVersion.template_id == template_id)
            .order_by(EmailTemplateVersion.number.desc())
        )
    )


def archive_template(session: Session, template_id: int, *, actor: str) -> None:
    """Hide a template from lists; messages and versions stay. Idempotent."""
    template = get_template(session, template_id)
    if template.archived_at is None:
        template.archived_at = utcnow()
        audit.record(
            session,
            actor=actor,
            action="template.archived",
            entity_type="email_template",
            entity_id=template.id,
        )


def pick_variant(version: EmailTemplateVersion, locale: str | None) -> EmailTemplateVariant:
    """The variant for a contact's locale: exact ("pt-BR"), then language ("pt"), then en,
    then the first one there is."""
    by_locale = {v.locale: v for v in version.variants}
    wanted = (locale or "").strip()
    for candidate in (wanted, wanted.split("-")[0].lower(), DEFAULT_LOCALE):
        if candidate in by_locale:
            return by_locale[candidate]
    return version.variants[0]


def _add_version(
    session: Session,
    template: EmailTemplate,
    variants: Mapping[str, VariantInput],
    compiled: Mapping[str, CompiledTemplate],
    *,
    actor: str,
) -> EmailTemplateVersion:
    template.current_version += 1
    version = EmailTemplateVersion(
        template_id=template.id,
        number=template.current_version,
        tracking=template.tracking,
        topic=template.topic,
        kind=template.kind,
        created_by=actor[:200],
    )
    session.add(version)
    session.flush()
    rows = [
        EmailTemplateVariant(
            version_id=version.id,
            locale=locale,
            subject=item.subject,
            preheader=item.preheader,
            body=item.body,
            text_body=item.text_body if item.text_body and item.text_body.strip() else None,
        )
        for locale, item in sorted(variants.items())
    ]
    session.add_all(rows)
    session.flush()
    for row in rows:
        compiled_cache.remember(row.id, template.tracking, compiled[row.locale])
    template.updated_at = utcnow()
    return version


def _validate(
    variants: Mapping[str, VariantInput],
    *,
    tracking: bool,
    sample_context: Mapping[str, Mapping[str, Any]] | None,
) -> dict[str, CompiledTemplate]:
    if not variants:
        raise InvalidInput.single("variants", "give at least the English (en) variant")
    problems: list[Problem] = []
    if DEFAULT_LOCALE not in variants:
        problems.append(
            Problem("variants", "an English (en) variant is required: it is the fallback")
        )
    compiled: dict[str, CompiledTemplate] = {}
    for locale, item in sorted(variants.items()):
        where = f"variants.{locale}"
        if not _LOCALE.match(locale):
            problems.append(Problem(where, "is not a locale like en, ru or pt-BR"))
            continue
        local: list[Problem] = []
        if not item.subject.strip():
            local.append(Problem(f"{where}.subject", "is required"))
        elif len(item.subject) > MAX_SUBJECT:
            local.append(Problem(f"{where}.subject", f"is longer than {MAX_SUBJECT} characters"))
        if len(item.preheader) > MAX_SUBJECT:
            local.append(Problem(f"{where}.preheader", f"is longer than {MAX_SUBJECT} characters"))
        for part, text in (("body", item.body), ("text_body", item.text_body or "")):
            if len(text) > MAX_BODY:
                local.append(Problem(f"{where}.{part}", f"is longer than {MAX_BODY} characters"))
            if "\x00" in text or "\x00" in item.subject:
                local.append(Problem(f"{where}.{part}", "must not contain NUL characters"))
        local += _unknown_fields(where, item)
        if local:
            problems += local
            continue
        context = (
            sample_context.get(locale) if sample_context is not None else None
        ) or validation_context(locale)
        try:
            compiled[locale] = compile_template(
                item.subject,
                item.preheader,
                item.body,
                item.text_body,
                tracking=tracking,
                sample_context=context,
            )
        except TemplateInvalid as exc:
            for found in exc.template_problems:
                part = "text_body" if found.part == "text" else found.part
                message = found.message if found.line is None else f"line {found.line}: "
                if found.line is not None:
                    message += found.message
                problems.append(Problem(f"{where}.{part}", message))
    if problems:
        raise InvalidInput(problems)
    return compiled


def _unknown_fields(where: str, item: VariantInput) -> list[Problem]:
    # Checked before the test render: under `| default` a misspelt field renders the
    # fallback for every recipient, and without it the sample's error names no fix.
    found: list[Problem] = []
    parts = (
        ("subject", item.subject),
        ("preheader", item.preheader),
        ("body", item.body),
        ("text_body", item.text_body or ""),
    )
    for part, source in parts:
        for line, name in unknown_field_uses(source):
            found.append(
                Problem(
                    f"{where}.{part}",
                    f"line {line}: unknown field {name} "
                    "(the Personalisation list has the fields a send gives)",
                )
            )
    return found


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput.single("name", "is required")
    name = " ".join(name.split())
    if len(name) > MAX_NAME or "\x00" in name:
        raise InvalidInput.single("name", f"must be up to {MAX_NAME} characters, without NUL")
    return name


def _check_settings(kind: str, topic: str | None) -> None:
    if kind not in {k.value for k in TemplateKind}:
        raise InvalidInput.single("kind", "must be marketing or internal")
    if topic is not None and topic not in TOPIC_SLUGS:
        raise InvalidInput.single("topic", f"must be one of {', '.join(sorted(TOPIC_SLUGS))}")


def _description(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    if len(value) > 2000 or "\x00" in value:
        raise InvalidInput.single("description", "must be up to 2000 characters, without NUL")
    return value.strip()
