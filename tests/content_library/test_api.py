"""The content library API: CRUD for each kind, errors naming fields, and who may write."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

Client = TestClient[Litestar]
Headers = dict[str, str]
Make = Callable[[str], Headers]

BODIES: dict[str, dict[str, Any]] = {
    "services": {"slug": "cloud-migration", "name": "Cloud migration"},
    "case-studies": {
        "title": "Ledger moves to the cloud",
        "industry": "Fintech",
        "problem": "An ageing data centre",
        "result_metrics": [{"label": "Hosting cost", "value": "-38%"}],
        "testimonial_quote": "It just worked.",
        "topics": ["cloud"],
    },
    "webinars": {
        "title": "Cloud costs, explained",
        "topic": "cloud",
        "starts_at": "2030-01-15T10:00:00+01:00",
        "capacity": 100,
        "industries": ["fintech", "retail"],
    },
    "articles": {"slug": "finops-101", "title": "FinOps 101", "topic": "cloud"},
}
CHANGES = {
    "services": ("name", "Cloud move"),
    "case-studies": ("industry", "retail"),
    "webinars": ("capacity", 40),
    "articles": ("title", "FinOps, the basics"),
}


@pytest.mark.parametrize("path", sorted(BODIES))
def test_each_kind_is_created_read_listed_changed_and_deleted(
    client: Client, headers_for: Make, path: str
) -> None:
    headers = headers_for("marketer")
    created = client.post(f"/api/v1/{path}", json=BODIES[path], headers=headers)
    assert created.status_code == 201, created.text
    url = f"/api/v1/{path}/{created.json()['id']}"
    assert client.get(url, headers=headers).json() == created.json()
    listed = client.get(f"/api/v1/{path}", headers=headers).json()
    assert [i["id"] for i in listed["items"]] == [created.json()["id"]]
    field, value = CHANGES[path]
    changed = client.patch(url, json={field: value}, headers=headers)
    assert changed.status_code == 200, changed.text
    assert changed.json()[field] == value
    assert client.delete(url, headers=headers).status_code == 204
    assert client.get(url, headers=headers).status_code == 404


def test_a_webinar_time_is_kept_in_utc(client: Client, headers_for: Make) -> None:
    answer = client.post("/api/v1/webinars", json=BODIES["webinars"], headers=headers_for("admin"))
    assert answer.json()["starts_at"].startswith("2030-01-15T09:00:00")


def test_bad_fields_answer_422_naming_each(client: Client, headers_for: Make) -> None:
    metric = {"label": "", "value": "-38%"}
    body = {"title": "x", "industry": "legal", "problem": "p", "result_metrics": [metric]}
    answer = client.post("/api/v1/case-studies", json=body, headers=headers_for("marketer"))
    assert answer.status_code == 422
    assert answer.json()["error"]["problems"] == [
        {
            "field": "result_metrics",
            "index": 0,
            "message": "needs a label and a value (text, 1-200 characters)",
        }
    ]


def test_a_taken_slug_answers_409(client: Client, headers_for: Make) -> None:
    headers = headers_for("marketer")
    client.post("/api/v1/services", json=BODIES["services"], headers=headers)
    again = client.post("/api/v1/services", json=BODIES["services"], headers=headers)
    assert again.status_code == 409
    assert "slug cloud-migration" in again.text


def test_sales_keys_read_but_do_not_write(client: Client, headers_for: Make) -> None:
    client.post("/api/v1/articles", json=BODIES["articles"], headers=headers_for("marketer"))
    sales = headers_for("sales")
    assert client.get("/api/v1/articles", headers=sales).status_code == 200
    refused = client.post("/api/v1/services", json=BODIES["services"], headers=sales)
    assert refused.status_code == 403
    assert client.delete("/api/v1/articles/1", headers=sales).status_code == 403


def test_pages_follow_the_cursor_to_the_end(client: Client, headers_for: Make) -> None:
    headers = headers_for("marketer")
    for n in range(5):
        client.post("/api/v1/services", json={"slug": f"s{n}", "name": f"S{n}"}, headers=headers)
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get("/api/v1/services", params=params, headers=headers).json()
        seen += [s["slug"] for s in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["s0", "s1", "s2", "s3", "s4"]
    bad = client.get("/api/v1/services", params={"cursor": "abc"}, headers=headers)
    assert bad.status_code == 422


def test_every_library_endpoint_is_documented_with_its_errors(client: Client) -> None:
    paths = client.get("/schema/openapi.json").json()["paths"]
    for path in BODIES:
        collection = paths[f"/api/v1/{path}"]
        item = paths[f"/api/v1/{path}/{{item_id}}"]
        assert set(collection) >= {"get", "post"}
        assert set(item) >= {"get", "patch", "delete"}
        for operation in [collection["get"], collection["post"], *item.values()]:
            assert operation["summary"]
            assert {"400", "401", "403"} <= set(operation["responses"])
        assert "409" in collection["post"]["responses"]
        assert "requestBody" in collection["post"]


def test_a_body_of_the_wrong_shape_answers_422_naming_the_field_by_its_path(
    client: Client, headers_for: Make
) -> None:
    headers = headers_for("marketer")
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("case-studies", {**BODIES["case-studies"], "topics": ["cloud", 5]}, "topics[1]"),
        (
            "case-studies",
            {**BODIES["case-studies"], "result_metrics": [{"label": "x"}]},
            "result_metrics[0].value",
        ),
        ("webinars", {**BODIES["webinars"], "capacity": "many"}, "capacity"),
        ("services", {"slug": "s", "name": "S", "owner": "me"}, "owner"),
        ("articles", {"slug": "a", "title": "A"}, "topic"),
    ]
    for path, body, field in cases:
        answer = client.post(f"/api/v1/{path}", json=body, headers=headers)
        assert answer.status_code == 422, (path, answer.text)
        assert [p["field"] for p in answer.json()["error"]["problems"]] == [field], answer.text


def test_a_change_keeps_what_it_leaves_out_and_clears_what_it_nulls(
    client: Client, headers_for: Make
) -> None:
    headers = headers_for("marketer")
    created = client.post("/api/v1/webinars", json=BODIES["webinars"], headers=headers).json()
    url = f"/api/v1/webinars/{created['id']}"
    changed = client.patch(url, json={"capacity": None}, headers=headers)
    assert changed.status_code == 200, changed.text
    assert changed.json()["capacity"] is None
    assert changed.json()["title"] == BODIES["webinars"]["title"]
    assert changed.json()["industries"] == ["fintech", "retail"]
    refused = client.patch(url, json={"title": None}, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["error"]["problems"][0]["field"] == "title"
    unknown = client.patch(url, json={"seats": 3}, headers=headers)
    assert [p["field"] for p in unknown.json()["error"]["problems"]] == ["seats"]
