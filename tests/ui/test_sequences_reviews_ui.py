"""The sequence pages with issue 15's step pieces: review e-mails, tasks for the account
manager due in working days with a team-lead alert, waits counted from enrolment and
branches on the NPS category; what the builder is offered and how the steps read."""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.email.store import VariantInput, create_template
from nurture.models import SequenceVersion
from nurture.web.ui.sequence_views import outline, step_label
from tests.email.conftest import BODY, make_template
from tests.factories import make_contact, make_user
from tests.ui.helpers import HTML, Client, login, post_form


def _starter(db: Session, starter: str, name: str) -> int:
    """A template as the starter library loads it: it remembers which starter it came from."""
    template = create_template(
        db,
        name=name,
        starter_name=starter,
        actor="test",
        variants={"en": VariantInput("How did we do?", BODY, "")},
    )
    db.commit()
    return template.id


def _signed_in(client: Client, db: Session) -> None:
    user = make_user(db, role="marketer")
    db.commit()
    login(client, user)


def _post(client: Client, url: str, name: str, body: object, action: str = "save") -> Any:
    return post_form(client, url, {"name": name, "definition": json.dumps(body), "action": action})


def _script(html: str, element_id: str) -> Any:
    found = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', html)
    assert found, f"the builder page carries #{element_id}"
    return json.loads(found.group(1))


def _survey_flow(nps: int, testimonial: int) -> dict[str, Any]:
    return {
        "steps": [
            {"key": "ask", "type": "review_email", "ask": "nps", "template_id": nps},
            {
                "key": "answer",
                "type": "wait",
                "event": "nps.answered",
                "since": "enrolment",
                "timeout": {"days": 5},
            },
            {
                "key": "happy",
                "type": "branch",
                "condition": {
                    "event": "nps.answered",
                    "where": {"category": ["promoter", "passive"]},
                },
                "then": [
                    {
                        "key": "quote",
                        "type": "review_email",
                        "ask": "testimonial",
                        "template_id": testimonial,
                    }
                ],
                "else": [
                    {
                        "key": "rescue",
                        "type": "task",
                        "kind": "call",
                        "instructions": "Call {{ contact.first_name }}.",
                        "assign_to": "account_manager",
                        "due_in_working_days": 1,
                        "escalate": True,
                    }
                ],
            },
        ],
        "goals": [],
        "triggers": [{"event": "project.completed"}],
        "exclude_customers": False,
    }


def test_the_builder_is_offered_the_review_pieces_in_words(client: Client, db: Session) -> None:
    nps = _starter(db, "nps", "NPS survey")
    plain = make_template(db, name="Guide")
    _signed_in(client, db)

    page = client.get("/sequences/new", headers=HTML)

    assert page.status_code == 200
    catalogue = _script(page.text, "builder-catalogue")
    assert {"type": "review_email", "label": "Review e-mail"} in catalogue["step_types"]
    assert "review_email" in catalogue["mail_steps"]  # branches may test its opens and clicks
    assert [(a["value"], a["label"], a["starter"]) for a in catalogue["review_asks"]] == [
        ("nps", "NPS score", "nps"),
        ("feedback", "Feedback", "feedback_request"),
        ("testimonial", "Testimonial", "testimonial_request"),
        ("referral", "Referral", "referral"),
    ]
    assert {"id": nps, "name": "NPS survey", "starter": "nps"} in catalogue["templates"]
    assert {"id": plain, "name": "Guide", "starter": None} in catalogue["templates"]
    assert [a["value"] for a in catalogue["assignees"]] == ["owner", "account_manager"]
    assert [c["value"] for c in catalogue["nps_categories"]] == ["promoter", "passive", "detractor"]
    assert catalogue["event_labels"]["nps.answered"] == "answered the NPS survey"


def test_a_survey_flow_saves_as_posted_and_its_steps_read_in_plain_words(
    client: Client, db: Session
) -> None:
    nps = _starter(db, "nps", "NPS survey")
    testimonial = _starter(db, "testimonial_request", "Testimonial request")
    make_contact(db, email="ada@client.example")  # someone to preview the e-mails as
    _signed_in(client, db)
    body = _survey_flow(nps, testimonial)

    saved = _post(client, "/sequences/new", "After the project", body, action="activate")

    assert saved.status_code == 303, saved.text
    stored = db.scalars(select(SequenceVersion.definition)).one()
    assert stored == body
    page = client.get(saved.headers["location"], headers=HTML)
    assert page.status_code == 200
    text = page.text.replace("&#39;", "'")
    for label in (
        "Review e-mail asking for an NPS score: NPS survey",
        "Wait until the contact answered the NPS survey, counting from enrolment (at most 5 days)",
        "Branch: answered the NPS survey as promoter or passive",
        "Review e-mail asking for a testimonial: Testimonial request",
        "Task: Call, for the project's account manager, due in 1 working day,"
        " team lead alerted when overdue",
    ):
        assert label in text, label
    # Experiments do not test review e-mails: their rows offer no variant.
    assert "/steps/ask/experiment" not in text
    # The review e-mails are previewable like any e-mail step.
    assert f'<option value="{nps}">Review e-mail asking for an NPS score' in text
    editor = client.get(saved.headers["location"].split("?")[0] + "/edit", headers=HTML)
    assert _script(editor.text, "builder-problems") == []


def test_review_pieces_the_engine_refuses_are_marked_at_their_paths(
    client: Client, db: Session
) -> None:
    nps = _starter(db, "nps", "NPS survey")
    _signed_in(client, db)
    body = _survey_flow(nps, nps)
    body["steps"][0] = {"key": "ask", "type": "review_email", "ask": "praise"}
    body["steps"][2]["condition"]["where"]["category"] = []
    body["steps"][2]["else"][0]["due_in_hours"] = 24  # and due_in_working_days: not both

    saved = _post(client, "/sequences/new", "Half done", body)

    assert saved.status_code == 303
    editor = client.get(saved.headers["location"], headers=HTML)
    paths = {p["path"] for p in _script(editor.text, "builder-problems")}
    assert paths == {
        "steps[0].ask",
        "steps[0].template_id",
        "steps[2].condition.where.category",
        "steps[2].else[0].due_in_working_days",
    }


def test_labels_of_odd_and_generic_conditions_still_read() -> None:
    templates = {7: "Guide"}
    assert step_label({"type": "review_email", "ask": "referral"}, templates) == (
        "Review e-mail asking for a referral: no template chosen"
    )
    assert step_label({"type": "review_email", "ask": "x", "template_id": 8}, templates) == (
        "Review e-mail asking for “x”: template 8"
    )
    branch = {"type": "branch", "condition": {"event": "nps.sent", "where": {"reminder": False}}}
    assert step_label(branch, templates) == (
        "Branch: was sent the NPS survey where reminder is false"
    )
    odd = {"type": "branch", "condition": {"event": "shop.paid"}}
    assert step_label(odd, templates) == "Branch: had a shop.paid event"
    wait = {"type": "wait", "event": "webinar.attended", "timeout": {"days": 2}}
    assert step_label(wait, templates) == (
        "Wait until the contact attended a webinar (at most 2 days)"
    )
    task = {"type": "task", "kind": "call", "due_in_working_days": 3}
    assert step_label(task, templates) == "Task: Call, due in 3 working days"
    assert step_label({"type": "email", "template_id": 7}, templates) == "E-mail: Guide"
    rows = outline({"steps": [{"key": "r", "type": "review_email", "template_id": 7}]}, templates)
    assert [(r.key, r.template_id) for r in rows] == [("r", 7)]
