"""Domain and framework errors mapped to HTTP answers, in one place.

API paths answer JSON `{"error": {"status", "message", "problems": [...]}}`
where each problem names its `field` (and `index` within a batch); UI paths
answer an HTML page, and a missing login redirects to the login page.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
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
    problems = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            problems.append(
                Problem(
                    str(item.get("key") or item.get("source") or ""), str(item.get("message", ""))
                )
            )
    return error_response(request, exc.status_code, _plain(exc.detail), problems)


def _http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if isinstance(exc, LoginRequired) and not _is_api(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if HTMXDetails(request):
            # htmx follows this header with a full page load instead of swapping a fragment.
            return ClientRedirect("/login")
        return Redirect(f"/login?next={quote(target)}")
    response = error_response(request, exc.status_code, _plain(exc.detail))
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
