"""The pre-save check over the API: what in a template would hurt delivery or readers.

`POST /api/v1/templates/{id}/check` with `{}` checks the saved current version; with
`variants` it checks those instead (what a client is about to save). It changes nothing,
so anyone who may read templates may call it.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter
from msgspec import Meta
from sqlalchemy.orm import Session

from campaigns.email.store import MAX_BODY, MAX_SUBJECT, VariantInput
from campaigns.email.template_check import TemplateCheck, check_template
from nurture.web.api.bodies import MAX_ID, json_body_operation
from nurture.web.api.responses import errors
from nurture.web.auth import api_roles
from nurture.web.mail import mail_config

READERS = api_roles()
MAX_VARIANTS = 20
TemplateId = Annotated[int, PathParameter(ge=1, le=MAX_ID, description="The template's id")]
Locale = Annotated[str, Meta(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", examples=["en"])]
Db = NamedDependency[Session]


class CheckVariantIn(msgspec.Struct, forbid_unknown_fields=True):
    """One locale's unsaved content, as `PATCH /templates/{id}` takes it."""

    subject: Annotated[str, Meta(max_length=MAX_SUBJECT)]
    body: Annotated[str, Meta(max_length=MAX_BODY)]
    preheader: Annotated[str, Meta(max_length=MAX_SUBJECT)] = ""
    text_body: Annotated[str, Meta(max_length=MAX_BODY)] | None = None


class TemplateCheckIn(msgspec.Struct, forbid_unknown_fields=True):
    """Leave `variants` out to check the saved current version."""

    variants: (
        Annotated[
            dict[Locale, CheckVariantIn],
            Meta(
                min_length=1,
                max_length=MAX_VARIANTS,
                examples=[{"en": {"subject": "Hi", "body": "<mjml>...</mjml>"}}],
            ),
        ]
        | None
    ) = None


class CheckFindingOut(msgspec.Struct):
    """One finding. `block` is the 0-based index of the block (the top-level child of
    `<mj-body>`) it is in, null for the message as a whole; `line` is 1-based in the body."""

    code: str
    severity: str
    locale: str
    message: str
    block: int | None
    block_kind: str | None
    line: int | None


class TemplateCheckOut(msgspec.Struct):
    """`version` is the saved version checked, null when `variants` were given."""

    template_id: int
    version: int | None
    errors: int
    warnings: int
    findings: list[CheckFindingOut]


@post(
    "/templates/{template_id:int}/check",
    guards=[READERS],
    sync_to_thread=True,
    status_code=200,
    summary="Check a template before saving it",
    description=(
        "Renders each variant with sample data and lists what would hurt delivery or "
        "readers: images without alt text, HTML over Gmail's clipping size (about 102 KB), "
        "too little text for the images, links that are not https, marketing mail without "
        "an unsubscribe link, colour contrast below WCAG AA. Each finding names its "
        "locale, block and line. Nothing is saved, and no finding stops a save."
    ),
    operation_class=json_body_operation(TemplateCheckIn, description="What to check"),
    responses=errors(404, 422),
)
def check_template_api(
    request: Request[Any, Any, Any],
    data: JSONBody[TemplateCheckIn],
    db: Db,
    template_id: TemplateId,
) -> TemplateCheckOut:
    variants = None
    if data.variants is not None:
        variants = {
            locale: VariantInput(v.subject, v.body, v.preheader, v.text_body)
            for locale, v in data.variants.items()
        }
    result = check_template(db, template_id, config=mail_config(request.app), variants=variants)
    return check_out(result)


def check_out(result: TemplateCheck) -> TemplateCheckOut:
    return TemplateCheckOut(
        template_id=result.template_id,
        version=result.version,
        errors=result.errors,
        warnings=result.warnings,
        findings=[
            CheckFindingOut(
                code=f.code,
                severity=f.severity,
                locale=f.locale,
                message=f.message,
                block=f.block,
                block_kind=f.block_kind,
                line=f.line,
            )
            for f in result.findings
        ],
    )


HANDLERS = [check_template_api]
