"""E-mail images in the database: stored once per content, listed, read for serving.

The public address is content-addressed: `/img/<sha256>.<ext>`. Nobody finds an image
without its bytes, and what an address shows can never change, which is what lets
browsers and mail proxies keep it for a year.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from nurture import audit
from nurture.models import EmailImage
from templates.images import EXTENSIONS, PreparedImage

PATH_PREFIX = "/img/"
MAX_PAGE = 100
_SUFFIX_TYPES = {extension: media for media, extension in EXTENSIONS.items()}
_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True, slots=True)
class Stored:
    """An image row, and whether this upload added it (False: the bytes were there)."""

    image: EmailImage
    created: bool


@dataclass(frozen=True, slots=True)
class Served:
    media_type: str
    digest: str
    data: bytes | None  # None when only the headers were asked for


def image_path(image: EmailImage) -> str:
    """The image's public path, `/img/<sha256>.<ext>`."""
    return f"{PATH_PREFIX}{image.digest}.{EXTENSIONS[image.media_type]}"


def image_url(base_url: str, image: EmailImage) -> str:
    """The absolute address mail carries (mail clients have no page to be relative to)."""
    return base_url.rstrip("/") + image_path(image)


def save_image(session: Session, *, prepared: PreparedImage, filename: str, actor: str) -> Stored:
    """Store `prepared` unless the same bytes are stored already; audit the upload either way."""
    digest = prepared.digest
    image = _by_digest(session, digest)
    created = image is None
    if image is None:
        image = EmailImage(
            digest=digest,
            media_type=prepared.media_type,
            width=prepared.width,
            height=prepared.height,
            frames=prepared.frames,
            byte_size=len(prepared.data),
            filename=_plain_name(filename),
            uploaded_by=actor,
            data=prepared.data,
        )
        try:
            # Two uploads of the same bytes at once: the second finds the first's row.
            with session.begin_nested():
                session.add(image)
        except IntegrityError:
            image = _by_digest(session, digest)
            if image is None:
                raise
            created = False
    audit.record(
        session,
        actor=actor,
        action="image.uploaded",
        entity_type="email_image",
        entity_id=image.id,
        changes={"digest": digest, "filename": _plain_name(filename), "new": created},
    )
    return Stored(image, created)


def images_page(
    session: Session, *, before: int | None = None, limit: int = 50
) -> list[EmailImage]:
    """Up to `limit` images, newest first, with ids below `before` (the API's cursor)."""
    query = select(EmailImage).order_by(EmailImage.id.desc()).limit(max(1, min(limit, MAX_PAGE)))
    if before is not None:
        query = query.where(EmailImage.id < before)
    return list(session.scalars(query))


def served_image(session: Session, name: str, *, with_data: bool) -> Served | None:
    """The image a public path's last part (`<sha256>.<ext>`) names, or None."""
    digest, dot, suffix = name.partition(".")
    media_type = _SUFFIX_TYPES.get(suffix)
    if not dot or media_type is None or len(digest) != 64 or not _HEX.issuperset(digest):
        return None
    columns = [EmailImage.media_type, EmailImage.data] if with_data else [EmailImage.media_type]
    row = session.execute(select(*columns).where(EmailImage.digest == digest)).first()
    if row is None or row[0] != media_type:
        return None
    return Served(media_type, digest, row[1] if with_data else None)


def _by_digest(session: Session, digest: str) -> EmailImage | None:
    return session.scalars(select(EmailImage).where(EmailImage.digest == digest)).one_or_none()


def _plain_name(filename: str) -> str:
    # Browsers send a bare name, some tools a path; NUL is refused by PostgreSQL.
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].replace("\x00", "")
    return name[:255]
