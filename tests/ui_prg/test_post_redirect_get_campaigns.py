"""Post/Redirect/Get for the campaign forms: broadcasts, sequence experiments, new
templates, contact imports and task outcomes. Each form post answers 303, and the page
it leads to reloads without a 4xx (the harness is prg_harness; test_post_redirect_get
checks that every UI POST route has a case in one of the two modules).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy.orm import Session

from campaigns.broadcasts import store as broadcasts
from campaigns.broadcasts.definition import BroadcastInput
from campaigns.sequences.tasks import record_task_outcome
from nurture.models import TaskOutcome, utcnow
from tests.email.conftest import BODY
from tests.experiments_web.helpers import Built, running_with_data, step_experiment
from tests.factories import make_contact, make_task
from tests.ui.helpers import HTML, Client, csrf_token
from tests.ui_prg.prg_harness import Case, World, check_post_redirect_get, fixed
from tests.web_email.editor_forms import editor_form


@pytest.fixture
def db_url(sqlite_db_url: str) -> str:
    """Post/Redirect/Get is what a handler answers, the same on either database (what the
    handlers store is tested on both elsewhere): these cases run on SQLite alone."""
    return sqlite_db_url


# Broadcasts -----------------------------------------------------------------------------


def _broadcast_form(w: World, name: str = "Spring news") -> dict[str, Any]:
    return {
        "name": name,
        "template_id": str(w.template_id),
        "audience": "segment",
        "segment_id": str(w.segment_id),
        "when": "now",
        "cap_policy": "respect",
        "action": "save",
    }


def _draft_broadcast(db: Session, w: World) -> int:
    """A draft to the static segment, to be sent as soon as it is scheduled."""
    draft = BroadcastInput(name="Spring news", template_id=w.template_id, segment_id=w.segment_id)
    return broadcasts.create_broadcast(db, draft, actor="test", now=utcnow()).id


# Experiments on the world's sequence: its e-mail step `intro` ----------------------------


def _built(w: World) -> Built:
    return Built(w.sequence_id, w.template_id, w.template_id)


def _experiment_form(name: str) -> dict[str, Any]:
    """The editor's fields for a control and a variant with another subject line."""
    return {
        "name": name,
        "v-0-key": "a",
        "v-0-name": "Control",
        "v-1-key": "b",
        "v-1-name": "Question",
        "v-1-subject": "Ready for DORA, {{ contact.first_name }}?",
        "metric": "clicks",
        "window_days": "14",
        "mode": "fixed",
        "bandit_floor": "10",
        "baseline_rate": "4",
        "min_effect": "20",
        "default_variant": "a",
    }


def _running_experiment(db: Session, w: World) -> int:
    # Twice the control's click rate over 900 sends each: the data support declaring b.
    return running_with_data(db, _built(w), control=(900, 90), variant=(900, 180))


# Imports --------------------------------------------------------------------------------

PEOPLE = b"E-mail,First name\nnew@firm.example,New\nbob@,Bob\n"


def _uploaded_import(client: Client) -> int:
    """A CSV uploaded through the import form; answers the job waiting for its mapping."""
    answer = client.post(
        "/imports",
        data={"_csrf_token": csrf_token(client)},
        files={"file": ("people.csv", PEOPLE, "text/csv")},
        headers=HTML,
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    found = re.fullmatch(r"/imports/(\d+)", answer.headers["location"])
    assert found, answer.headers["location"]
    return int(found.group(1))


# Tasks ----------------------------------------------------------------------------------


def _recorded_task(db: Session, w: World) -> int:
    """A call whose outcome was recorded just now: still inside the undo window."""
    task = make_task(db, make_contact(db), assignee_id=w.other.id)
    record_task_outcome(db, task.id, TaskOutcome.DONE.value, now=utcnow(), actor="test")
    return task.id


CAMPAIGN_CASES: dict[str, Case] = {
    "/broadcasts/new": lambda client, db, w: ("/broadcasts/new", _broadcast_form(w)),
    "/broadcasts/{broadcast_id:int}/edit": lambda client, db, w: (
        f"/broadcasts/{_draft_broadcast(db, w)}/edit",
        _broadcast_form(w, "Spring news, shorter"),
    ),
    "/broadcasts/{broadcast_id:int}/schedule": lambda client, db, w: (
        f"/broadcasts/{_draft_broadcast(db, w)}/schedule",
        {},
    ),
    "/broadcasts/{broadcast_id:int}/cancel": lambda client, db, w: (
        f"/broadcasts/{_draft_broadcast(db, w)}/cancel",
        {},
    ),
    "/content/new": fixed("/content/new", editor_form(BODY, name="Spring guide")),
    "/content/new/starter": fixed("/content/new/starter", {"starter": "case_study"}),
    "/sequences/{sequence_id:int}/steps/{step_key:str}/experiment": lambda client, db, w: (
        f"/sequences/{w.sequence_id}/steps/intro/experiment",
        _experiment_form("Subject line"),
    ),
    "/experiments/{experiment_id:int}/edit": lambda client, db, w: (
        f"/experiments/{step_experiment(db, _built(w))}/edit",
        _experiment_form("Subject line, renamed"),
    ),
    "/experiments/{experiment_id:int}/start": lambda client, db, w: (
        f"/experiments/{step_experiment(db, _built(w))}/start",
        {},
    ),
    "/experiments/{experiment_id:int}/stop": lambda client, db, w: (
        f"/experiments/{_running_experiment(db, w)}/stop",
        {},
    ),
    "/experiments/{experiment_id:int}/declare": lambda client, db, w: (
        f"/experiments/{_running_experiment(db, w)}/declare",
        {"variant_key": "b", "reason": "Twice the clicks"},
    ),
    "/imports/{job_id:int}/start": lambda client, db, w: (
        f"/imports/{_uploaded_import(client)}/start",
        {"col-0": "email", "col-1": "first_name"},
    ),
    "/tasks/{task_id:int}/undo": lambda client, db, w: (f"/tasks/{_recorded_task(db, w)}/undo", {}),
}
# The import runs on the in-process worker: its page is read once the import is done.
CAMPAIGN_QUEUES: dict[str, tuple[str, ...]] = {"/imports/{job_id:int}/start": ("imports",)}


@pytest.mark.parametrize("route", sorted(CAMPAIGN_CASES))
def test_a_campaign_form_post_redirects_to_a_page_that_reloads(
    route: str, client: Client, db: Session, world: World
) -> None:
    check_post_redirect_get(
        route,
        CAMPAIGN_CASES[route],
        client,
        db,
        world,
        queues=CAMPAIGN_QUEUES.get(route, ()),
    )
