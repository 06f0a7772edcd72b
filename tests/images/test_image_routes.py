"""The upload endpoints and the public address: answers, headers and refusals. What a
handler answers is the same on either database, so these run on SQLite alone (the
storage round trip runs on both in test_roundtrip and test_storage), with one app and
one sign-in for the module."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from httpx import Cookies
from litestar.testing import TestClient
from sqlalchemy import delete

from campaigns.email.images import Served
from nurture.config import Settings
from nurture.db import session_scope
from nurture.models import EmailImage
from nurture.web.app import create_app
from nurture.web.auth import api_key_cache
from nurture.web.public import images as public_images
from templates import images
from tests.conftest import _empty_tables
from tests.factories import make_api_key, make_user
from tests.images.samples import animation, oversize, png, real_bomb, renamed_text
from tests.images.web_helpers import BASE_URL, api_upload, problems, ui_upload
from tests.ui.helpers import Client, login


@pytest.fixture(scope="module")
def world(
    database_urls: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Client, str]]:
    """One app, a signed-in marketer's client and an API key for the module (an app start
    and a sign-in cost seconds); images stay between tests, which expect nothing of the
    others' (the same bytes are one image)."""
    url = database_urls["sqlite"]
    with session_scope(url) as db:
        user = make_user(db, role="marketer")
        _, secret = make_api_key(db, role="marketer")
        db.commit()
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("images"),
        database_url=url,
        secret_key="test-secret-" + "x" * 40,
        base_url=BASE_URL,
        embedded_worker_threads=2,
        tick_seconds=3600.0,
    )
    with TestClient(create_app(settings), base_url=BASE_URL) as client:
        login(client, user)
        yield client, secret
    _empty_tables(url)
    api_key_cache.clear()


@pytest.fixture
def marketer(world: tuple[Client, str]) -> Client:
    return world[0]


@pytest.fixture
def client(world: tuple[Client, str]) -> Client:
    return world[0]


@pytest.fixture
def key(world: tuple[Client, str]) -> str:
    return world[1]


@contextmanager
def anonymous(client: Client) -> Iterator[Client]:
    """The client without its cookies, as a mail client fetches an image."""
    kept = client.cookies
    client.cookies = Cookies()
    try:
        yield client
    finally:
        client.cookies = kept


def public_path(url: str) -> str:
    assert url.startswith(f"{BASE_URL}/img/")
    return url.removeprefix(BASE_URL)


def test_the_public_address_is_cached_for_a_year_with_a_strong_etag(marketer: Client) -> None:
    data = png((900, 300))
    path = public_path(ui_upload(marketer, data, width=150).json()["url"])
    with anonymous(marketer) as nobody:
        served = nobody.get(path)
    assert served.status_code == 200
    digest = hashlib.sha256(served.content).hexdigest()
    assert path == f"/img/{digest}.png"
    assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert served.headers["etag"] == f'"{digest}"'
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "set-cookie" not in served.headers


@pytest.mark.parametrize(
    "if_none_match",
    ['"{d}"', 'W/"{d}"', '"other", "{d}"', "*"],
    ids=["same", "weak", "list", "any"],
)
def test_a_client_holding_the_image_gets_304_without_the_bytes(
    marketer: Client, if_none_match: str
) -> None:
    path = public_path(ui_upload(marketer, png(), width=100).json()["url"])
    digest = path.removeprefix("/img/").removesuffix(".png")
    with anonymous(marketer) as nobody:
        answer = nobody.get(path, headers={"if-none-match": if_none_match.format(d=digest)})
    assert answer.status_code == 304
    assert answer.content == b""
    assert answer.headers["etag"] == f'"{digest}"'
    assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_another_etag_gets_the_image(marketer: Client) -> None:
    path = public_path(ui_upload(marketer, png(), width=100).json()["url"])
    answer = marketer.get(path, headers={"if-none-match": '"0000"'})
    assert answer.status_code == 200
    assert answer.content


@pytest.mark.parametrize("name", ["0" * 64 + ".png", "not-an-image.png", "x", "0" * 64 + ".svg"])
def test_an_unknown_image_is_404(client: Client, name: str) -> None:
    with anonymous(client) as nobody:
        answer = nobody.get(f"/img/{name}")
    assert answer.status_code == 404
    assert "set-cookie" not in answer.headers


def test_a_stored_image_under_another_extension_is_404(marketer: Client) -> None:
    path = public_path(ui_upload(marketer, png(), width=100).json()["url"])
    assert marketer.get(path.replace(".png", ".gif")).status_code == 404


def test_the_same_upload_twice_answers_the_same_image(marketer: Client) -> None:
    first = ui_upload(marketer, png(), width=300).json()
    again = ui_upload(marketer, png(), width=300, name="copy.png").json()
    assert again == first


def test_an_animated_gif_keeps_its_frames_through_the_upload(marketer: Client) -> None:
    body = ui_upload(marketer, animation("GIF", (800, 400)), width=100, name="a.gif").json()
    assert (body["width"], body["height"]) == (200, 100)
    assert body["url"].endswith(".gif")


@pytest.mark.parametrize(
    ("data", "width", "field", "words"),
    [
        (renamed_text(), 300, "file", "not a PNG, JPEG, GIF or WebP image"),
        (real_bomb(), 300, "file", "too many pixels"),
        (png(), 601, "width", "from 16 to 600"),
        (png(), "wide", "width", "from 16 to 600"),
        (png(), None, "width", "from 16 to 600"),
    ],
    ids=["text-file", "bomb", "too-wide", "not-a-number", "no-width"],
)
def test_a_refused_upload_answers_422_json_naming_the_field(
    marketer: Client, data: bytes, width: object, field: str, words: str
) -> None:
    answer = ui_upload(marketer, data, width=width)
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/json")
    found = problems(answer)
    assert list(found) == [field]
    assert words in found[field]


def test_a_post_without_file_nor_width_names_both(marketer: Client) -> None:
    answer = marketer.post(
        "/content/images",
        files={"other": ("x.txt", b"x", "text/plain")},
        headers={"x-csrftoken": marketer.cookies["nurture_csrf"], "accept": "text/html"},
    )
    assert answer.status_code == 422
    assert set(problems(answer)) == {"file", "width"}


def test_an_image_just_over_the_limit_is_refused_by_name_and_far_over_by_413(
    marketer: Client,
) -> None:
    answer = ui_upload(marketer, oversize())
    assert answer.status_code == 422
    assert "10.0 MB" in problems(answer)["file"]
    far = ui_upload(marketer, b"\0" * (images.MAX_BYTES + 200 * 1024))
    assert far.status_code == 413


def test_the_upload_needs_the_csrf_token(marketer: Client) -> None:
    answer = marketer.post(
        "/content/images",
        files={"file": ("a.png", png(), "image/png")},
        data={"width": "300"},
        headers={"accept": "application/json"},
    )
    assert answer.status_code == 403


def test_the_api_answers_201_then_200_for_the_same_bytes(client: Client, key: str) -> None:
    first = api_upload(client, key, png((1000, 500)), width=250)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["url"].startswith(f"{BASE_URL}/img/")
    assert (body["media_type"], body["width"], body["height"], body["frames"]) == (
        "image/png",
        500,
        250,
        1,
    )
    assert body["uploaded_by"].startswith("apikey:")
    assert body["filename"] == "upload.bin"
    again = api_upload(client, key, png((1000, 500)), width=250)
    assert again.status_code == 200
    assert again.json()["id"] == body["id"]


def test_the_api_refuses_by_field(client: Client, key: str) -> None:
    answer = api_upload(client, key, renamed_text(), width=20)
    assert answer.status_code == 422
    assert list(problems(answer)) == ["file"]
    answer = api_upload(client, key, png(), width=2000)
    assert list(problems(answer)) == ["width"]
    answer = client.post(
        "/api/v1/images",
        json={"file": "x", "width": 20},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert answer.status_code in (400, 415, 422), answer.text


def test_the_api_lists_images_newest_first_in_pages(client: Client, key: str) -> None:
    ids = [api_upload(client, key, png((140 + n, 40)), width=300).json()["id"] for n in range(3)]
    auth = {"Authorization": f"Bearer {key}"}
    page = client.get("/api/v1/images", params={"limit": 2}, headers=auth).json()
    assert [i["id"] for i in page["items"]] == ids[::-1][:2]
    assert page["next_cursor"] == str(ids[1])
    rest = client.get(
        "/api/v1/images", params={"limit": 100, "cursor": page["next_cursor"]}, headers=auth
    ).json()
    listed = [i["id"] for i in rest["items"]]
    assert listed[0] == ids[0]
    assert listed == sorted(listed, reverse=True)
    assert rest["next_cursor"] is None
    bad = client.get("/api/v1/images", params={"cursor": "abc"}, headers=auth)
    assert bad.status_code == 422
    assert list(problems(bad)) == ["cursor"]


def test_an_image_served_once_is_served_again_from_memory(marketer: Client) -> None:
    """Immutable by its name, so each process keeps what it served: a mailing opened by
    thousands asks the database once. Shown by removing the row after the first read."""
    path = public_path(ui_upload(marketer, png((500, 100)), width=100).json()["url"])
    with anonymous(marketer) as nobody:
        first = nobody.get(path)
        with session_scope(marketer.app.state.settings.database_url) as db:
            db.execute(delete(EmailImage))
        again = nobody.get(path)
        digest = path.removeprefix("/img/").removesuffix(".png")
        held = nobody.get(path, headers={"if-none-match": f'"{digest}"'})
    assert (first.status_code, again.status_code, held.status_code) == (200, 200, 304)
    assert again.content == first.content
    assert again.headers["etag"] == first.headers["etag"]


def test_the_memory_of_served_images_keeps_the_latest_within_its_byte_limit() -> None:
    recent = public_images._Recent(limit=25)
    for name in "abc":
        recent.put(name, Served("image/png", name * 64, b"x" * 10))
    assert recent.get("a") is None
    assert recent.get("b") is not None  # now the latest used
    recent.put("d", Served("image/png", "d" * 64, b"x" * 10))
    assert recent.get("c") is None
    assert [n for n in "bd" if recent.get(n) is not None] == ["b", "d"]
