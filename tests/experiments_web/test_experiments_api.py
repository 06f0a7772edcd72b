"""Experiments over the API: create a draft on a mail step, bad input named by field, start,
list by sequence, the definition with the same results document the page draws, and a
winner declared only when the data support it."""

from __future__ import annotations

import re
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.models import AuditEntry, Experiment
from tests.api.conftest import Headers
from tests.experiments_web.helpers import build_sequence, running_with_data
from tests.factories import make_user
from tests.ui.helpers import HTML, login

Client = TestClient[Litestar]


def _body(sequence_id: int, **extra: Any) -> dict[str, Any]:
    return {
        "name": "Case study subject",
        "kind": "step",
        "sequence_id": sequence_id,
        "step_key": "intro",
        "metric": "clicks",
        "baseline_rate": 0.04,
        "variants": [
            {"key": "a", "name": "Control"},
            {"key": "b", "name": "Question", "content": {"subject": "Ready for DORA?"}},
        ],
        **extra,
    }


def _fields(answer: Any) -> dict[str, str]:
    return {p["field"]: p["message"] for p in answer.json()["error"].get("problems", [])}


def test_a_draft_is_created_started_and_listed(
    client: Client, db: Session, headers: Headers
) -> None:
    built = build_sequence(db)
    created = client.post("/api/v1/experiments", json=_body(built.sequence_id), headers=headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "draft"
    assert [v["key"] for v in body["variants"]] == ["a", "b"]
    assert [v["weight"] for v in body["variants"]] == [0.5, 0.5]
    assert body["variants"][1]["content"] == {"subject": "Ready for DORA?"}
    assert body["results"] is None
    experiment_id = body["id"]

    started = client.post(f"/api/v1/experiments/{experiment_id}/start", headers=headers)
    assert started.status_code == 200, started.text
    assert started.json()["status"] == "running"
    # A 4 % baseline and a 20 % lift need thousands of sends per variant.
    assert started.json()["planned_per_variant"] > 5000

    listed = client.get(
        "/api/v1/experiments", params={"sequence_id": built.sequence_id}, headers=headers
    )
    assert listed.status_code == 200
    assert [(e["id"], e["status"]) for e in listed.json()["items"]] == [(experiment_id, "running")]
    other = client.get("/api/v1/experiments", params={"sequence_id": 999_999}, headers=headers)
    assert other.json()["items"] == []
    db.expire_all()
    actions = db.scalars(
        select(AuditEntry.action).where(AuditEntry.entity_id == str(experiment_id))
    ).all()
    assert {"experiment.created", "experiment.started"} <= set(actions)


def test_bad_input_is_refused_naming_each_field(
    client: Client, db: Session, headers: Headers
) -> None:
    built = build_sequence(db)
    uneven = _body(
        built.sequence_id,
        variants=[
            {"key": "a", "weight": 0.7},
            {"key": "b", "weight": 0.7, "content": {"subject": "Two"}},
        ],
    )
    answer = client.post("/api/v1/experiments", json=uneven, headers=headers)
    assert answer.status_code == 422
    assert "add up to 1.4" in _fields(answer)["variants"]

    empty = _body(built.sequence_id, variants=[{"key": "a"}, {"key": "b"}])
    answer = client.post("/api/v1/experiments", json=empty, headers=headers)
    assert answer.status_code == 422
    assert "must change something" in _fields(answer)["variants[1].content"]

    unknown = _body(
        built.sequence_id,
        variants=[{"key": "a"}, {"key": "b", "content": {"template_id": 999_999}}],
    )
    answer = client.post("/api/v1/experiments", json=unknown, headers=headers)
    assert answer.status_code == 422
    assert _fields(answer) == {"variants[1].content.template_id": "no template with id 999999"}

    conversion = _body(built.sequence_id, metric="conversion")
    answer = client.post("/api/v1/experiments", json=conversion, headers=headers)
    assert "conversion_event" in _fields(answer)

    for shape, field in (({"window_days": 0}, "window_days"), ({"colour": "red"}, "colour")):
        answer = client.post(
            "/api/v1/experiments", json=_body(built.sequence_id, **shape), headers=headers
        )
        assert answer.status_code == 422
        assert list(_fields(answer)) == [field]

    nowhere = _body(built.sequence_id, step_key="pause")
    answer = client.post("/api/v1/experiments", json=nowhere, headers=headers)
    assert answer.status_code == 422
    assert "not a mail step" in _fields(answer)["step_key"]
    db.expire_all()
    assert db.scalars(select(Experiment)).all() == []


def test_a_running_test_keeps_its_plan_and_names_the_field(
    client: Client, db: Session, headers: Headers
) -> None:
    built = build_sequence(db)
    experiment_id = client.post(
        "/api/v1/experiments", json=_body(built.sequence_id), headers=headers
    ).json()["id"]
    renamed = client.patch(
        f"/api/v1/experiments/{experiment_id}", json={"min_effect": 0.3}, headers=headers
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["min_effect"] == 0.3
    client.post(f"/api/v1/experiments/{experiment_id}/start", headers=headers)
    refused = client.patch(
        f"/api/v1/experiments/{experiment_id}", json={"metric": "opens"}, headers=headers
    )
    assert refused.status_code == 422
    assert _fields(refused) == {"metric": "cannot change once the experiment is running"}
    again = client.post(f"/api/v1/experiments/{experiment_id}/start", headers=headers)
    assert again.status_code == 409


def test_declaring_without_support_is_refused_with_the_reason(
    client: Client, db: Session, headers: Headers
) -> None:
    built = build_sequence(db)
    experiment_id = running_with_data(db, built, control=(40, 4), variant=(40, 5))
    answer = client.post(
        f"/api/v1/experiments/{experiment_id}/declare",
        json={"variant_key": "b"},
        headers=headers,
    )
    assert answer.status_code == 409
    message = answer.json()["error"]["message"]
    assert "'b' cannot be declared the winner" in message
    assert "more sends per variant" in message
    unknown = client.post(
        f"/api/v1/experiments/{experiment_id}/declare",
        json={"variant_key": "z"},
        headers=headers,
    )
    assert unknown.status_code == 422
    assert "variant_key" in _fields(unknown)
    db.expire_all()
    assert db.get(Experiment, experiment_id).status == "running"  # type: ignore[union-attr]


def test_a_supported_winner_is_declared(client: Client, db: Session, headers: Headers) -> None:
    built = build_sequence(db)
    experiment_id = running_with_data(db, built, control=(900, 90), variant=(900, 180))
    control = client.post(
        f"/api/v1/experiments/{experiment_id}/declare",
        json={"variant_key": "a"},
        headers=headers,
    )
    assert control.status_code == 409  # the data support b, not the control
    answer = client.post(
        f"/api/v1/experiments/{experiment_id}/declare",
        json={"variant_key": "b", "reason": "Clear lift on clicks"},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["status"], body["winner_variant"]) == ("decided", "b")
    assert body["decision_reason"] == "Clear lift on clicks"
    assert body["results"]["decision"]["state"] == "decided"


def test_the_api_and_the_page_show_the_same_numbers(
    client: Client, db: Session, headers: Headers
) -> None:
    built = build_sequence(db)
    experiment_id = running_with_data(db, built, control=(900, 90), variant=(900, 180))
    api = client.get(f"/api/v1/experiments/{experiment_id}", headers=headers).json()
    arms = api["results"]["arms"]
    assert [(a["key"], a["trials"], a["successes"]) for a in arms] == [
        ("a", 900, 90),
        ("b", 900, 180),
    ]
    assert api["results"]["decision"]["can_declare"] is True
    reader = make_user(db, role="sales")
    db.commit()
    login(client, reader)
    page = client.get(f"/experiments/{experiment_id}", headers=HTML).text
    for arm in arms:
        row = re.search(rf'<tr data-arm="{arm["key"]}".*?</tr>', page, re.S)
        assert row is not None
        cells = row.group(0)
        assert f"{arm['rate'] * 100:.1f} %" in cells
        assert f"{arm['low'] * 100:.1f} % … {arm['high'] * 100:.1f} %" in cells
        assert f">{arm['trials']}<" in cells
