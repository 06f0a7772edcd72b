"""Domain and framework errors mapped to HTTP answers, in one place.

API paths answer JSON `{"error": {"status", "message", "problems": [...]}}`
where each problem names its `field` (and `index` within a batch); UI paths
answer an HTML page, and a missing login redirects to the login page.

A request body Litestar could not decode into its struct answers 422 with the
field named by its path (`company.country`, `contact_ids[2]`); a body that is
not JSON at all, or is missing, answers 400 naming `body`.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    PermissionDeniedException,
    SerializationException,
    ValidationException,
)
from litestar.response import Redirect, Template
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_500_INTERNAL_SERVER_ERROR,
)
from litestar_htmx import ClientRedirect, HTMXDetails

from nurture.errors import Conflict, DomainError, InvalidInput, NotFound, Problem
from nurture.web.auth import LoginRequired
from templates.problems import TemplateRenderError
from templates.tokens import TokenError

log = logging.getLogger(__name__)


class ForbiddenInput(PermissionDeniedException):
    """A 403 for values this caller may not send, with a problem naming each one."""

    def __init__(self, message: str, problems: list[Problem]) -> None:
        super().__init__(detail=message)
        self.problems = problems


def _is_api(request: Request[Any, Any, Any]) -> bool:
    return request.url.path.startswith("/api/")


def error_response(
    request: Request[Any, Any, Any],
    status: int,
    message: str,
    problems: list[Problem] | None = None,
) -> Response[Any]:
    if _is_api(request) or "text/html" not in request.headers.get("accept", ""):
        body: dict[str, Any] = {"status": status, "message": message}
        if problems:
            body["problems"] = [
                {
                    "field": p.field,
                    "message": p.message,
                    **({} if p.index is None else {"index": p.index}),
                }
                for p in problems
            ]
        return Response({"error": body}, status_code=status, media_type=MediaType.JSON)
    return Template(
        "error.html",
        context={"status": status, "message": message, "problems": problems or []},
        status_code=status,
    )


def _domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    if isinstance(exc, InvalidInput):
        return error_response(request, HTTP_422_UNPROCESSABLE_ENTITY, "invalid input", exc.problems)
    if isinstance(exc, NotFound):
        return error_response(request, HTTP_404_NOT_FOUND, str(exc))
    if isinstance(exc, Conflict):
        return error_response(request, HTTP_409_CONFLICT, str(exc))
    if isinstance(exc, TemplateRenderError):
        found = exc.problem
        where = found.message if found.line is None else f"line {found.line}: {found.message}"
        problem = Problem(found.part, where)
        return error_response(
            request, HTTP_422_UNPROCESSABLE_ENTITY, "the template cannot be rendered", [problem]
        )
    if isinstance(exc, TokenError):
        # Signed links answer 400 and go nowhere: no redirect, no hint of a target.
        return error_response(request, HTTP_400_BAD_REQUEST, "this link is not valid")
    return error_response(request, HTTP_400_BAD_REQUEST, str(exc))


def _validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    items = [i for i in exc.extra if isinstance(i, dict)] if isinstance(exc.extra, list) else []
    body = [i for i in items if i.get("source") == "body"]
    if body:
        if any(_is_absent_body(i) for i in body):
            return error_response(
                request,
                HTTP_400_BAD_REQUEST,
                "the request body is missing",
                [Problem("body", "is empty; send a JSON document")],
            )
        problems = [body_problem(str(i.get("key", "")), str(i.get("message", ""))) for i in body]
        return error_response(request, HTTP_422_UNPROCESSABLE_ENTITY, "invalid input", problems)
    problems = [
        Problem(str(i.get("key") or i.get("source") or ""), str(i.get("message", "")))
        for i in items
    ]
    return error_response(request, exc.status_code, _plain(exc.detail), problems)


_MISSING = re.compile(r"^Object missing required field `(.+)`$")
_UNKNOWN = re.compile(r"^Object contains unknown field `(.+)`$")


def body_problem(path: str, message: str) -> Problem:
    """A msgspec decoding error as a problem naming its field.

    `path` is where msgspec stopped, without its `$.` (Litestar reports the
    body's root as `data`); a missing or unknown field is named itself, so
    `{"company": {"web": 1}}` names `company.web`, not `company`.
    """
    prefix = "" if path in ("", "data") else path
    for pattern, says in ((_MISSING, "is required"), (_UNKNOWN, "is not a known field")):
        found = pattern.match(message)
        if found:
            name = found.group(1)
            return Problem(f"{prefix}.{name}" if prefix else name, says)
    return Problem(prefix or "body", message)


def _is_absent_body(item: dict[str, Any]) -> bool:
    # With no body at all Litestar leaves `data` out of the handler's arguments,
    # and reports the missing argument's name (a KeyError's text) as the message.
    return item.get("key") == "data" and str(item.get("message", "")).strip("'\"") == "data"


def _http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if isinstance(exc, LoginRequired) and not _is_api(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if HTMXDetails(request):
            # htmx follows this header with a full page load instead of swapping a fragment.
            return ClientRedirect("/login")
        return Redirect(f"/login?next={quote(target)}")
    if isinstance(exc.__cause__, SerializationException):
        # Litestar wraps a body that is not JSON in a bare 400; name the body.
        problem = Problem("body", f"is not valid JSON: {exc.__cause__}")
        return error_response(
            request, HTTP_400_BAD_REQUEST, "the request body is not valid JSON", [problem]
        )
    problems = exc.problems if isinstance(exc, ForbiddenInput) else None
    response = error_response(request, exc.status_code, _plain(exc.detail), problems)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(
        request, HTTP_500_INTERNAL_SERVER_ERROR, "internal error; it has been logged"
    )


def _plain(detail: str) -> str:
    return detail or "error"


EXCEPTION_HANDLERS: dict[int | type[Exception], Any] = {
    DomainError: _domain_error,
    ValidationException: _validation_error,
    HTTPException: _http_error,
    Exception: _unexpected,
}
