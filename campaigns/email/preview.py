"""Previews: a template rendered for one contact exactly as they would get it, without sending.

A preview renders with message id 0 (no message row exists, so its tracked links
lead nowhere) and, unless asked to be exact, an unsubscribe link that names no
contact, so clicking around a preview changes nobody's preferences.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from campaigns.email.compiled import compiled_variant
from campaigns.email.mailconfig import MailConfig
from campaigns.email.recipients import contact_recipient
from campaigns.email.samples import merge, validation_context
from campaigns.email.store import VariantInput, get_template, get_version, pick_variant
from nurture.contacts import get_contact
from nurture.errors import InvalidInput
from nurture.models import TemplateKind
from templates.render import CompiledTemplate, RenderedEmail, compile_template

PREVIEW_MESSAGE_ID = 0


@dataclass(frozen=True, slots=True)
class Preview:
    locale: str
    version: int
    rendered: RenderedEmail


def render_for_contact(
    session: Session,
    config: MailConfig,
    *,
    template_id: int,
    contact_id: int,
    version: int | None = None,
    locale: str | None = None,
    draft: VariantInput | None = None,
    extra: Mapping[str, Any] | None = None,
    exact: bool = True,
    fill_samples: bool = False,
) -> Preview:
    """Render a template (a stored version, or an unsaved `draft`) as `contact_id` would get it.

    `exact` gives the contact's real unsubscribe link; `fill_samples` fills variables
    the contact has no value for (webinar, case study...) with sample values, for the
    editor's preview. TemplateInvalid for a draft that does not compile,
    TemplateRenderError (with part and line) when rendering fails, NotFound for an
    unknown template, version or contact.
    """
    template = get_template(session, template_id)
    stored = get_version(session, template_id, version)
    contact = get_contact(session, contact_id)
    if contact.email is None:
        raise InvalidInput.single("contact_id", "the contact has no e-mail address")
    recipient = contact_recipient(contact, config)
    chosen = locale or contact.locale
    compiled: CompiledTemplate
    if draft is not None:
        used_locale = locale or "en"
        compiled = compile_template(
            draft.subject, draft.preheader, draft.body, draft.text_body, tracking=template.tracking
        )
    else:
        variant = pick_variant(stored, chosen)
        used_locale = variant.locale
        compiled = compiled_variant(variant, tracking=stored.tracking)
    context: dict[str, Any] = {**(extra or {}), **recipient.context}
    if fill_samples:
        context = merge(validation_context(used_locale), context)
    marketing = template.kind == TemplateKind.MARKETING.value
    rendered = compiled.render(
        context,
        message_id=PREVIEW_MESSAGE_ID,
        base_url=config.base_url,
        secret=config.signer,
        contact_id=(contact.id if exact else 0) if marketing else None,
    )
    return Preview(used_locale, stored.number, rendered)
