"""The step graph format: problems name the step path; valid graphs compile to a flow."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from campaigns.sequences import definition, draft_shape
from nurture.errors import InvalidInput


def problems_of(body: dict[str, Any]) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        definition.parse(body)
    return [p.describe() for p in caught.value.problems]


def test_branch_arms_continue_after_the_branch() -> None:
    flow = definition.parse(
        {
            "steps": [
                {"key": "intro", "type": "email", "template_id": 1},
                {
                    "key": "clicked",
                    "type": "branch",
                    "condition": {"event": "email.clicked", "step": "intro"},
                    "then": [{"key": "invite", "type": "email", "template_id": 2}],
                    "else": [{"key": "call", "type": "task", "kind": "call"}],
                },
                {"key": "pause", "type": "wait", "duration": {"days": 4}},
            ]
        }
    )
    assert flow.first == "intro"
    assert flow.next_key("intro") == "clicked"
    assert flow.next_key("clicked", "then") == "invite"
    assert flow.next_key("clicked", "else") == "call"
    assert flow.next_key("invite") == "pause"
    assert flow.next_key("call") == "pause"
    assert flow.next_key("pause") is None


def test_nested_problems_name_the_step_path() -> None:
    found = problems_of(
        {
            "steps": [
                {"key": "a", "type": "email", "template_id": 1},
                {"key": "b", "type": "wait", "duration": {"days": 1}},
                {
                    "key": "c",
                    "type": "branch",
                    "condition": {"event": "email.opened"},
                    "then": [{"key": "d", "type": "email", "template_id": "x"}],
                    "else": [],
                },
            ]
        }
    )
    assert "steps[2].then[0].template_id: must be a template id (a positive integer)" in found
    assert "steps[2].else: is empty: add at least one step" in found


def test_steps_after_a_goal_are_unreachable() -> None:
    found = problems_of(
        {
            "steps": [
                {"key": "done", "type": "goal"},
                {"key": "late", "type": "email", "template_id": 1},
            ]
        }
    )
    assert found == ["steps[1]: is unreachable: it follows a goal or exit step"]


def test_split_percentages_must_add_up_and_keys_must_be_unique() -> None:
    found = problems_of(
        {
            "steps": [
                {
                    "key": "ab",
                    "type": "split",
                    "paths": [
                        {"percent": 50, "steps": [{"key": "x", "type": "goal"}]},
                        {"percent": 40, "steps": [{"key": "x", "type": "exit"}]},
                    ],
                }
            ]
        }
    )
    assert "steps[0].paths: percentages must add up to 100, not 90" in found
    assert "steps[0].paths[1].steps[0].key: 'x' is already used by steps[0].paths[0].steps[0]" in (
        found
    )


def test_conditions_must_name_a_step_of_the_right_type() -> None:
    found = problems_of(
        {
            "steps": [
                {"key": "w", "type": "wait", "until": {"weekday": "tuesday", "time": "10:00"}},
                {
                    "key": "b",
                    "type": "branch",
                    "condition": {"task_outcome": ["meeting_booked"], "step": "w"},
                    "then": [{"key": "g", "type": "goal"}],
                    "else": [{"key": "e", "type": "exit"}],
                },
            ]
        }
    )
    assert found == ["steps[1].condition.step: 'w' is a wait step, not task"]


def test_bad_waits_and_windows_are_named() -> None:
    found = problems_of(
        {
            "steps": [
                {"key": "w1", "type": "wait", "until": {"weekday": "someday", "time": "25:00"}},
                {"key": "w2", "type": "wait", "event": "email.clicked"},
            ],
            "send_window": {"start": "17:00", "end": "09:00"},
            "reenrol": "sometimes",
        }
    )
    assert "steps[0].until.weekday: must be a weekday name, like tuesday" in found
    assert "steps[0].until.time: must be a 24-hour HH:MM time" in found
    assert "steps[1].timeout: is required when waiting for an event" in found
    assert "send_window: start must come before end (same day)" in found
    assert "reenrol: must be one of never, after_finish" in found


def test_missing_templates_are_named_by_step_path(db: Session) -> None:
    body = {"steps": [{"key": "a", "type": "email", "template_id": 987654}]}
    with pytest.raises(InvalidInput) as caught:
        definition.parse_checked(db, body)
    assert [p.describe() for p in caught.value.problems] == [
        "steps[0].template_id: no such template (987654)"
    ]


def test_a_draft_may_hold_problems_but_not_a_shape_the_builder_cannot_draw() -> None:
    half_done = {
        "steps": [
            {"key": "intro", "type": "email"},
            {"key": "b", "type": "branch", "condition": {"event": "x"}, "then": [], "else": None},
        ],
        "triggers": [{"evt": 1}],
    }
    draft_shape.check_draft(half_done)  # stored as a draft; parse still names every problem
    assert "steps[0].template_id: must be a template id (a positive integer)" in problems_of(
        half_done
    )

    def refused(body: object) -> list[str]:
        with pytest.raises(InvalidInput) as caught:
            draft_shape.check_draft(body)
        return [p.describe() for p in caught.value.problems]

    assert refused([]) == ["definition: must be an object"]
    assert refused({"goals": []}) == ["steps: must be a list of steps"]
    assert refused(
        {
            "steps": [
                "intro",
                {"key": "w", "type": "wait", "until": "tuesday", "topics": "a"},
                {"key": "s", "type": "split", "paths": [{"percent": 50, "steps": {}}, 3]},
                {
                    "key": "b",
                    "type": "branch",
                    "condition": {"task_outcome": "done"},
                    "then": [{"key": "deep", "type": "telegram"}],
                },
            ],
            "triggers": "form.submitted",
            "goals": [{"lifecycle": "sql"}, 4],
            "send_window": {"start": "09:00", "end": "17:00", "days": "monday"},
            "quiet_hours": "night",
        }
    ) == [
        "steps[0]: must be an object",
        "steps[1].until: must be an object",
        "steps[1].topics: must be a list",
        "steps[2].paths[0].steps: must be a list",
        'steps[2].paths[1]: must be {"percent": N, "steps": [...]}',
        "steps[3].then[0].type: must be one of " + ", ".join(definition.STEP_TYPES),
        "steps[3].condition.task_outcome: must be a list",
        "triggers: must be a list",
        "goals[1]: must be an object",
        "goals[0].lifecycle: must be a list",
        "send_window.days: must be a list",
        "quiet_hours: must be an object",
    ]
    nested = {"key": "n", "type": "branch", "then": [{"key": "g", "type": "goal"}] * 200}
    assert refused({"steps": [nested]}) == [
        f"steps[0].then[199]: a sequence holds at most {definition.MAX_STEPS} steps"
    ]
    huge = {"steps": [{"key": "t", "type": "task", "instructions": "x" * 2_000_000}]}
    assert refused(huge) == ["definition: is too large: at most 2,000,000 characters"]


def test_problems_lists_what_activation_would_refuse_without_raising(db: Session) -> None:
    assert definition.problems(db, {"steps": [{"key": "won", "type": "goal"}]}) == []
    found = definition.problems(
        db, {"steps": [{"key": "a", "type": "email", "template_id": 987654}]}
    )
    assert [p.describe() for p in found] == ["steps[0].template_id: no such template (987654)"]
