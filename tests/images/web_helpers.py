"""Uploading through the UI (a signed-in browser's script) and the API (a key)."""

from __future__ import annotations

import dataclasses
from typing import Any

from httpx import Response

from nurture.config import Settings
from tests.ui.helpers import Client, csrf_token

BASE_URL = "https://mail.example.com"


def with_base_url(settings: Settings) -> Settings:
    return dataclasses.replace(settings, base_url=BASE_URL)


def ui_upload(
    client: Client, data: bytes | None, width: object = 300, *, name: str = "photo.png"
) -> Response:
    """As the block editor's script posts: multipart, the token in `x-csrftoken`."""
    files = {} if data is None else {"file": (name, data, "image/png")}
    form: dict[str, Any] = {} if width is None else {"width": str(width)}
    return client.post(
        "/content/images",
        files=files,
        data=form,
        headers={"x-csrftoken": csrf_token(client), "accept": "application/json"},
    )


def api_upload(client: Client, key: str, data: bytes, width: object = 300) -> Response:
    return client.post(
        "/api/v1/images",
        files={"file": ("upload.bin", data, "application/octet-stream")},
        data={"width": str(width)},
        headers={"Authorization": f"Bearer {key}"},
    )


def problems(response: Response) -> dict[str, str]:
    return {p["field"]: p["message"] for p in response.json()["error"]["problems"]}
