"""Stored images on both databases: the bytes come back whole, the same bytes are one row,
every upload is audited, and the listing pages newest first."""

from __future__ import annotations

import threading
import time

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from campaigns.email import images as store
from nurture.db import session_scope
from nurture.models import AuditEntry, EmailImage
from templates import images
from tests.conftest import _empty_tables
from tests.images.samples import animation, jpeg_turned, png


def test_an_image_comes_back_byte_for_byte_from_its_public_name(db: Session) -> None:
    prepared = images.prepare(jpeg_turned(), width=300)
    stored = store.save_image(db, prepared=prepared, filename="team.jpg", actor="user:7")
    db.commit()
    assert stored.created
    name = f"{prepared.digest}.jpg"
    assert store.image_path(stored.image) == f"/img/{name}"
    assert store.image_url("https://mail.example.com/", stored.image) == (
        f"https://mail.example.com/img/{name}"
    )
    db.expire_all()
    served = store.served_image(db, name, with_data=True)
    assert served is not None
    assert (served.media_type, served.digest, served.data) == (
        "image/jpeg",
        prepared.digest,
        prepared.data,
    )
    headers_only = store.served_image(db, name, with_data=False)
    assert headers_only is not None
    assert headers_only.data is None


def test_the_same_bytes_uploaded_twice_are_one_row_with_two_audit_entries(db: Session) -> None:
    prepared = images.prepare(png(), width=200)
    first = store.save_image(db, prepared=prepared, filename="logo.png", actor="user:1")
    again = store.save_image(
        db, prepared=images.prepare(png(), width=200), filename="C:\\pics\\x.png", actor="apikey:4"
    )
    db.commit()
    assert first.created
    assert not again.created
    assert again.image.id == first.image.id
    assert db.scalar(select(func.count()).select_from(EmailImage)) == 1
    row = db.scalars(select(EmailImage)).one()
    assert (row.filename, row.uploaded_by, row.byte_size) == (
        "logo.png",
        "user:1",
        len(prepared.data),
    )
    entries = db.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.actor, e.action, e.entity_id) for e in entries] == [
        ("user:1", "image.uploaded", str(row.id)),
        ("apikey:4", "image.uploaded", str(row.id)),
    ]
    assert [e.changes["new"] for e in entries] == [True, False]
    assert entries[1].changes["filename"] == "x.png"


def test_a_name_with_another_extension_or_no_such_digest_finds_nothing(db: Session) -> None:
    prepared = images.prepare(png(), width=100)
    store.save_image(db, prepared=prepared, filename="a.png", actor="user:1")
    db.commit()
    for name in (
        f"{prepared.digest}.jpg",
        f"{prepared.digest}",
        f"{prepared.digest.upper()}.png",
        f"{'0' * 64}.png",
        "../etc/passwd",
        f"{prepared.digest}.png.png",
    ):
        assert store.served_image(db, name, with_data=True) is None, name
    assert store.served_image(db, f"{prepared.digest}.png", with_data=True) is not None


def test_the_listing_is_newest_first_in_pages(db: Session) -> None:
    uploads = [images.prepare(png((100 + n, 50)), width=300) for n in range(3)] + [
        images.prepare(animation("GIF", (64, 32)), width=16)
    ]
    ids = [
        store.save_image(db, prepared=p, filename=f"{n}", actor="user:1").image.id
        for n, p in enumerate(uploads)
    ]
    db.commit()
    first = store.images_page(db, limit=3)
    assert [i.id for i in first] == ids[::-1][:3]
    assert first[0].frames == 4
    rest = store.images_page(db, before=first[-1].id, limit=3)
    assert [i.id for i in rest] == [ids[0]]


def test_two_uploads_of_the_same_bytes_at_once_make_one_row(
    database_urls: dict[str, str],
) -> None:
    """On PostgreSQL (many web processes): the second insert waits on the unique index
    while the first is uncommitted, then finds the first's row instead of failing."""
    url = database_urls["postgresql"]
    prepared = images.prepare(png((300, 100)), width=100)
    answers: list[store.Stored] = []
    try:
        with session_scope(url) as first:
            made = store.save_image(first, prepared=prepared, filename="a.png", actor="user:1")

            def second_upload() -> None:
                with session_scope(url) as second:
                    answers.append(
                        store.save_image(
                            second, prepared=prepared, filename="b.png", actor="user:2"
                        )
                    )

            racer = threading.Thread(target=second_upload)
            racer.start()
            _wait_until_blocked(url)
        racer.join()
        assert len(answers) == 1
        assert not answers[0].created
        assert answers[0].image.id == made.image.id
        with session_scope(url) as db:
            assert db.scalar(select(func.count()).select_from(EmailImage)) == 1
            assert db.scalars(select(AuditEntry.actor).order_by(AuditEntry.id)).all() == [
                "user:1",
                "user:2",
            ]
    finally:
        _empty_tables(url)


def _wait_until_blocked(url: str) -> None:
    """Until another connection waits for a lock (the second insert on the unique key)."""
    with session_scope(url) as watcher:
        while not watcher.scalar(text("SELECT count(*) FROM pg_locks WHERE NOT granted")):
            watcher.rollback()
            time.sleep(0.01)
