"""Error answers as /schema documents them (their shape is made in nurture/web/errors.py)."""

from __future__ import annotations

from litestar.openapi import ResponseSpec

from nurture.web.api.schemas import ErrorOut

_MEANING = {
    400: "Malformed JSON or a query/path parameter of the wrong type or value",
    401: "No valid API key in `Authorization: Bearer <key>`",
    403: "The API key's role may not do this",
    404: "No such contact (or it was erased)",
    422: "The input was understood but is invalid; `problems` name each field",
}


def errors(*statuses: int) -> dict[int, ResponseSpec]:
    """Response specs for these error statuses (400, 401 and 403 always included)."""
    wanted = sorted({400, 401, 403, *statuses})
    return {
        status: ResponseSpec(ErrorOut, description=_MEANING[status], generate_examples=False)
        for status in wanted
    }
