"""An image upload as both the UI and the API take it: multipart `file` and `width`."""

from __future__ import annotations

from typing import Annotated, Any

from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from sqlalchemy.orm import Session

from campaigns.email.images import Stored, save_image
from nurture.errors import InvalidInput, Problem
from templates import images

# Room for the multipart envelope around the largest image taken, so that an image
# just over the limit is refused by name (422 on `file`), not by the server's 413.
MAX_REQUEST_BYTES = images.MAX_BYTES + 64 * 1024
MultipartForm = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]


def store_upload(db: Session, form: dict[str, Any], *, actor: str) -> Stored:
    """Check, prepare and store the posted image; InvalidInput names `file` and `width`."""
    problems: list[Problem] = []
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        problems.append(Problem("file", "is required: attach a PNG, JPEG, GIF or WebP image"))
    width: int | None = None
    try:
        width = images.check_width(form.get("width"))
    except InvalidInput as exc:
        problems.extend(exc.problems)
    if problems or not isinstance(upload, UploadFile) or width is None:
        raise InvalidInput(problems)
    data = upload.file.read(images.MAX_BYTES + 1)
    prepared = images.prepare(data, width=width)
    return save_image(db, prepared=prepared, filename=upload.filename or "", actor=actor)
