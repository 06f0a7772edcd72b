"""The live preview fragment both template editors show: an unsaved draft of one language
rendered for a chosen contact, as that contact would get it, with the template's problems
listed instead when it cannot be rendered."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.response import Template
from sqlalchemy.orm import Session

from campaigns.email.preview import render_for_contact
from campaigns.email.store import VariantInput
from nurture.web.mail import mail_config
from nurture.web.ui.content_form import template_problems
from nurture.web.ui.render import fragment
from templates.problems import TemplateInvalid, TemplateProblem, TemplateRenderError

NO_CONTACT = "Add a contact first: the preview renders the e-mail as one contact gets it."


def preview_fragment(
    request: Request[Any, Any, Any],
    db: Session,
    *,
    template_id: int,
    contact_id: int | None,
    locale: str,
    draft: VariantInput | None,
) -> Template:
    if contact_id is None:
        return fragment("content/_preview.html", rendered=None, problems=[], note=NO_CONTACT)
    if draft is None:
        return fragment(
            "content/_preview.html", rendered=None, problems=[], note="This language is empty."
        )
    problems: list[TemplateProblem] = []
    rendered = None
    try:
        rendered = render_for_contact(
            db,
            mail_config(request.app),
            template_id=template_id,
            contact_id=contact_id,
            locale=locale,
            draft=draft,
            exact=False,
            fill_samples=True,
        ).rendered
    except TemplateInvalid as exc:
        problems = exc.template_problems
    except TemplateRenderError as exc:
        problems = [exc.problem]
    return fragment(
        "content/_preview.html",
        rendered=rendered,
        problems=template_problems(problems),
        locale=locale,
        note=None,
    )
