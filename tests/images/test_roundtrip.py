"""Upload through the editor's endpoint, then fetch the public address as a mail client
would: on both databases, the bytes that come back are the stored ones."""

from __future__ import annotations

import hashlib

from litestar.testing import TestClient
from sqlalchemy.orm import Session

from nurture.config import Settings
from nurture.web.app import create_app
from tests.factories import make_user
from tests.images.samples import jpeg_turned, opened
from tests.images.web_helpers import BASE_URL, ui_upload, with_base_url
from tests.ui.helpers import login


def test_an_uploaded_image_is_served_publicly_from_its_absolute_address(
    db: Session, settings: Settings
) -> None:
    user = make_user(db, role="marketer")
    db.commit()
    # Other bytes on each database: the process keeps images it served in memory by
    # their name, and this test is about the bytes coming back from the database.
    block = 200 if settings.database_url.startswith("sqlite") else 150
    with TestClient(create_app(with_base_url(settings)), base_url=BASE_URL) as client:
        login(client, user)
        answer = ui_upload(client, jpeg_turned((1600, 800)), width=block, name="IMG_0001.JPG")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert set(body) == {"id", "url", "width", "height"}
        assert (body["width"], body["height"]) == (2 * block, 4 * block)
        assert body["url"].startswith(f"{BASE_URL}/img/")
        assert body["url"].endswith(".jpg")
        client.cookies.clear()
        served = client.get(body["url"].removeprefix(BASE_URL))
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    image = opened(served.content)
    assert (image.format, image.size) == ("JPEG", (2 * block, 4 * block))
    assert served.headers["etag"] == f'"{hashlib.sha256(served.content).hexdigest()}"'
