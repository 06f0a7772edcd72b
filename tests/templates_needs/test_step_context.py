"""A mail step or a broadcast whose template needs more than it gives is refused, in
plain words; a step that gives it activates; the web process knows the review kinds."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from campaigns.broadcasts.definition import BroadcastInput
from campaigns.broadcasts.store import create_broadcast
from campaigns.email.mailconfig import MailConfig
from campaigns.sequences import content_steps, definition, versions
from nurture.config import Settings
from nurture.errors import InvalidInput
from nurture.models import Contact
from tests.webinars.helpers import make_webinar


def _steps(step: dict[str, object]) -> dict[str, object]:
    return {"steps": [{"key": "ask", **step}]}


def test_a_plain_email_step_with_the_nps_template_is_a_problem_naming_what_it_lacks(
    db: Session, starters: dict[str, int]
) -> None:
    body = _steps({"type": "email", "template_id": starters["nps"]})
    [problem] = definition.problems(db, body)
    assert problem.field == "steps[0].template_id"
    assert "needs the eleven survey links and the project's name" in problem.message
    assert "which a plain e-mail step does not give" in problem.message
    assert "a review e-mail step asking for an NPS score" in problem.message
    assert "nps_links" not in problem.message
    assert "project.name" not in problem.message


def test_activation_refuses_the_step_and_a_review_step_that_gives_it_activates(
    db: Session, starters: dict[str, int]
) -> None:
    wrong = versions.create_sequence(
        db, name="Wrong", steps_definition=_steps({"type": "email", "template_id": starters["nps"]})
    )
    with pytest.raises(InvalidInput) as refused:
        versions.activate(db, wrong.id)
    assert refused.value.problems[0].field == "steps[0].template_id"
    db.rollback()
    right = versions.create_sequence(
        db,
        name="Right",
        steps_definition=_steps(
            {"type": "review_email", "ask": "nps", "template_id": starters["nps"]}
        ),
    )
    versions.activate(db, right.id)
    db.commit()


def test_a_content_step_lacking_part_of_a_name_says_which_part(
    db: Session, starters: dict[str, int]
) -> None:
    # The invitation step gives a webinar, but not the join or calendar links.
    body = _steps({"type": "webinar_invite", "template_id": starters["webinar_confirmation"]})
    [problem] = definition.problems(db, body)
    assert "the add-to-calendar links and the webinar's join link" in problem.message
    assert "a webinar invitation step does not give" in problem.message
    assert "No kind of step gives that yet" in problem.message
    fine = _steps({"type": "webinar_invite", "template_id": starters["webinar_invitation"]})
    assert definition.problems(db, fine) == []


def test_a_broadcast_refuses_a_template_that_needs_a_project(
    db: Session, starters: dict[str, int], contact: Contact
) -> None:
    data = BroadcastInput(name="Survey", template_id=starters["nps"], contact_ids=[contact.id])
    with pytest.raises(InvalidInput) as refused:
        create_broadcast(db, data, actor="test", now=datetime.now(UTC))
    [problem] = refused.value.problems
    assert problem.field == "template_id"
    assert "the project's name" in problem.message
    assert "which a broadcast does not give" in problem.message
    db.rollback()
    # The educational starter needs an article, which a broadcast has none of either.
    reading = BroadcastInput(
        name="Read", template_id=starters["educational"], contact_ids=[contact.id]
    )
    with pytest.raises(InvalidInput) as also:
        create_broadcast(db, reading, actor="test", now=datetime.now(UTC))
    assert "the article" in also.value.problems[0].message


def test_the_web_process_knows_the_review_email_kinds() -> None:
    script = (
        "import nurture.web.app\n"
        "from campaigns.sequences.content_steps import step_sender\n"
        "found = step_sender('review_email', {'ask': 'nps'})\n"
        "assert found is not None and 'nps_links' in found.gives, found\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=dict(os.environ)
    )
    assert done.returncode == 0, done.stderr


def test_the_webinar_step_gives_exactly_what_it_declares(
    db: Session, settings: Settings, contact: Contact
) -> None:
    webinar = make_webinar(db, "Scaling operations", datetime.now(UTC) + timedelta(days=3))
    given = content_steps.webinar_context(
        db, webinar.id, contact, MailConfig.from_settings(settings)
    )
    assert given is not None
    assert {f"webinar.{key}" for key in given["webinar"]} == content_steps.WEBINAR_GIVES
