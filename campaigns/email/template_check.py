"""The pre-save check of a template: each variant rendered with sample data, then looked at.

Every variable a template may use gets a sample value (`samples.validation_context`, as
the editor's preview and test sends fill them), and the brand is the firm's own, so a
colour written `{{ brand.color }}` is checked as readers will see it. A variant that does
not compile or render gives its problems as findings (with lines) and is still checked
as far as its source allows. The check never stops a save (see templates.checks).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from campaigns.email import brand
from campaigns.email.compiled import compiled_variant
from campaigns.email.mailconfig import MailConfig
from campaigns.email.preview import PREVIEW_MESSAGE_ID
from campaigns.email.samples import merge, validation_context
from campaigns.email.store import VariantInput, get_template, get_version
from nurture.models import EmailTemplateVersion, TemplateKind
from templates.checks import Finding, block_at_line, check_variant
from templates.problems import TemplateInvalid, TemplateProblem, TemplateRenderError
from templates.render import CompiledTemplate, compile_template


@dataclass(frozen=True, slots=True)
class TemplateCheck:
    """The findings for a template; `version` is the saved version checked, None for
    variants given by the caller (an unsaved form)."""

    template_id: int
    version: int | None
    findings: list[Finding]

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity == "warning")


def check_template(
    session: Session,
    template_id: int,
    *,
    config: MailConfig,
    variants: Mapping[str, VariantInput] | None = None,
) -> TemplateCheck:
    """Check the saved current version of a template, or `variants` (unsaved) in its place.

    `version` in the answer is the saved version's number when that is what was checked
    (`variants` left out, or equal to it). NotFound for an unknown template.
    """
    template = get_template(session, template_id)
    tracking = template.tracking
    # The brand saved under Settings, as sends and previews use it.
    config = brand.with_brand(session, config)
    marketing = template.kind == TemplateKind.MARKETING.value
    findings: list[Finding] = []
    stored = get_version(session, template_id)
    if variants is not None and variants != _saved(stored):
        for locale in sorted(variants):
            findings += check_one(
                locale, variants[locale], config=config, marketing=marketing, tracking=tracking
            )
        return TemplateCheck(template_id, None, findings)
    # The saved version (also when the form posted is exactly it, as when the editor opens).
    for row in sorted(stored.variants, key=lambda v: v.locale):
        # A saved variant is compiled once per process (the send path's cache).
        compiled = partial(compiled_variant, row, tracking=stored.tracking)
        findings += _check(row.locale, row.body, compiled, config=config, marketing=marketing)
    return TemplateCheck(template_id, stored.number, findings)


def check_one(
    locale: str,
    variant: VariantInput,
    *,
    config: MailConfig,
    marketing: bool,
    tracking: bool = True,
) -> list[Finding]:
    """The findings for one variant (say, an unsaved form's), rendered as a preview is."""
    compiled = partial(
        compile_template,
        variant.subject,
        variant.preheader,
        variant.body,
        variant.text_body,
        tracking=tracking,
    )
    return _check(locale, variant.body, compiled, config=config, marketing=marketing)


def _check(
    locale: str,
    body: str,
    compiled: Callable[[], CompiledTemplate],
    *,
    config: MailConfig,
    marketing: bool,
) -> list[Finding]:
    context = sample_context(locale, config)
    html: str | None = None
    problems: list[TemplateProblem] = []
    try:
        html = (
            compiled()
            .render(
                context,
                message_id=PREVIEW_MESSAGE_ID,
                base_url=config.base_url,
                secret=config.signer,
                contact_id=0 if marketing else None,
            )
            .html
        )
    except TemplateInvalid as exc:
        problems = exc.template_problems
    except TemplateRenderError as exc:
        problems = [exc.problem]
    findings = [_problem(locale, body, p) for p in problems]
    return findings + check_variant(
        locale=locale, mjml=body, html=html, context=context, marketing=marketing
    )


def _saved(version: EmailTemplateVersion) -> dict[str, VariantInput]:
    return {
        v.locale: VariantInput(v.subject, v.body, v.preheader, v.text_body or None)
        for v in version.variants
    }


def sample_context(locale: str, config: MailConfig) -> dict[str, Any]:
    """Sample values for every variable, with the firm's brand over the sample brand."""
    return merge(validation_context(locale), {"brand": config.brand})


def _problem(locale: str, body: str, problem: TemplateProblem) -> Finding:
    block, kind = block_at_line(body, problem.line) if problem.part == "body" else (None, None)
    part = {"text": "plain-text part"}.get(problem.part, problem.part)
    return Finding(
        "template_error",
        "error",
        locale,
        f"{part}: {problem.message}" if problem.part != "body" else problem.message,
        block,
        kind,
        problem.line if problem.part == "body" else None,
    )
