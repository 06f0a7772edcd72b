"""E-mail helpers shared by the API and the UI: the app's mail settings and transport,
and previews that render a template for one contact without sending anything.

A preview renders with message id 0 (no message row exists, so its tracked links
lead nowhere) and, unless asked to be exact, an unsubscribe link that names no
contact, so clicking around a preview changes nobody's preferences.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from litestar import Litestar
from sqlalchemy.orm import Session

from campaigns.delivery.factory import transport_for
from campaigns.delivery.transport import Transport
from campaigns.email.compiled import compiled_variant
from campaigns.email.mailconfig import MailConfig
from campaigns.email.recipients import contact_recipient
from campaigns.email.samples import merge, validation_context
from campaigns.email.store import VariantInput, get_template, get_version, pick_variant
from nurture.contacts import get_contact
from nurture.errors import InvalidInput
from nurture.models import TemplateKind
from nurture.web.state import settings_of
from templates.render import CompiledTemplate, RenderedEmail, compile_template

PREVIEW_MESSAGE_ID = 0


def mail_config(app: Litestar) -> MailConfig:
    """The app's MailConfig, built once (it may read the DKIM key file)."""
    found: Any = app.state.get("mail_config")
    if isinstance(found, MailConfig):
        return found
    config = MailConfig.from_settings(settings_of(app))
    app.state.mail_config = config
    return config


def transport(app: Litestar) -> Transport:
    """SMTP when NURTURE_SMTP_URL is set, else the capture mailbox (shared per process)."""
    return transport_for(settings_of(app))


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
