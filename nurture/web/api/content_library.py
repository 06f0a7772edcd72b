"""The content library over the API: services, case studies, webinars and articles.

Each kind has list (an id cursor), create, read, partial update and delete under
/api/v1/<kind>, made by one handler set parametrised by kind (as the UI's
library pages are). Marketers and admins write; sales keys read. The handlers
only translate: campaigns.content validates (422 naming each field), refuses
taken names (409) and writes the audit log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

import msgspec
from litestar import delete, get, patch, post
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import ResponseSpec
from litestar.params import JSONBody, PathParameter, QueryParameter
from sqlalchemy.orm import Session

from campaigns.content import library
from campaigns.content.kinds import ARTICLES, CASE_STUDIES, SERVICES, WEBINARS, Kind, M
from nurture.errors import InvalidInput, Problem
from nurture.models import Role
from nurture.validation import NUL_MESSAGE, holds_nul, parse_id
from nurture.web.api import content_library_io as io
from nurture.web.api.bodies import MAX_ID, json_body_operation, partial_of, present
from nurture.web.api.responses import errors_meaning
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
_CHANGE_DOC = "The fields to change; fields left out keep their value, null clears an optional one."

# The handlers below are written once with these type variables; each kind's
# handlers get its own structs for them through `signature_namespace`, which is
# how Litestar resolves the annotations (for decoding and for /schema).
ItemIn = TypeVar("ItemIn", bound=msgspec.Struct)
ItemChange = TypeVar("ItemChange", bound=msgspec.Struct)
ItemOut = TypeVar("ItemOut", bound=msgspec.Struct)
ItemPage = TypeVar("ItemPage", bound=msgspec.Struct)


@dataclass(frozen=True, slots=True)
class KindApi(Generic[M, ItemOut, ItemPage]):
    """One kind as the API shows it: its path, its bodies and its answers."""

    path: str  # "case-studies"
    kind: Kind[M]
    new: type[msgspec.Struct]
    out: type[ItemOut]
    page: type[ItemPage]
    out_of: Callable[[M], ItemOut]

    @property
    def noun(self) -> str:
        return self.kind.name

    @property
    def article(self) -> str:
        return "an" if self.noun[0] in "aeiou" else "a"


KINDS: tuple[KindApi[Any, Any, Any], ...] = (
    KindApi("services", SERVICES, io.ServiceIn, io.ServiceOut, io.ServicePage, io.service_out),
    KindApi(
        "case-studies",
        CASE_STUDIES,
        io.CaseStudyIn,
        io.CaseStudyOut,
        io.CaseStudyPage,
        io.case_study_out,
    ),
    KindApi("webinars", WEBINARS, io.WebinarIn, io.WebinarOut, io.WebinarPage, io.webinar_out),
    KindApi("articles", ARTICLES, io.ArticleIn, io.ArticleOut, io.ArticlePage, io.article_out),
)


def _errors(*statuses: int) -> dict[int, ResponseSpec]:
    return errors_meaning(_OWN_MEANING, *statuses)


def _page(db: Session, kind: Kind[M], cursor: str | None, limit: int) -> tuple[list[M], str | None]:
    after = None if cursor is None else parse_id(cursor)
    if cursor is not None and after is None:
        raise InvalidInput.single("cursor", "is not a cursor this API gave out")
    items = library.page(db, kind, after=after, limit=limit)
    return items, str(items[-1].id) if len(items) == limit else None


def _without_nul(values: dict[str, Any]) -> dict[str, Any]:
    # PostgreSQL stores no NUL in text nor in JSON strings (metrics, quotes): a 500 before.
    problems = [Problem(name, NUL_MESSAGE) for name, value in values.items() if holds_nul(value)]
    if problems:
        raise InvalidInput(problems)
    return values


def _named(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    # Litestar takes a handler's name (and its operationId) from the function's.
    fn.__name__ = fn.__qualname__ = name
    return fn


def kind_handlers(api: KindApi[M, ItemOut, ItemPage]) -> list[HTTPRouteHandler]:
    """List, create, read, change and delete for one kind of library item."""
    kind = api.kind
    change = partial_of(api.new, api.new.__name__.removesuffix("In") + "Change", _CHANGE_DOC)
    names = {"ItemIn": api.new, "ItemChange": change, "ItemOut": api.out, "ItemPage": api.page}
    one = kind.name.replace(" ", "_")
    many = api.path.replace("-", "_")
    collection, item = f"/{api.path}", f"/{api.path}/{{item_id:int}}"
    shared: dict[str, Any] = {"sync_to_thread": True, "signature_namespace": names}

    def list_items(db: Db, cursor: Cursor = None, limit: Limit = 50) -> ItemPage:
        items, next_cursor = _page(db, kind, cursor, limit)
        return api.page([api.out_of(i) for i in items], next_cursor)

    def create_item(data: JSONBody[ItemIn], db: Db, principal: Me) -> ItemOut:
        values = _without_nul(present(data))
        return api.out_of(library.create(db, kind, actor=principal.actor, data=values))

    def read_item(db: Db, item_id: ItemId) -> ItemOut:
        return api.out_of(library.get(db, kind, item_id))

    def change_item(data: JSONBody[ItemChange], db: Db, principal: Me, item_id: ItemId) -> ItemOut:
        values = _without_nul(present(data))
        changed = library.update(db, kind, item_id, actor=principal.actor, data=values)
        return api.out_of(changed)

    def delete_item(db: Db, principal: Me, item_id: ItemId) -> None:
        library.delete(db, kind, item_id, actor=principal.actor)

    a_noun = f"{api.article} {api.noun}"
    return [
        get(
            collection,
            guards=[READERS],
            summary=f"List {api.noun} items by id",
            responses=_errors(422),
            **shared,
        )(_named(list_items, f"list_{many}")),
        post(
            collection,
            guards=[WRITERS],
            status_code=201,
            summary=f"Create {a_noun}",
            operation_class=json_body_operation(api.new, description=f"The {api.noun}"),
            responses=_errors(409, 422),
            **shared,
        )(_named(create_item, f"create_{one}")),
        get(item, guards=[READERS], summary=f"Read {a_noun}", responses=_errors(404), **shared)(
            _named(read_item, f"read_{one}")
        ),
        patch(
            item,
            guards=[WRITERS],
            summary=f"Change {a_noun}",
            operation_class=json_body_operation(change, description="The fields to change"),
            responses=_errors(404, 409, 422),
            **shared,
        )(_named(change_item, f"change_{one}")),
        delete(
            item, guards=[WRITERS], summary=f"Delete {a_noun}", responses=_errors(404), **shared
        )(_named(delete_item, f"delete_{one}")),
    ]


HANDLERS = [handler for api in KINDS for handler in kind_handlers(api)]
