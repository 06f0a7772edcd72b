"""The content library over the API: services, case studies, webinars and articles.

Each kind has list (an id cursor), create, read, partial update and delete under
/api/v1/<kind>. Marketers and admins write; sales keys read. The handlers only
translate: campaigns.content validates (422 naming each field), refuses taken
names (409) and writes the audit log.
"""

from __future__ import annotations

from typing import Annotated

from litestar import delete, get, patch, post
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import PathParameter, QueryParameter, RawBody
from sqlalchemy.orm import Session

from campaigns.content import library
from campaigns.content.kinds import ARTICLES, CASE_STUDIES, SERVICES, WEBINARS, Kind, M
from nurture.errors import InvalidInput
from nurture.models import Role
from nurture.web.api import content_library_io as io
from nurture.web.api.bodies import MAX_ID, json_body_operation, json_object
from nurture.web.api.responses import errors
from nurture.web.api.schemas import ErrorOut
from nurture.web.auth import Principal, api_roles

READERS = api_roles(Role.ADMIN, Role.MARKETER, Role.SALES)
WRITERS = api_roles(Role.ADMIN, Role.MARKETER)
_OWN_MEANING = {
    404: "No such item (or it was deleted)",
    409: "Another item of this kind already has this slug, name or title",
}
Db = NamedDependency[Session]
Me = NamedDependency[Principal]
ItemId = Annotated[int, PathParameter(ge=1, le=MAX_ID, description="The item's id")]
Cursor = Annotated[
    str | None,
    QueryParameter(description="The `next_cursor` of the previous page", max_length=20),
]
Limit = Annotated[int, QueryParameter(ge=1, le=library.MAX_PAGE, description="Items per page")]


def _errors(*statuses: int) -> dict[int, ResponseSpec]:
    specs = errors(*(s for s in statuses if s not in _OWN_MEANING))
    for status in statuses:
        if status in _OWN_MEANING:
            specs[status] = ResponseSpec(
                ErrorOut, description=_OWN_MEANING[status], generate_examples=False
            )
    return specs


def _page(db: Session, kind: Kind[M], cursor: str | None, limit: int) -> tuple[list[M], str | None]:
    if cursor is not None and not cursor.isdigit():
        raise InvalidInput.single("cursor", "is not a cursor this API gave out")
    items = library.page(db, kind, after=int(cursor) if cursor else None, limit=limit)
    return items, str(items[-1].id) if len(items) == limit else None


@get(
    "/services",
    guards=[READERS],
    sync_to_thread=True,
    summary="List service items by id",
    responses=_errors(422),
)
def list_services(db: Db, cursor: Cursor = None, limit: Limit = 50) -> io.ServicePage:
    items, next_cursor = _page(db, SERVICES, cursor, limit)
    return io.ServicePage([io.service_out(i) for i in items], next_cursor)


@post(
    "/services",
    guards=[WRITERS],
    sync_to_thread=True,
    status_code=201,
    summary="Create a service",
    operation_class=json_body_operation(io.ServiceIn, description="The service"),
    responses=_errors(409, 422),
)
def create_service(body: RawBody, db: Db, principal: Me) -> io.ServiceOut:
    item = library.create(db, SERVICES, actor=principal.actor, data=json_object(body))
    return io.service_out(item)


@get(
    "/services/{item_id:int}",
    guards=[READERS],
    sync_to_thread=True,
    summary="Read a service",
    responses=_errors(404),
)
def read_service(db: Db, item_id: ItemId) -> io.ServiceOut:
    return io.service_out(library.get(db, SERVICES, item_id))


@patch(
    "/services/{item_id:int}",
    guards=[WRITERS],
    sync_to_thread=True,
    summary="Change a service",
    operation_class=json_body_operation(io.ServiceIn, description="The fields to change"),
    responses=_errors(404, 409, 422),
)
def change_service(body: RawBody, db: Db, principal: Me, item_id: ItemId) -> io.ServiceOut:
    data = json_object(body)
    return io.service_out(library.update(db, SERVICES, item_id, actor=principal.actor, data=data))


@delete(
    "/services/{item_id:int}",
    guards=[WRITERS],
    sync_to_thread=True,
    summary="Delete a service",
    responses=_errors(404),
)
def delete_service(db: Db, principal: Me, item_id: ItemId) -> None:
    library.delete(db, SERVICES, item_id, actor=principal.actor)


@get(
    "/case-studies",
    guards=[READERS],
    sync_to_thread=True,
    summary="List case study items by id",
    responses=_errors(422),
)
def list_case_studies(db: Db, cursor: Cursor = None, limit: Limit = 50) -> io.CaseStudyPage:
    items, next_cursor = _page(db, CASE_STUDIES, cursor, limit)
    return io.CaseStudyPage([io.case_study_out(i) for i in items], next_cursor)


@post(
    "/case-studies",
    guards=[WRITERS],
    sync_to_thread=True,
    status_code=201,
    summary="Create a case study",
    operation_class=json_body_operation(io.CaseStudyIn, description="The case study"),
    responses=_errors(409, 422),
)
def create_case_study(body: RawBody, db: Db, principal: Me) -> io.CaseStudyOut:
    item = library.create(db, CASE_STUDIES, actor=principal.actor, data=json_object(body))
    return io.case_study_out(item)


@get(
    "/case-studies/{item_id:int}",
    guards=[READERS],
    sync_to_thread=True,
    summary="Read a case study",
    responses=_errors(404),
)
def read_case_study(db: Db, item_id: ItemId) -> io.CaseStudyOut:
    return io.case_study_out(library.get(db, CASE_STUDIES, item_id))


@patch(
    "/case-studies/{item_id:int}",
    guards=[WRITERS],
    sync_to_thread=True,
    summary="Change a case study",
    operation_class=json_body_operation(io.CaseStudyIn, description="The fields to change"),
    responses=_errors(404, 409, 422),
)
def change_case_study(body: RawBody, db: Db, principal: Me, item_id: ItemId) -> io.CaseStudyOut:
    data = json_object(body)
    return io.case_study_out(
        library.update(db, CASE_STUDIES, item_id, actor=principal.actor, data=data)
    )


@delete(
    "/case-studies/{item_id:int}",
    guards=[WRITERS],
    sync_to_thread=True,
    summary="Delete a case study",
    responses=_errors(404),
)
def delete_case_study(db: Db, principal: Me, item_id: ItemId) -> None:
    library.delete(db, CASE_STUDIES, item_id, actor=principal.actor)


@get(
    "/webinars",
    guards=[READERS],
    sync_to_thread=True,
    summary="List webinar items by id",
    responses=_errors(422),
)
def list_webinars(db: Db, cursor: Cursor = None, limit: Limit = 50) -> io.WebinarPage:
    items, next_cursor = _page(db, WEBINARS, cursor, limit)
    return io.WebinarPage([io.webinar_out(i) for i in items], next_cursor)


@post(
    "/webinars",
    guards=[WRITERS],
    sync_to_thread=True,
    status_code=201,
    summary="Create a webinar",
    operation_class=json_body_operation(io.WebinarIn, description="The webinar"),
    responses=_errors(409, 422),
)
def create_webinar(body: RawBody, db: Db, principal: Me) -> io.WebinarOut:
    item = library.create(db, WEBINARS, actor=principal.actor, data=json_object(body))
    return io.webinar_out(item)


@get(
    "/webinars/{item_id:int}",
    guards=[READERS],
    sync_to_thread=True,
    summary="Read a webinar",
    responses=_errors(404),
)
def read_webinar(db: Db, item_id: ItemId) -> io.WebinarOut:
    return io.webinar_out(library.get(db, WEBINARS, item_id))


@patch(
    "/webinars/{item_id:int}",
    guards=[WRITERS],
    sync_to_thread=True,
    summary="Change a webinar",
    operation_class=json_body_operation(io.WebinarIn, description="The fields to change"),
    responses=_errors(404, 409, 422),
)
def change_webinar(body: RawBody, db: Db, principal: Me, item_id: ItemId) -> io.WebinarOut:
    data = json_object(body)
    return io.webinar_out(library.update(db, WEBINARS, item_id, actor=principal.actor, data=data))


@delete(
    "/webinars/{item_id:int}",
    guards=[WRITERS],
    sync_to_thread=True,
    summary="Delete a webinar",
    responses=_errors(404),
)
def delete_webinar(db: Db, principal: Me, item_id: ItemId) -> None:
    library.delete(db, WEBINARS, item_id, actor=principal.actor)


@get(
    "/articles",
    guards=[READERS],
    sync_to_thread=True,
    summary="List article items by id",
    responses=_errors(422),
)
def list_articles(db: Db, cursor: Cursor = None, limit: Limit = 50) -> io.ArticlePage:
    items, next_cursor = _page(db, ARTICLES, cursor, limit)
    return io.ArticlePage([io.article_out(i) for i in items], next_cursor)


@post(
    "/articles",
    guards=[WRITERS],
    sync_to_thread=True,
    status_code=201,
    summary="Create a article",
    operation_class=json_body_operation(io.ArticleIn, description="The article"),
    responses=_errors(409, 422),
)
def create_article(body: RawBody, db: Db, principal: Me) -> io.ArticleOut:
    item = library.create(db, ARTICLES, actor=principal.actor, data=json_object(body))
    return io.article_out(item)


@get(
    "/articles/{item_id:int}",
    guards=[READERS],
    sync_to_thread=True,
    summary="Read a article",
    responses=_errors(404),
)
def read_article(db: Db, item_id: ItemId) -> io.ArticleOut:
    return io.article_out(library.get(db, ARTICLES, item_id))


@patch(
    "/articles/{item_id:int}",
    guards=[WRITERS],
    sync_to_thread=True,
    summary="Change a article",
    operation_class=json_body_operation(io.ArticleIn, description="The fields to change"),
    responses=_errors(404, 409, 422),
)
def change_article(body: RawBody, db: Db, principal: Me, item_id: ItemId) -> io.ArticleOut:
    data = json_object(body)
    return io.article_out(library.update(db, ARTICLES, item_id, actor=principal.actor, data=data))


@delete(
    "/articles/{item_id:int}",
    guards=[WRITERS],
    sync_to_thread=True,
    summary="Delete a article",
    responses=_errors(404),
)
def delete_article(db: Db, principal: Me, item_id: ItemId) -> None:
    library.delete(db, ARTICLES, item_id, actor=principal.actor)


HANDLERS = [
    list_services,
    create_service,
    read_service,
    change_service,
    delete_service,
    list_case_studies,
    create_case_study,
    read_case_study,
    change_case_study,
    delete_case_study,
    list_webinars,
    create_webinar,
    read_webinar,
    change_webinar,
    delete_webinar,
    list_articles,
    create_article,
    read_article,
    change_article,
    delete_article,
]
