"""E-mail images over the API: upload one (multipart), list them newest first.

Marketers and admins upload; every key may list. The answer's `url` is absolute (from
the base URL) and public: put it in a template's `<mj-image src>`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Operation
from litestar.params import QueryParameter
from sqlalchemy.orm import Session

from campaigns.email import images as store
from nurture.errors import InvalidInput
from nurture.models import EmailImage, Role
from nurture.validation import parse_id
from nurture.web.api.responses import errors_meaning
from nurture.web.auth import Principal, api_roles
from nurture.web.image_uploads import MAX_REQUEST_BYTES, MultipartForm, store_upload
from nurture.web.state import settings_of
from templates import images

READERS = api_roles()
WRITERS = api_roles(Role.ADMIN, Role.MARKETER)
Db = NamedDependency[Session]
Me = NamedDependency[Principal]
Cursor = Annotated[
    str | None,
    QueryParameter(description="The `next_cursor` of the previous page", max_length=20),
]
Limit = Annotated[int, QueryParameter(ge=1, le=store.MAX_PAGE, description="Images per page")]
_OWN_MEANING = {
    413: "The request is far over the size limit (an image just over it answers 422)",
    422: "The upload is refused; `problems` name `file` (not a PNG, JPEG, GIF or WebP "
    "image, too large, too many pixels, damaged) or `width`",
}
_LIST_MEANING = {422: "`cursor` is not one this API gave out"}


class EmailImageOut(msgspec.Struct):
    """A stored image. `width` and `height` are its pixels (twice the block's CSS width
    at most, for sharp screens): show it at `width / 2` CSS px or less."""

    id: int
    url: Annotated[str, msgspec.Meta(description="Absolute, public, never changes")]
    media_type: str
    width: int
    height: int
    frames: Annotated[int, msgspec.Meta(description="More than 1: an animation")]
    byte_size: int
    filename: str
    uploaded_by: Annotated[str, msgspec.Meta(description="Who first uploaded it: user:N, apikey:N")]
    created_at: datetime


class EmailImagePage(msgspec.Struct):
    """Images, newest first; pass `next_cursor` back as `cursor` for more (null: no more)."""

    items: list[EmailImageOut]
    next_cursor: str | None


class _UploadOperation(Operation):
    """Documents the multipart body (the handler reads the form itself, to name each field)."""

    def to_schema(self) -> dict[str, Any]:
        document = super().to_schema()
        document["requestBody"] = {
            "required": True,
            "description": "The image and the width of the block that shows it",
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file", "width"],
                        "properties": {
                            "file": {
                                "type": "string",
                                "format": "binary",
                                "description": (
                                    "A PNG, JPEG, GIF or WebP image (told by its content), "
                                    f"at most {images.MAX_BYTES // (1024 * 1024)} MB and "
                                    f"{images.MAX_PIXELS // 1_000_000} million pixels"
                                ),
                            },
                            "width": {
                                "type": "integer",
                                "minimum": images.MIN_WIDTH,
                                "maximum": images.MAX_WIDTH,
                                "description": (
                                    "The block's width in CSS px; the image is stored at "
                                    "twice that at most, never enlarged"
                                ),
                            },
                        },
                    }
                }
            },
        }
        return document


def image_out(image: EmailImage, base_url: str) -> EmailImageOut:
    return EmailImageOut(
        id=image.id,
        url=store.image_url(base_url, image),
        media_type=image.media_type,
        width=image.width,
        height=image.height,
        frames=image.frames,
        byte_size=image.byte_size,
        filename=image.filename,
        uploaded_by=image.uploaded_by,
        created_at=image.created_at,
    )


@post(
    "/images",
    guards=[WRITERS],
    sync_to_thread=True,
    status_code=201,
    summary="Upload an image for e-mail",
    description=(
        "Multipart `file` and `width`. The image is checked by its content, turned upright, "
        "stripped of its metadata and resized to twice `width` at most (never enlarged), in "
        "its own format; animations keep their frames. The same resulting bytes are stored "
        "once: uploading them again answers 200 with the stored image."
    ),
    operation_class=_UploadOperation,
    request_max_body_size=MAX_REQUEST_BYTES,
    responses={
        200: ResponseSpec(
            EmailImageOut, description="These bytes were stored already", generate_examples=False
        ),
        **errors_meaning(_OWN_MEANING, 413, 422),
    },
)
def upload_image(
    request: Request[Any, Any, Any], db: Db, principal: Me, data: MultipartForm
) -> Response[EmailImageOut]:
    stored = store_upload(db, data, actor=principal.actor)
    out = image_out(stored.image, settings_of(request.app).base_url)
    return Response(out, status_code=201 if stored.created else 200)


@get(
    "/images",
    guards=[READERS],
    sync_to_thread=True,
    summary="List uploaded images, newest first",
    responses=errors_meaning(_LIST_MEANING, 422),
)
def list_images(
    request: Request[Any, Any, Any], db: Db, cursor: Cursor = None, limit: Limit = 50
) -> EmailImagePage:
    before = None if cursor is None else parse_id(cursor)
    if cursor is not None and before is None:
        raise InvalidInput.single("cursor", "is not a cursor this API gave out")
    found = store.images_page(db, before=before, limit=limit)
    base_url = settings_of(request.app).base_url
    next_cursor = str(found[-1].id) if len(found) == limit else None
    return EmailImagePage([image_out(i, base_url) for i in found], next_cursor)


HANDLERS = [upload_image, list_images]
