"""Sequences over the API: create, edit by version, control, enrol (ids, e-mails, CSV), pages,
per-enrolment control and version mapping; roles, audit and /schema."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.delivery.factory import transport_for
from campaigns.email.mailconfig import MailConfig
from campaigns.sequences.engine import Mailer
from nurture.config import Settings
from nurture.contacts import suppress
from nurture.models import AuditEntry, SuppressionReason, utcnow
from tests.api.conftest import Headers
from tests.email.conftest import make_template
from tests.factories import make_contact
from tests.sequences.helpers import captured_count, drive, outcomes

Client = TestClient[Litestar]


def steps(template_id: int) -> list[dict[str, Any]]:
    return [
        {"key": "intro", "type": "email", "template_id": template_id},
        {"key": "pause", "type": "wait", "duration": {"days": 4}},
        {"key": "call", "type": "task", "kind": "call"},
    ]


def create(client: Client, headers: Headers, definition: dict[str, Any]) -> dict[str, Any]:
    answer = client.post(
        "/api/v1/sequences",
        json={"name": "Legal — compliance nurture", "definition": definition},
        headers=headers,
    )
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def active(client: Client, headers: Headers, definition: dict[str, Any]) -> int:
    sequence_id = int(create(client, headers, definition)["id"])
    answer = client.post(f"/api/v1/sequences/{sequence_id}/activate", headers=headers)
    assert answer.status_code == 200, answer.text
    return sequence_id


def test_a_marketer_builds_activates_and_enrols_and_the_steps_run(
    client: Client, db: Session, headers: Headers, settings: Settings
) -> None:
    template_id = make_template(db)
    ada = make_contact(db)
    customer = make_contact(db, lifecycle_stage="customer")
    db.commit()

    created = create(client, headers, {"steps": steps(template_id)})
    assert created["status"] == "draft"
    assert [v["number"] for v in created["versions"]] == [1]
    assert created["definition"]["steps"][0]["key"] == "intro"
    sequence_id = created["id"]
    started = client.post(f"/api/v1/sequences/{sequence_id}/activate", headers=headers)
    enrolled = client.post(
        f"/api/v1/sequences/{sequence_id}/enrolments",
        json={"contact_ids": [customer.id, 10**12], "emails": [ada.email, "nobody@example.com"]},
        headers=headers,
    )

    assert started.json()["status"] == "active"
    assert enrolled.status_code == 200, enrolled.text
    assert enrolled.json()["enrolled"] == [ada.id]
    assert {(s["reason"], s["contact_id"], s["email"]) for s in enrolled.json()["skipped"]} == {
        ("customer", customer.id, None),
        ("missing", 10**12, None),
        ("unknown_email", None, "nobody@example.com"),
    }
    listed = client.get("/api/v1/sequences", headers=headers).json()["items"]
    assert [(s["id"], s["status"], s["enrolments"]["active"]) for s in listed] == [
        (sequence_id, "active", 1)
    ]
    page = client.get(f"/api/v1/sequences/{sequence_id}/enrolments", headers=headers).json()
    enrolment_id = page["items"][0]["id"]
    mailer = Mailer(transport_for(settings), MailConfig.from_settings(settings))
    drive(db, enrolment_id, utcnow(), mailer)
    assert outcomes(db, enrolment_id) == {"intro": "sent", "pause": None}
    assert captured_count(db) == 1


def test_a_draft_with_problems_is_saved_and_lists_them_by_step_path(
    client: Client, db: Session, headers: Headers
) -> None:
    template_id = make_template(db)
    db.commit()
    bad = [*steps(template_id), {"key": "guide", "type": "email", "template_id": 999999}]

    missing = client.post(
        "/api/v1/sequences", json={"name": "x", "definition": {"steps": bad}}, headers=headers
    )
    shape = client.post(
        "/api/v1/sequences",
        json={
            "name": "y",
            "definition": {"steps": [{"key": "a", "type": "email"}], "triggers": [{"evt": 1}]},
        },
        headers=headers,
    )

    assert missing.status_code == 201, missing.text
    assert missing.json()["status"] == "draft"
    assert missing.json()["valid"] is False
    assert missing.json()["problems"] == [
        {"field": "steps[3].template_id", "message": "no such template (999999)"}
    ]
    assert missing.json()["definition"] == {"steps": bad}
    assert shape.status_code == 201, shape.text
    assert {p["field"] for p in shape.json()["problems"]} == {
        "steps[0].template_id",
        "triggers[0].evt",
        "triggers[0].event",
    }
    read = client.get(f"/api/v1/sequences/{shape.json()['id']}", headers=headers).json()
    assert read["valid"] is False
    assert read["problems"] == shape.json()["problems"]
    actions = db.scalars(
        select(AuditEntry.action).where(AuditEntry.entity_type == "sequence")
    ).all()
    assert actions == ["sequence.created", "sequence.created"]


def test_a_definition_no_draft_may_hold_is_refused_and_nothing_is_stored(
    client: Client, db: Session, headers: Headers
) -> None:
    def post(body: object, **extra: object) -> Any:
        return client.post(
            "/api/v1/sequences", json={"name": "x", "definition": body, **extra}, headers=headers
        )

    not_object = post([{"key": "a", "type": "goal"}])
    no_steps = post({"goals": []})
    steps_text = post({"steps": "intro"})
    bad_arm = post({"steps": [{"key": "b", "type": "branch", "then": "call", "else": []}]})
    unknown_type = post({"steps": [{"key": "a", "type": "sms"}, 7]})
    too_many = post({"steps": [{"key": f"s{i}", "type": "goal"} for i in range(201)]})
    too_large = post({"steps": [{"key": "t", "type": "task", "instructions": "x" * 2_000_001}]})
    unknown_field = post({"steps": []}, colour="red")
    malformed = client.post(
        "/api/v1/sequences",
        content=b"{not json",
        headers={**headers, "Content-Type": "application/json"},
    )

    def fields(answer: Any) -> list[str]:
        assert answer.status_code == 422, answer.text
        return [p["field"] for p in answer.json()["error"]["problems"]]

    assert fields(not_object) == ["definition"]
    assert fields(no_steps) == ["steps"]
    assert fields(steps_text) == ["steps"]
    assert fields(bad_arm) == ["steps[0].then"]
    assert fields(unknown_type) == ["steps[0].type", "steps[1]"]
    assert fields(too_many) == ["steps[200]"]
    assert fields(too_large) == ["definition"]
    assert fields(unknown_field) == ["colour"]
    assert malformed.status_code == 400
    assert client.get("/api/v1/sequences", headers=headers).json()["items"] == []
    assert (
        db.scalars(select(AuditEntry.action).where(AuditEntry.entity_type == "sequence")).all()
        == []
    )


def test_activation_refuses_a_draft_with_problems_until_they_are_fixed(
    client: Client, db: Session, headers: Headers
) -> None:
    template_id = make_template(db)
    db.commit()
    half_done: dict[str, list[dict[str, Any]]] = {
        "steps": [
            {"key": "intro", "type": "email"},
            {
                "key": "check",
                "type": "branch",
                "condition": {"event": "email.clicked"},
                "then": [{"key": "won", "type": "goal"}],
                "else": [],
            },
        ]
    }
    sequence_id = create(client, headers, half_done)["id"]
    url = f"/api/v1/sequences/{sequence_id}"

    refused = client.post(f"{url}/activate", headers=headers)
    status_after_refusal = client.get(url, headers=headers).json()["status"]
    fixed = {
        "steps": [
            {"key": "intro", "type": "email", "template_id": template_id},
            {**half_done["steps"][1], "else": [{"key": "bye", "type": "exit"}]},
        ]
    }
    edited = client.put(f"{url}/definition", json={"definition": fixed}, headers=headers)
    started = client.post(f"{url}/activate", headers=headers)

    assert refused.status_code == 422
    assert {p["field"] for p in refused.json()["error"]["problems"]} == {
        "steps[0].template_id",
        "steps[1].else",
    }
    assert status_after_refusal == "draft"
    assert edited.status_code == 200, edited.text
    assert edited.json()["valid"] is True
    assert edited.json()["problems"] == []
    assert [v["number"] for v in edited.json()["versions"]] == [1]
    assert started.status_code == 200, started.text
    assert started.json()["status"] == "active"
    actions = db.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.entity_type == "sequence")
        .order_by(AuditEntry.id)
    ).all()
    assert actions == ["sequence.created", "sequence.draft_edited", "sequence.activated"]


def test_a_draft_edit_keeps_problems_but_a_running_sequence_publishes_none(
    client: Client, db: Session, headers: Headers
) -> None:
    template_id = make_template(db)
    db.commit()
    draft_id = create(client, headers, {"steps": steps(template_id)})["id"]
    running_id = active(client, headers, {"steps": steps(template_id)})
    half_done = {"steps": [{"key": "intro", "type": "email"}]}

    draft = client.put(
        f"/api/v1/sequences/{draft_id}/definition", json={"definition": half_done}, headers=headers
    )
    running = client.put(
        f"/api/v1/sequences/{running_id}/definition",
        json={"definition": half_done},
        headers=headers,
    )
    running_after = client.get(f"/api/v1/sequences/{running_id}", headers=headers).json()

    assert draft.status_code == 200, draft.text
    assert draft.json()["definition"] == half_done
    assert draft.json()["valid"] is False
    assert draft.json()["problems"] == [
        {"field": "steps[0].template_id", "message": "must be a template id (a positive integer)"}
    ]
    assert running.status_code == 422
    assert [p["field"] for p in running.json()["error"]["problems"]] == ["steps[0].template_id"]
    assert [v["number"] for v in running_after["versions"]] == [1]
    assert running_after["definition"] == {"steps": steps(template_id)}
    assert running_after["valid"] is True
    actions = db.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.entity_type == "sequence", AuditEntry.entity_id == str(draft_id))
        .order_by(AuditEntry.id)
    ).all()
    assert actions == ["sequence.created", "sequence.draft_edited"]


def test_a_draft_is_edited_in_place_and_an_active_sequence_gets_a_new_version(
    client: Client, db: Session, headers: Headers
) -> None:
    template_id = make_template(db)
    db.commit()
    sequence_id = create(client, headers, {"steps": steps(template_id)})["id"]
    url = f"/api/v1/sequences/{sequence_id}/definition"
    shorter = {"steps": steps(template_id)[:2]}

    draft = client.put(url, json={"definition": shorter}, headers=headers)
    client.post(f"/api/v1/sequences/{sequence_id}/activate", headers=headers)
    published = client.put(url, json={"definition": {"steps": steps(template_id)}}, headers=headers)
    invalid = client.put(url, json={"definition": {"steps": []}}, headers=headers)

    assert draft.status_code == 200, draft.text
    assert [v["number"] for v in draft.json()["versions"]] == [1]
    assert len(draft.json()["definition"]["steps"]) == 2
    assert published.status_code == 200, published.text
    assert [v["number"] for v in published.json()["versions"]] == [2, 1]
    assert published.json()["current_version_id"] == published.json()["versions"][0]["id"]
    assert len(published.json()["definition"]["steps"]) == 3
    assert invalid.status_code == 422
    assert invalid.json()["error"]["problems"][0]["field"] == "steps"
    actions = db.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.entity_type == "sequence")
        .order_by(AuditEntry.id)
    ).all()
    assert actions == [
        "sequence.created",
        "sequence.draft_edited",
        "sequence.activated",
        "sequence.published",
    ]


def test_a_rename_is_audited_once_and_a_bad_name_is_refused(
    client: Client, db: Session, headers: Headers
) -> None:
    template_id = make_template(db)
    db.commit()
    sequence_id = create(client, headers, {"steps": steps(template_id)})["id"]
    url = f"/api/v1/sequences/{sequence_id}"

    renamed = client.patch(url, json={"name": "  Legal — DORA nurture "}, headers=headers)
    same = client.patch(url, json={"name": "Legal — DORA nurture"}, headers=headers)
    blank = client.patch(url, json={"name": "   "}, headers=headers)
    not_text = client.patch(url, json={"name": 7}, headers=headers)
    unknown = client.patch(url, json={"title": "x"}, headers=headers)
    missing = client.patch("/api/v1/sequences/999999", json={"name": "x"}, headers=headers)

    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "Legal — DORA nurture"
    assert same.status_code == 200
    for refused, field in ((blank, "name"), (not_text, "name"), (unknown, "title")):
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["problems"][0]["field"] == field
    assert missing.status_code == 404
    assert client.get(url, headers=headers).json()["name"] == "Legal — DORA nurture"
    renames = db.scalars(
        select(AuditEntry.changes).where(AuditEntry.action == "sequence.renamed")
    ).all()
    assert [entry["name"][1] for entry in renames] == ["Legal — DORA nurture"]


def test_pause_resume_and_stop_move_the_sequence_and_refuse_what_its_state_forbids(
    client: Client, db: Session, headers: Headers
) -> None:
    template_id = make_template(db)
    contacts = [make_contact(db) for _ in range(2)]
    db.commit()
    draft = create(client, headers, {"steps": steps(template_id)})["id"]
    sequence_id = active(client, headers, {"steps": steps(template_id)})
    client.post(
        f"/api/v1/sequences/{sequence_id}/enrolments",
        json={"contact_ids": [c.id for c in contacts]},
        headers=headers,
    )
    base = f"/api/v1/sequences/{sequence_id}"

    draft_enrol = client.post(
        f"/api/v1/sequences/{draft}/enrolments", json={"contact_ids": [1]}, headers=headers
    )
    paused = client.post(f"{base}/pause", headers=headers)
    paused_again = client.post(f"{base}/pause", headers=headers)
    resumed = client.post(f"{base}/resume", headers=headers)
    stopped = client.post(f"{base}/stop", headers=headers)
    resumed_after = client.post(f"{base}/resume", headers=headers)
    missing = client.post("/api/v1/sequences/999999/pause", headers=headers)

    assert draft_enrol.status_code == 409
    assert paused.json()["status"] == "paused"
    assert paused_again.status_code == 409
    assert resumed.json()["status"] == "active"
    assert stopped.status_code == 200
    assert stopped.json()["enrolments_stopped"] == 2
    assert stopped.json()["sequence"]["enrolments"]["exited"] == 2
    assert resumed_after.status_code == 409
    assert missing.status_code == 404


def test_a_csv_upload_enrols_every_good_line_and_reports_the_others_by_line(
    client: Client, db: Session, headers: Headers
) -> None:
    template_id = make_template(db)
    ada, bea, gone = make_contact(db), make_contact(db), make_contact(db)
    assert gone.email is not None
    suppress(db, gone.email, reason=SuppressionReason.UNSUBSCRIBED)
    db.commit()
    sequence_id = active(client, headers, {"steps": steps(template_id)})
    text = (
        "name,Email\n"
        f"Ada,{ada.email}\n"
        "Broken,not-an-address\n"
        "Stranger,stranger@example.com\n"
        f"Ada again,{str(ada.email).upper()}\n"
        "\n"
        f"Gone,{gone.email}\n"
        f"Bea,{bea.email}\n"
    )

    answer = client.post(
        f"/api/v1/sequences/{sequence_id}/enrolments/import",
        content=text.encode(),
        headers={**headers, "Content-Type": "text/csv"},
    )
    no_header = client.post(
        f"/api/v1/sequences/{sequence_id}/enrolments/import",
        content=f"{ada.email}\n".encode(),
        headers={**headers, "Content-Type": "text/csv"},
    )

    assert answer.status_code == 200, answer.text
    assert sorted(answer.json()["enrolled"]) == sorted([ada.id, bea.id])
    assert [(s["line"], s["reason"].split(":")[0]) for s in answer.json()["skipped"]] == [
        (3, "invalid_email"),
        (4, "unknown_email"),
        (5, "duplicate of line 2"),
        (7, "suppressed"),
    ]
    assert no_header.status_code == 422
    assert no_header.json()["error"]["problems"][0]["field"] == "file"


def test_enrolments_are_paged_by_cursor_filtered_by_state_and_controlled_one_by_one(
    client: Client, db: Session, headers: Headers
) -> None:
    template_id = make_template(db)
    people = [make_contact(db) for _ in range(5)]
    db.commit()
    sequence_id = active(client, headers, {"steps": steps(template_id)})
    other_id = active(client, headers, {"steps": steps(template_id)})
    base = f"/api/v1/sequences/{sequence_id}/enrolments"
    client.post(base, json={"contact_ids": [p.id for p in people]}, headers=headers)
    ids = [e["id"] for e in client.get(base, headers=headers).json()["items"]]

    paused = client.post(f"{base}/{ids[0]}/pause", headers=headers)
    stopped = client.post(f"{base}/{ids[1]}/stop", headers=headers)
    resumed_stopped = client.post(f"{base}/{ids[1]}/resume", headers=headers)
    elsewhere = client.post(
        f"/api/v1/sequences/{other_id}/enrolments/{ids[2]}/stop", headers=headers
    )
    first = client.get(base, params={"state": "active", "limit": 2}, headers=headers).json()
    second = client.get(
        base,
        params={"state": "active", "limit": 2, "cursor": first["next_cursor"]},
        headers=headers,
    ).json()
    bad_state = client.get(base, params={"state": "asleep"}, headers=headers)
    bad_cursor = client.get(base, params={"cursor": "abc"}, headers=headers)
    resumed = client.post(f"{base}/{ids[0]}/resume", headers=headers)

    assert paused.json()["state"] == "paused"
    assert stopped.json()["state"] == "exited"
    assert stopped.json()["exit_reason"] == "stopped"
    assert resumed_stopped.status_code == 409
    assert elsewhere.status_code == 404
    assert [e["id"] for e in first["items"]] == ids[2:4]
    assert [e["id"] for e in second["items"]] == ids[4:]
    assert second["next_cursor"] is None
    assert bad_state.status_code == 400
    assert bad_cursor.status_code == 422
    assert resumed.json()["state"] == "active"
    audit = db.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.action.like("enrolment.%"))
        .order_by(AuditEntry.id)
    ).all()
    assert audit == ["enrolment.paused", "enrolment.stopped", "enrolment.resumed"]


def test_mapping_moves_people_onto_the_new_version_and_names_unknown_keys(
    client: Client, db: Session, headers: Headers, settings: Settings
) -> None:
    template_id = make_template(db)
    person = make_contact(db)
    db.commit()
    sequence_id = active(client, headers, {"steps": steps(template_id)})
    base = f"/api/v1/sequences/{sequence_id}"
    client.post(f"{base}/enrolments", json={"contact_ids": [person.id]}, headers=headers)
    v1 = client.get(base, headers=headers).json()["current_version_id"]
    client.put(
        f"{base}/definition",
        json={"definition": {"steps": [{"key": "call", "type": "task", "kind": "call"}]}},
        headers=headers,
    )

    wrong = client.post(
        f"{base}/mappings",
        json={"from_version_id": v1, "step_map": {"intro": "welcome", "nope": "call"}},
        headers=headers,
    )
    mapped = client.post(
        f"{base}/mappings",
        json={"from_version_id": v1, "step_map": {"intro": "call"}},
        headers=headers,
    )

    assert wrong.status_code == 422
    assert [p["field"] for p in wrong.json()["error"]["problems"]] == [
        "step_map.intro",
        "step_map.nope",
    ]
    assert mapped.status_code == 200, mapped.text
    assert mapped.json()["moved"] == {"intro": 1}
    assert mapped.json()["kept"] == {"intro": 0}
    sequence = client.get(base, headers=headers).json()
    assert [(v["number"], v["live"]) for v in sequence["versions"]] == [(2, 1), (1, 0)]
    enrolment = client.get(f"{base}/enrolments", headers=headers).json()["items"][0]
    assert (enrolment["version_id"], enrolment["step_key"]) == (
        mapped.json()["to_version_id"],
        "call",
    )
    mailer = Mailer(transport_for(settings), MailConfig.from_settings(settings))
    drive(db, enrolment["id"], utcnow(), mailer)
    assert outcomes(db, enrolment["id"]) == {"call": "created"}
    assert captured_count(db) == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/v1/sequences"),
        ("put", "/api/v1/sequences/1/definition"),
        ("post", "/api/v1/sequences/1/activate"),
        ("post", "/api/v1/sequences/1/enrolments"),
        ("post", "/api/v1/sequences/1/mappings"),
        ("patch", "/api/v1/sequences/1"),
    ],
)
def test_sales_keys_read_sequences_but_cannot_change_them(
    client: Client, headers_for: Callable[[str], Headers], method: str, path: str
) -> None:
    sales = headers_for("sales")

    assert client.get("/api/v1/sequences", headers=sales).status_code == 200
    assert client.request(method, path, json={}, headers=sales).status_code == 403
    assert client.request(method, path, json={}).status_code == 401


def test_the_sequence_endpoints_are_documented_with_their_bodies(client: Client) -> None:
    paths = client.get("/schema/openapi.json").json()["paths"]

    create_body = paths["/api/v1/sequences"]["post"]["requestBody"]["content"]
    mapping_body = paths["/api/v1/sequences/{sequence_id}/mappings"]["post"]["requestBody"]
    listing = paths["/api/v1/sequences/{sequence_id}/enrolments"]["get"]

    assert set(create_body["application/json"]["schema"]["properties"]) == {"name", "definition"}
    created = paths["/api/v1/sequences"]["post"]["responses"]["201"]["content"]
    out = client.get("/schema/openapi.json").json()["components"]["schemas"]["SequenceOut"]
    assert created["application/json"]["schema"]["$ref"].endswith("/SequenceOut")
    assert {"valid", "problems"} <= set(out["required"])
    assert out["properties"]["problems"]["description"]
    assert set(mapping_body["content"]["application/json"]["schema"]["properties"]) == {
        "from_version_id",
        "step_map",
    }
    assert {p["name"] for p in listing["parameters"]} >= {"state", "cursor", "limit"}
    for path, item in paths.items():
        if path.startswith("/api/v1/sequences"):
            for operation in item.values():
                assert operation["summary"], path
                assert {"400", "401", "403"} <= set(operation["responses"]), path
