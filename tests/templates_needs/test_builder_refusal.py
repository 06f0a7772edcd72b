"""The builder marks a mail step whose template needs more than the step gives, and
"Save and activate" keeps it a draft, in plain words."""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.models import Sequence, SequenceStatus
from tests.factories import make_user
from tests.ui.helpers import Client, login, post_form


def _problems(html: str) -> list[dict[str, str]]:
    found = re.search(r'<script type="application/json" id="builder-problems">(.*?)</script>', html)
    assert found, "the builder page carries its problems for the script"
    problems: list[dict[str, str]] = json.loads(found.group(1))
    return problems


def test_activating_a_plain_email_step_with_the_nps_starter_is_refused_on_that_step(
    client: Client, db: Session, starters: dict[str, int]
) -> None:
    user = make_user(db, role="marketer")
    db.commit()
    login(client, user)
    body: dict[str, Any] = {
        "steps": [{"key": "ask", "type": "email", "template_id": starters["nps"]}]
    }
    form = {"name": "After the project", "definition": json.dumps(body), "action": "activate"}
    response = post_form(client, "/sequences/new", form)
    assert response.status_code == 422
    [problem] = _problems(response.text)
    assert problem["path"] == "steps[0].template_id"
    assert problem["message"].startswith(
        "“NPS survey” needs the eleven survey links and the project's name, "
        "which a plain e-mail step does not give."
    )
    assert "Saved as a draft, but not activated" in response.text
    status = db.scalars(select(Sequence.status)).one()
    assert status == SequenceStatus.DRAFT.value
