"""The sequence pages through HTTP: builder, validation, activation, versions, enrolment, roles."""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from campaigns.sequences import versions
from campaigns.sequences.enrol import enrol_contacts
from nurture.contacts import suppress
from nurture.models import (
    AuditEntry,
    Enrolment,
    Sequence,
    SequenceStatus,
    SequenceVersion,
    SuppressionReason,
    utcnow,
)
from tests.email.conftest import make_template
from tests.factories import make_contact, make_user
from tests.ui.helpers import HTML, Client, login, post_form


def _flow(template_id: int) -> dict[str, Any]:
    return {
        "steps": [
            {"key": "intro", "type": "email", "template_id": template_id},
            {
                "key": "opened",
                "type": "branch",
                "condition": {"event": "email.opened", "step": "intro"},
                "then": [{"key": "call", "type": "task", "kind": "call"}],
                "else": [{"key": "later", "type": "wait", "duration": {"days": 3}}],
            },
            {"key": "won", "type": "goal"},
        ],
        "goals": [{"event": "meeting.booked"}],
        "triggers": [],
    }


def _signed_in(client: Client, db: Session, role: str = "marketer") -> None:
    user = make_user(db, role=role)
    db.commit()
    login(client, user)


def _post(client: Client, url: str, name: str, body: object, action: str = "save") -> Any:
    text = body if isinstance(body, str) else json.dumps(body)
    return post_form(client, url, {"name": name, "definition": text, "action": action})


def _problems(html: str) -> list[dict[str, str]]:
    found = re.search(r'<script type="application/json" id="builder-problems">(.*?)</script>', html)
    assert found, "the builder page carries its problems for the script"
    problems: list[dict[str, str]] = json.loads(found.group(1))
    # Path and message place each problem; its words (`text`) are tested on their own.
    return [{"path": p["path"], "message": p["message"]} for p in problems]


def _draft(db: Session, template_id: int) -> int:
    sequence = versions.create_sequence(
        db, name="Legal nurture", steps_definition=_flow(template_id)
    )
    db.commit()
    return sequence.id


def _active(db: Session, template_id: int) -> int:
    sequence_id = _draft(db, template_id)
    versions.activate(db, sequence_id)
    db.commit()
    return sequence_id


def _status(db: Session, sequence_id: int) -> str:
    db.expire_all()
    status: str = db.scalars(select(Sequence.status).where(Sequence.id == sequence_id)).one()
    return status


def test_the_empty_list_offers_a_new_sequence_button(client: Client, db: Session) -> None:
    _signed_in(client, db)
    page = client.get("/sequences", headers=HTML)
    assert page.status_code == 200
    assert "No sequences yet" in page.text
    assert 'href="/sequences/new"' in page.text


def test_the_list_shows_status_version_and_enrolment_counts(client: Client, db: Session) -> None:
    sequence_id = _active(db, make_template(db))
    enrol_contacts(db, sequence_id, [make_contact(db).id, make_contact(db).id], now=utcnow())
    db.commit()
    _signed_in(client, db, "sales")

    page = client.get("/sequences", headers=HTML)

    row = re.search(r"<tr>\s*<td data-label=\"Name\".*?</tr>", page.text, re.S)
    assert row, page.text
    assert "Legal nurture" in row.group(0)
    assert "Active" in row.group(0)
    assert "v1" in row.group(0)
    assert re.search(r'data-label="Active" class="num">2<', row.group(0))
    assert 'href="/sequences/new"' not in page.text  # a sales rep only reads


def test_the_list_pages_through_many_sequences(client: Client, db: Session) -> None:
    template_id = make_template(db)
    for n in range(27):
        versions.create_sequence(db, name=f"Seq {n:02d}", steps_definition=_flow(template_id))
    db.commit()
    _signed_in(client, db)

    first = client.get("/sequences", headers=HTML)
    second = client.get("/sequences?page_number=2", headers=HTML)

    assert first.text.count('class="row-link"') == 25
    assert "page_number=2" in first.text
    assert second.text.count('class="row-link"') == 2


def test_saving_the_builder_creates_a_draft_with_its_steps(client: Client, db: Session) -> None:
    template_id = make_template(db)
    _signed_in(client, db)

    response = _post(client, "/sequences/new", "Legal nurture", _flow(template_id))

    assert response.status_code == 303
    sequence_id = int(re.findall(r"/sequences/(\d+)", response.headers["location"])[0])
    assert _status(db, sequence_id) == SequenceStatus.DRAFT.value
    page = client.get(response.headers["location"], headers=HTML)
    assert "Saved." in page.text
    for key in ("intro", "opened", "call", "later", "won"):
        assert f'data-step="{key}"' in page.text
    assert "E-mail: Guide" in page.text
    actions = db.scalars(select(AuditEntry.action).where(AuditEntry.entity_type == "sequence"))
    assert list(actions) == ["sequence.created"]


def _created_id(response: Any) -> int:
    return int(re.findall(r"/sequences/(\d+)", response.headers["location"])[0])


def test_a_draft_with_problems_is_saved_and_they_are_shown_on_their_steps(
    client: Client, db: Session
) -> None:
    template_id = make_template(db)
    _signed_in(client, db)
    body = _flow(template_id)
    body["steps"][1]["then"][0] = {"key": "mail2", "type": "email", "template_id": template_id}
    body["steps"][1]["else"] = []

    response = _post(client, "/sequences/new", "Half done", body)

    assert response.status_code == 303
    sequence_id = _created_id(response)
    assert response.headers["location"] == f"/sequences/{sequence_id}/edit?saved=1"
    assert _status(db, sequence_id) == SequenceStatus.DRAFT.value
    stored = db.scalars(
        select(SequenceVersion.definition).where(SequenceVersion.sequence_id == sequence_id)
    ).all()
    assert stored == [body]
    editor = client.get(response.headers["location"], headers=HTML)
    assert editor.status_code == 200
    paths = {p["path"]: p["message"] for p in _problems(editor.text)}
    assert paths == {"steps[1].else": "is empty: add at least one step"}
    assert "Saved as a draft with 1 problem; fix it before activating." in editor.text
    assert "Nothing was saved" not in editor.text
    assert "mail2" in editor.text  # the builder shows the stored draft
    actions = db.scalars(select(AuditEntry.action).where(AuditEntry.entity_type == "sequence"))
    assert list(actions) == ["sequence.created"]
    # Opening the draft later still marks what is left to do.
    later = client.get(f"/sequences/{sequence_id}/edit", headers=HTML)
    assert "This draft has 1 problem; fix it before activating." in later.text
    assert _problems(later.text) == _problems(editor.text)


def test_a_missing_template_is_named_at_its_path(client: Client, db: Session) -> None:
    template_id = make_template(db)
    _signed_in(client, db)
    body = _flow(template_id)
    body["steps"][1]["then"][0] = {"key": "mail2", "type": "email", "template_id": 9999}

    response = _post(client, "/sequences/new", "Broken", body)

    assert response.status_code == 303
    editor = client.get(response.headers["location"], headers=HTML)
    assert {"path": "steps[1].then[0].template_id", "message": "no such template (9999)"} in (
        _problems(editor.text)
    )


def test_a_definition_no_draft_may_hold_is_refused_and_nothing_is_saved(
    client: Client, db: Session
) -> None:
    _signed_in(client, db)
    body = {"steps": [{"key": "b", "type": "branch", "then": "call", "else": []}]}

    response = _post(client, "/sequences/new", "Broken", body)

    assert response.status_code == 422
    assert "Nothing was saved" in response.text
    assert {"path": "steps[0].then", "message": "must be a list"} in _problems(response.text)
    assert db.scalar(select(func.count()).select_from(Sequence)) == 0


def test_the_page_of_a_draft_with_problems_lists_them(client: Client, db: Session) -> None:
    template_id = make_template(db)
    sequence = versions.create_sequence(
        db,
        name="Half done",
        steps_definition={
            "steps": [
                {"key": "intro", "type": "email", "template_id": template_id},
                {"key": "next", "type": "email"},
            ]
        },
    )
    make_contact(db)  # someone to preview as
    db.commit()
    _signed_in(client, db)

    page = client.get(f"/sequences/{sequence.id}", headers=HTML)

    assert page.status_code == 200
    warning = re.search(r'id="draft-problems">(.*?)</div>', page.text, re.S)
    assert warning
    assert "This draft has 1 problem" in warning.group(1)
    assert "Step 2 (e-mail): choose a template" in warning.group(1)
    assert "steps[1]" not in warning.group(1)
    # The e-mail step without a template yet is not offered for a preview.
    options = re.search(r'id="preview-step"[^>]*>(.*?)</select>', page.text, re.S)
    assert options
    assert re.findall(r'value="([^"]*)"', options.group(1)) == [str(template_id)]


def test_a_nameless_or_undecodable_form_says_what_is_wrong(client: Client, db: Session) -> None:
    _signed_in(client, db)

    response = _post(client, "/sequences/new", "  ", "{not json")

    assert response.status_code == 422
    assert "give the sequence a name" in response.text
    assert "is not valid JSON" in response.text


def test_save_and_activate_keeps_the_draft_but_refuses_to_activate_an_invalid_flow(
    client: Client, db: Session
) -> None:
    _signed_in(client, db)
    body = {"steps": [{"key": "won", "type": "goal"}, {"key": "after", "type": "exit"}]}

    response = _post(client, "/sequences/new", "Unreachable", body, action="activate")

    assert response.status_code == 422
    assert {
        "path": "steps[1]",
        "message": "is unreachable: it follows a goal or exit step",
    } in _problems(response.text)
    assert "Saved as a draft, but not activated: it has 1 problem" in response.text
    sequence_id = db.scalars(select(Sequence.id)).one()
    assert _status(db, sequence_id) == SequenceStatus.DRAFT.value
    # The builder now saves onto the stored draft, not a new one.
    assert f'action="/sequences/{sequence_id}/edit"' in response.text
    actions = db.scalars(select(AuditEntry.action).where(AuditEntry.entity_type == "sequence"))
    assert list(actions) == ["sequence.created"]


def test_save_and_activate_on_a_draft_edit_saves_the_edit_and_activates_only_when_valid(
    client: Client, db: Session
) -> None:
    template_id = make_template(db)
    sequence_id = _draft(db, template_id)
    _signed_in(client, db)
    broken = _flow(template_id)
    broken["steps"][0] = {"key": "intro", "type": "email"}
    url = f"/sequences/{sequence_id}/edit"

    refused = _post(client, url, "Legal nurture", broken, action="activate")
    db.expire_all()
    stored = versions.current_version(db, versions.get_sequence(db, sequence_id)).definition
    started = _post(client, url, "Legal nurture", _flow(template_id), action="activate")

    assert refused.status_code == 422
    assert "Saved as a draft, but not activated" in refused.text
    assert {
        "path": "steps[0].template_id",
        "message": "must be a template id (a positive integer)",
    } in _problems(refused.text)
    assert stored == broken
    assert started.status_code == 303
    assert "activated=1" in started.headers["location"]
    assert _status(db, sequence_id) == SequenceStatus.ACTIVE.value


def test_a_running_sequence_with_problems_publishes_nothing(client: Client, db: Session) -> None:
    template_id = make_template(db)
    sequence_id = _active(db, template_id)
    _signed_in(client, db)
    broken = _flow(template_id)
    broken["steps"][1]["else"] = []

    response = _post(client, f"/sequences/{sequence_id}/edit", "Legal nurture", broken)

    assert response.status_code == 422
    assert "Nothing was saved" in response.text
    assert {"path": "steps[1].else", "message": "is empty: add at least one step"} in (
        _problems(response.text)
    )
    db.expire_all()
    stored = db.scalars(
        select(SequenceVersion.definition).where(SequenceVersion.sequence_id == sequence_id)
    ).all()
    assert stored == [_flow(template_id)]
    assert _status(db, sequence_id) == SequenceStatus.ACTIVE.value


def test_activation_is_refused_with_the_problems_when_a_template_went_missing(
    client: Client, db: Session
) -> None:
    sequence_id = _draft(db, make_template(db))
    # The stored draft names a template that is no longer there.
    broken = _flow(9999)
    db.execute(
        update(SequenceVersion)
        .where(SequenceVersion.sequence_id == sequence_id)
        .values(definition=broken)
    )
    db.commit()
    _signed_in(client, db)

    response = post_form(client, f"/sequences/{sequence_id}/activate")

    assert response.status_code == 422
    assert "Not activated" in response.text
    assert "Step 1 (e-mail): the chosen template no longer exists; choose another" in response.text
    assert _status(db, sequence_id) == SequenceStatus.DRAFT.value


def test_save_and_activate_starts_the_sequence(client: Client, db: Session) -> None:
    template_id = make_template(db)
    _signed_in(client, db)

    response = _post(client, "/sequences/new", "Go", _flow(template_id), action="activate")

    assert response.status_code == 303
    assert "activated=1" in response.headers["location"]
    sequence_id = int(re.findall(r"/sequences/(\d+)", response.headers["location"])[0])
    assert _status(db, sequence_id) == SequenceStatus.ACTIVE.value


def test_editing_an_active_sequence_publishes_a_new_version_and_says_so(
    client: Client, db: Session
) -> None:
    template_id = make_template(db)
    sequence_id = _active(db, template_id)
    enrol_contacts(db, sequence_id, [make_contact(db).id], now=utcnow())
    db.commit()
    _signed_in(client, db)
    editor = client.get(f"/sequences/{sequence_id}/edit", headers=HTML)
    assert "Publish new version" in editor.text
    body = _flow(template_id)
    body["steps"].insert(1, {"key": "pause", "type": "wait", "duration": {"days": 2}})

    response = _post(client, f"/sequences/{sequence_id}/edit", "Legal nurture v2", body)

    assert response.status_code == 303
    page = client.get(response.headers["location"], headers=HTML)
    assert "Published version 2" in page.text
    assert "continue on the version they joined" in page.text
    assert "Legal nurture v2" in page.text
    assert "1 still on earlier versions" in page.text
    versions_table = re.search(r'id="versions-table">(.*?)</table>', page.text, re.S)
    assert versions_table
    assert re.findall(r"v(\d)", versions_table.group(1)) == ["2", "1"]
    numbers = db.scalars(
        select(SequenceVersion.number).where(SequenceVersion.sequence_id == sequence_id)
    ).all()
    assert sorted(numbers) == [1, 2]


def test_saving_an_unchanged_flow_publishes_no_version(client: Client, db: Session) -> None:
    template_id = make_template(db)
    sequence_id = _active(db, template_id)
    _signed_in(client, db)

    response = _post(client, f"/sequences/{sequence_id}/edit", "Renamed", _flow(template_id))

    assert response.status_code == 303
    assert "saved=1" in response.headers["location"]
    count = db.scalar(
        select(func.count())
        .select_from(SequenceVersion)
        .where(SequenceVersion.sequence_id == sequence_id)
    )
    assert count == 1


def test_pause_resume_and_stop_move_the_status(client: Client, db: Session) -> None:
    sequence_id = _active(db, make_template(db))
    _signed_in(client, db)

    assert post_form(client, f"/sequences/{sequence_id}/pause").status_code == 303
    assert _status(db, sequence_id) == "paused"
    again = post_form(client, f"/sequences/{sequence_id}/pause")
    assert again.status_code == 409
    assert "only an active sequence can be paused" in again.text
    assert post_form(client, f"/sequences/{sequence_id}/resume").status_code == 303
    assert _status(db, sequence_id) == "active"
    stopped = post_form(client, f"/sequences/{sequence_id}/stop")
    assert stopped.status_code == 303
    assert _status(db, sequence_id) == "stopped"
    page = client.get(stopped.headers["location"], headers=HTML)
    assert "Stopped for good" in page.text
    assert f'/sequences/{sequence_id}/edit"' not in page.text


def test_enrolling_reports_who_joined_and_why_others_were_skipped(
    client: Client, db: Session
) -> None:
    sequence_id = _active(db, make_template(db))
    fresh = make_contact(db, email="fresh@firm.example")
    make_contact(db, email="client@firm.example", lifecycle_stage="customer")
    make_contact(db, email="gone@firm.example")
    suppress(db, "gone@firm.example", reason=SuppressionReason.UNSUBSCRIBED)
    db.commit()
    _signed_in(client, db)
    pasted = "Fresh@Firm.example, client@firm.example\ngone@firm.example; nobody@firm.example oops"

    response = post_form(client, f"/sequences/{sequence_id}/enrol", {"emails": pasted})

    assert response.status_code == 303
    shown = client.get(response.headers["location"], headers=HTML)
    report = re.search(r'id="enrol-report">(.*?)</div>', shown.text, re.S)
    assert report, shown.text
    text = " ".join(report.group(1).split())
    assert "1 enrolled" in text
    assert "fresh@firm.example: enrolled" in text
    assert "client@firm.example: skipped, already a customer" in text
    assert "gone@firm.example: skipped, unsubscribed or suppressed" in text
    assert "nobody@firm.example: no contact has this address" in text
    assert "oops: not an e-mail address" in text
    enrolled = db.scalars(select(Enrolment.contact_id)).all()
    assert enrolled == [fresh.id]
    again = post_form(client, f"/sequences/{sequence_id}/enrol", {"emails": "fresh@firm.example"})
    assert "already in this sequence" in client.get(again.headers["location"], headers=HTML).text


def test_a_draft_takes_no_enrolments(client: Client, db: Session) -> None:
    sequence_id = _draft(db, make_template(db))
    make_contact(db, email="fresh@firm.example")
    db.commit()
    _signed_in(client, db)

    response = post_form(
        client, f"/sequences/{sequence_id}/enrol", {"emails": "fresh@firm.example"}
    )

    assert response.status_code == 409
    assert "not a draft one" in response.text


def test_the_funnel_shows_who_waits_at_the_first_step(client: Client, db: Session) -> None:
    sequence_id = _active(db, make_template(db))
    make_contact(db, email="fresh@firm.example")
    db.commit()
    _signed_in(client, db)
    post_form(client, f"/sequences/{sequence_id}/enrol", {"emails": "fresh@firm.example"})

    page = client.get(f"/sequences/{sequence_id}", headers=HTML)

    row = re.search(r'<tr data-step="intro">(.*?)</tr>', page.text, re.S)
    assert row
    assert re.search(r'data-count="reached">1<', row.group(1))
    assert re.search(r'data-count="waiting">1<', row.group(1))
    assert 'id="funnel-chart"' in page.text


def test_the_contact_search_offers_addresses_to_pick(client: Client, db: Session) -> None:
    make_contact(db, email="lena@brandt.example", first_name="Lena")
    db.commit()
    _signed_in(client, db)

    found = client.get("/sequences/contacts?q=lena", headers=HTML)

    assert found.status_code == 200
    assert 'data-pick-email="lena@brandt.example"' in found.text


def test_an_email_step_previews_for_a_chosen_contact(client: Client, db: Session) -> None:
    template_id = make_template(db)
    contact = make_contact(db, first_name="Lena")
    db.commit()
    _signed_in(client, db, "sales")

    response = client.get(
        f"/sequences/preview?template_id={template_id}&contact_id={contact.id}", headers=HTML
    )

    assert response.status_code == 200
    assert "Your guide, Lena" in response.text
    assert "<iframe" in response.text
    assert 'sandbox=""' in response.text


def test_a_preview_of_a_missing_template_explains_instead_of_failing(
    client: Client, db: Session
) -> None:
    contact = make_contact(db)
    db.commit()
    _signed_in(client, db)

    response = client.get(
        f"/sequences/preview?template_id=9999&contact_id={contact.id}", headers=HTML
    )

    assert response.status_code == 200
    assert "cannot be rendered" in response.text


def test_a_sales_rep_reads_the_funnel_but_changes_nothing(client: Client, db: Session) -> None:
    sequence_id = _active(db, make_template(db))
    _signed_in(client, db, "sales")

    assert client.get(f"/sequences/{sequence_id}", headers=HTML).status_code == 200
    assert client.get("/sequences/new", headers=HTML).status_code == 403
    assert client.get(f"/sequences/{sequence_id}/edit", headers=HTML).status_code == 403
    for action in ("pause", "stop", "activate"):
        assert post_form(client, f"/sequences/{sequence_id}/{action}").status_code == 403
    enrol = post_form(client, f"/sequences/{sequence_id}/enrol", {"emails": "a@b.example"})
    assert enrol.status_code == 403
    assert _status(db, sequence_id) == "active"


def test_a_form_without_the_csrf_token_is_refused(client: Client, db: Session) -> None:
    template_id = make_template(db)
    _signed_in(client, db)

    response = client.post(
        "/sequences/new",
        data={"name": "x", "definition": json.dumps(_flow(template_id))},
        headers=HTML,
    )

    assert response.status_code == 403
    assert db.scalar(select(func.count()).select_from(Sequence)) == 0


def test_an_unknown_sequence_is_a_404(client: Client, db: Session) -> None:
    _signed_in(client, db)
    assert client.get("/sequences/999", headers=HTML).status_code == 404
    assert client.get("/sequences/999/edit", headers=HTML).status_code == 404


def test_editing_a_draft_changes_it_in_place(client: Client, db: Session) -> None:
    template_id = make_template(db)
    sequence_id = _draft(db, template_id)
    _signed_in(client, db)
    body = _flow(template_id)
    body["steps"].insert(0, {"key": "pause", "type": "wait", "duration": {"hours": 4}})

    response = _post(client, f"/sequences/{sequence_id}/edit", "Legal nurture", body)

    assert response.status_code == 303
    assert "saved=1" in response.headers["location"]
    db.expire_all()
    stored = db.scalars(
        select(SequenceVersion.definition).where(SequenceVersion.sequence_id == sequence_id)
    ).all()
    assert [steps["steps"][0]["key"] for steps in stored] == ["pause"]
