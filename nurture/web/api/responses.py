"""Error answers as /schema documents them (their shape is made in nurture/web/errors.py)."""

from __future__ import annotations

from collections.abc import Mapping

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


def errors_meaning(own: Mapping[int, str], *statuses: int) -> dict[int, ResponseSpec]:
    """`errors(*statuses)` with a route family's own words for some statuses (what a
    404 or 409 means there); `own` may also reword the 400, 401 and 403 always listed."""
    specs = errors(*(s for s in statuses if s not in own))
    for status in {*statuses, *specs}:
        if status in own:
            specs[status] = ResponseSpec(ErrorOut, description=own[status], generate_examples=False)
    return specs
