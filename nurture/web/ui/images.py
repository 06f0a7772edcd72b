"""`POST /content/images`: the block editor's image upload, answered in JSON for its script.

The script posts multipart `file` and `width` (the block's width in CSS px) with the
page's CSRF token in the `x-csrftoken` header (from `<body hx-headers>`, as every page
script does) and gets `{"id", "url", "width", "height"}`: `url` is absolute (from the
base URL), ready for the MJML. A refusal is 422
`{"error": {"status", "message", "problems": [{"field": "file" | "width", "message"}]}}`.
"""

from __future__ import annotations

from typing import Any

from litestar import MediaType, Request, Response, post

from campaigns.email.images import image_url
from nurture.errors import InvalidInput
from nurture.web.auth import ui_roles
from nurture.web.image_uploads import MAX_REQUEST_BYTES, MultipartForm, store_upload
from nurture.web.state import settings_of
from nurture.web.ui.params import Db, Me
from nurture.web.ui.render import MARKETING


@post(
    "/content/images",
    guards=[ui_roles(*MARKETING)],
    sync_to_thread=True,
    status_code=200,
    request_max_body_size=MAX_REQUEST_BYTES,
)
def upload_image(
    request: Request[Any, Any, Any], db: Db, principal: Me, data: MultipartForm
) -> Response[Any]:
    try:
        stored = store_upload(db, data, actor=principal.actor)
    except InvalidInput as exc:
        db.rollback()
        # JSON whatever the script's Accept header says: it reads the problems.
        problems = [{"field": p.field, "message": p.message} for p in exc.problems]
        error = {"status": 422, "message": "the image was not taken", "problems": problems}
        return Response({"error": error}, status_code=422, media_type=MediaType.JSON)
    image = stored.image
    body = {
        "id": image.id,
        "url": image_url(settings_of(request.app).base_url, image),
        "width": image.width,
        "height": image.height,
    }
    return Response(body, media_type=MediaType.JSON)


handlers = [upload_image]
