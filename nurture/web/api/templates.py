"""E-mail templates: create, read, change (every save a version), archive, render for a
contact, send to a contact through the real pipeline. Marketers and admins write; sales
reps read."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import JSONBody, PathParameter, QueryParameter
from sqlalchemy.orm import Session

from campaigns.email import pipeline, store
from campaigns.email.preview import render_for_contact
from nurture.models import Role
from nurture.web.api import template_io as io
from nurture.web.api.bodies import MAX_ID, json_body_operation
from nurture.web.api.responses import errors
from nurture.web.api.schemas import ErrorOut
from nurture.web.auth import Principal, api_roles
from nurture.web.mail import mail_config, transport

READERS = api_roles()
WRITERS = api_roles(Role.ADMIN, Role.MARKETER)

NAME_TAKEN = {
    409: ResponseSpec(
        ErrorOut, description="Another template has this name", generate_examples=False
    )
}
TemplateId = Annotated[int, PathParameter(ge=1, le=MAX_ID, description="The template's id")]
VersionNumber = Annotated[
    int, PathParameter(ge=1, le=io.MAX_VERSION, description="A version number")
]
Db = NamedDependency[Session]
Me = NamedDependency[Principal]


@get(
    "/templates",
    guards=[READERS],
    sync_to_thread=True,
    summary="List templates by name",
    responses=errors(),
)
def list_templates(
    db: Db,
    include_archived: Annotated[
        bool, QueryParameter(description="Include archived templates")
    ] = False,
) -> list[io.TemplateOut]:
    found = store.list_templates(db, include_archived=include_archived)
    return [io.template_out(t, None) for t in found]


@post(
    "/templates",
    guards=[WRITERS],
    sync_to_thread=True,
    status_code=201,
    summary="Create a template",
    description=(
        "Validates every variant: Jinja syntax, the sandbox's refusals, MJML errors and a test "
        "render; problems answer 422 naming `variants.<locale>.<part>` and the line."
    ),
    operation_class=json_body_operation(io.TemplateIn, description="The template"),
    responses={**errors(422), **NAME_TAKEN},
)
def create_template(data: JSONBody[io.TemplateIn], db: Db, principal: Me) -> io.TemplateOut:
    fields = io.create_fields(data)
    template = store.create_template(db, actor=principal.actor, **fields)
    return io.template_out(template, store.get_version(db, template.id))


@get(
    "/templates/{template_id:int}",
    guards=[READERS],
    sync_to_thread=True,
    summary="Read a template with its current content",
    responses=errors(404),
)
def read_template(db: Db, template_id: TemplateId) -> io.TemplateOut:
    template = store.get_template(db, template_id)
    return io.template_out(template, store.get_version(db, template_id))


@patch(
    "/templates/{template_id:int}",
    guards=[WRITERS],
    sync_to_thread=True,
    summary="Save a template (a new version)",
    operation_class=json_body_operation(io.TemplatePatch, description="The fields to change"),
    responses={**errors(404, 422), **NAME_TAKEN},
)
def save_template(
    data: JSONBody[io.TemplatePatch], db: Db, principal: Me, template_id: TemplateId
) -> io.TemplateOut:
    fields = io.update_fields(data)
    version = store.update_template(db, template_id, actor=principal.actor, **fields)
    return io.template_out(store.get_template(db, template_id), version)


@delete(
    "/templates/{template_id:int}",
    guards=[WRITERS],
    sync_to_thread=True,
    summary="Archive a template (its versions and messages stay)",
    responses=errors(404),
)
def archive_template(db: Db, principal: Me, template_id: TemplateId) -> None:
    store.archive_template(db, template_id, actor=principal.actor)


@get(
    "/templates/{template_id:int}/versions",
    guards=[READERS],
    sync_to_thread=True,
    summary="A template's versions, newest first",
    responses=errors(404),
)
def list_versions(db: Db, template_id: TemplateId) -> list[io.VersionOut]:
    return [io.version_out(v, with_variants=False) for v in store.list_versions(db, template_id)]


@get(
    "/templates/{template_id:int}/versions/{number:int}",
    guards=[READERS],
    sync_to_thread=True,
    summary="One version of a template, with its content",
    responses=errors(404),
)
def read_version(db: Db, template_id: TemplateId, number: VersionNumber) -> io.VersionOut:
    return io.version_out(store.get_version(db, template_id, number), with_variants=True)


@post(
    "/templates/{template_id:int}/render",
    guards=[READERS],
    sync_to_thread=True,
    status_code=200,
    summary="Render a template for a contact",
    description=(
        "Answers subject, HTML and text exactly as the contact would get them (their locale, "
        "data and unsubscribe link). `extra` adds values the template uses beyond the contact "
        "(webinar, case_study...). A failing expression answers 422 with its part and line."
    ),
    operation_class=json_body_operation(io.RenderIn, description="Who to render for"),
    responses=errors(404, 422),
)
def render_template(
    request: Request[Any, Any, Any],
    data: JSONBody[io.RenderIn],
    db: Db,
    template_id: TemplateId,
) -> io.RenderOut:
    preview = render_for_contact(
        db,
        mail_config(request.app),
        template_id=template_id,
        contact_id=data.contact_id,
        version=data.version,
        locale=data.locale,
        extra=io.checked_extra(data.extra),
    )
    rendered = preview.rendered
    return io.RenderOut(
        subject=rendered.subject,
        preheader=rendered.preheader,
        html=rendered.html,
        text=rendered.text,
        locale=preview.locale,
        version=preview.version,
        links=list(rendered.links),
    )


@post(
    "/templates/{template_id:int}/send",
    guards=[WRITERS],
    sync_to_thread=True,
    status_code=202,
    summary="Send a template to one contact",
    description=(
        "Through the real pipeline: suppression and topic checks right before sending, "
        "tracked links, one-click unsubscribe. The same `idempotency_key` never sends twice "
        "(one is made when left out). Answers the message id and its status "
        "(`sent`, `suppressed`, `deferred`...)."
    ),
    operation_class=json_body_operation(io.SendIn, description="Who to send to"),
    responses=errors(404, 422),
)
def send_template(
    request: Request[Any, Any, Any],
    data: JSONBody[io.SendIn],
    db: Db,
    template_id: TemplateId,
) -> Response[io.SendOut]:
    contact_id, extra = data.contact_id, io.checked_extra(data.extra)
    key = data.idempotency_key or f"api:{template_id}:{contact_id}:{uuid.uuid4().hex}"
    store.get_template(db, template_id)  # a 404 before anything is recorded
    message = pipeline.send_to_contact(
        db,
        template_id,
        contact_id,
        idempotency_key=key,
        transport=transport(request.app),
        config=mail_config(request.app),
        extra=extra,
    )
    return Response(io.SendOut(message.id, message.status, key), status_code=202)


HANDLERS = [
    list_templates,
    create_template,
    read_template,
    save_template,
    archive_template,
    list_versions,
    read_version,
    render_template,
    send_template,
]
