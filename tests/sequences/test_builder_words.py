"""What the builder and the funnel say, in a marketer's words rather than paths and types."""

from __future__ import annotations

import json
from typing import Any

import pytest

from campaigns.sequences import definition
from nurture.errors import InvalidInput, Problem
from nurture.web.ui.sequence_forms import SequenceForm
from nurture.web.ui.sequence_problems import plain
from nurture.web.ui.sequence_views import outline

BODY: dict[str, Any] = {
    "steps": [
        {"key": "methodology", "type": "email", "template_id": 3},
        {
            "key": "engaged",
            "type": "branch",
            "condition": {"event": "email.clicked", "step": "methodology"},
            "then": [],
            "else": [
                {
                    "key": "ab",
                    "type": "split",
                    "paths": [
                        {"percent": 50, "steps": [{"key": "x", "type": "email"}]},
                        {"percent": 50, "steps": []},
                    ],
                }
            ],
        },
    ]
}


@pytest.mark.parametrize(
    ("field", "message", "words"),
    [
        (
            "steps[1].then",
            "is empty: add at least one step",
            "Step 2 (branch): the 'yes' path has no steps",
        ),
        ("steps[1].else", "is required", "Step 2 (branch): the 'no' path is missing"),
        (
            "steps[0].template_id",
            "must be a template id (a positive integer)",
            "Step 1 (e-mail): choose a template",
        ),
        (
            "steps[0].template_id",
            "no such template (3)",
            "Step 1 (e-mail): the chosen template no longer exists; choose another",
        ),
        (
            "steps[1].else[0].paths[0].steps[0].template_id",
            "must be a template id (a positive integer)",
            "Step 2 (branch), the 'no' path, step 1 (A/B split), path A, step 1 (e-mail): "
            "choose a template",
        ),
        (
            "steps[1].else[0].paths[1].steps",
            "is empty: add at least one step",
            "Step 2 (branch), the 'no' path, step 1 (A/B split): path B has no steps",
        ),
        (
            "steps[1].condition.any[1].event",
            "must be an event type, like email.clicked",
            "Step 2 (branch): the condition, test 2, the event: "
            "must be an event type, like email.clicked",
        ),
        ("steps", "must hold at least one step", "The sequence has no steps yet: add one"),
        (
            "triggers[0].segment_id",
            "must be a segment id",
            "Trigger 1, the segment: must be a segment id",
        ),
    ],
)
def test_a_problem_names_the_step_by_place_and_kind(field: str, message: str, words: str) -> None:
    assert plain(Problem(field, message), BODY) == words


def test_every_problem_of_a_broken_flow_reads_without_paths() -> None:
    with pytest.raises(InvalidInput) as caught:
        definition.parse(BODY)
    form = SequenceForm("Legal", json.dumps(BODY), tuple(caught.value.problems))

    texts = [p["text"] for p in form.flow_problems]

    assert "Step 2 (branch): the 'yes' path has no steps" in texts
    assert "Step 2 (branch), the 'no' path, step 1 (A/B split): path B has no steps" in texts
    assert not [t for t in texts if "steps[" in t or "template_id" in t]


def _labels(condition: object) -> str:
    body = {
        "steps": [
            {"key": "methodology", "type": "email", "template_id": 3},
            {"key": "b", "type": "branch", "condition": condition, "then": [], "else": []},
        ]
    }
    return outline(body, {3: "Methodology guide"})[1].label


def test_a_funnel_label_names_the_email_a_branch_asks_about() -> None:
    assert _labels({"event": "email.clicked", "step": "methodology"}) == (
        "Branch: clicked “Methodology guide”"
    )


def test_an_opened_or_clicked_branch_reads_as_one_question() -> None:
    either = {
        "any": [
            {"event": "email.opened", "step": "methodology"},
            {"event": "email.clicked", "step": "methodology"},
        ]
    }
    assert _labels(either) == "Branch: opened or clicked “Methodology guide”"


def test_an_all_group_joins_its_tests_with_and() -> None:
    both = {
        "all": [
            {"event": "email.opened", "step": "methodology"},
            {"task_outcome": ["meeting_booked"], "step": "call"},
        ]
    }
    assert _labels(both) == (
        "Branch: opened “Methodology guide” and the task “call” ended meeting booked"
    )


def test_a_segment_branch_names_the_segment() -> None:
    body = {
        "steps": [
            {"key": "b", "type": "branch", "condition": {"segment_id": 4}, "then": [], "else": []}
        ]
    }

    assert outline(body, {}, {4: "Law firms, engaged"})[0].label == (
        "Branch: in segment “Law firms, engaged”"
    )
