"""The review_email step, event waits since enrolment and branches on an event's
properties, run by the engine against a real database and the capture mailbox."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.email.mailconfig import MailConfig
from campaigns.email.store import VariantInput, create_template
from campaigns.sequences import content_steps, definition
from campaigns.sequences.engine import REVIEWS_MISSING, Mailer, Verdict, run_step
from nurture.errors import InvalidInput
from nurture.events import EventInput, ingest
from nurture.models import (
    CapturedEmail,
    Contact,
    EmailMessage,
    Enrolment,
    EnrolmentState,
    Event,
    StepRun,
    utcnow,
)
from tests.factories import make_contact
from tests.sequences.helpers import drive, enrol, make_sequence, outcomes, reload

SURVEY_BODY = """<mjml><mj-body><mj-section><mj-column>
<mj-text>How did {{ project.name }} go, {{ contact.first_name | default("there", true) }}?</mj-text>
<mj-text><a href="{{ unsubscribe_url }}">Unsubscribe</a></mj-text>
</mj-column></mj-section></mj-body></mjml>"""


@dataclass
class FakeSurveys:
    """A review kind standing in for what nurture.reviews registers: it remembers calls."""

    pick: int | None = 41
    chosen_for: list[tuple[int, int]] = field(default_factory=list)  # (contact, enrolment)
    sent: list[tuple[int, int]] = field(default_factory=list)  # (item, message)

    def choose(
        self,
        session: Session,
        contact: Contact,
        spec: Mapping[str, Any],
        now: datetime,
        enrolment: Enrolment,
    ) -> int | None:
        self.chosen_for.append((contact.id, enrolment.id))
        return self.pick

    def context(
        self, session: Session, item_id: int, contact: Contact, config: MailConfig
    ) -> dict[str, Any] | None:
        return {"project": {"name": f"Project {item_id}"}}

    def after_sent(
        self, session: Session, item_id: int, message: EmailMessage, now: datetime
    ) -> None:
        self.sent.append((item_id, message.id))

    def kind(self) -> content_steps.ContentKind:
        return content_steps.ContentKind(
            "review_email", "survey_id", "nps.sent", self.choose, self.context, self.after_sent
        )


@pytest.fixture
def surveys(monkeypatch: pytest.MonkeyPatch) -> FakeSurveys:
    fake = FakeSurveys()
    # The registry is process-wide: the test's kind must not outlive the test.
    monkeypatch.setattr(content_steps, "_REGISTRY", {})
    content_steps.register("review_email:nps", fake.kind())
    return fake


@pytest.fixture
def survey_template(db: Session) -> int:
    template = create_template(
        db,
        name="Survey",
        topic="feedback",
        actor="test",
        variants={"en": VariantInput("How did we do?", SURVEY_BODY, "One question")},
    )
    db.commit()
    return template.id


def add_event(db: Session, contact_id: int, kind: str, when: datetime, **props: object) -> None:
    ingest(db, [(0, EventInput(kind, when, dict(props), contact_id=contact_id))], source="test")
    db.commit()


def review_step(template_id: int, ask: str = "nps", key: str = "ask") -> dict[str, Any]:
    return {"key": key, "type": "review_email", "ask": ask, "template_id": template_id}


# Definitions -------------------------------------------------------------------


def test_a_review_email_step_is_a_mail_step_whose_ask_is_named_when_wrong() -> None:
    flow = definition.parse(
        {
            "steps": [
                review_step(7),
                {
                    "key": "opened",
                    "type": "branch",
                    "condition": {"event": "email.opened", "step": "ask"},
                    "then": [{"key": "a", "type": "goal"}],
                    "else": [{"key": "b", "type": "exit"}],
                },
            ]
        }
    )
    assert flow.template_ids() == {7}

    with pytest.raises(InvalidInput) as caught:
        definition.parse(
            {
                "steps": [
                    {"key": "w", "type": "wait", "duration": {"days": 1}},
                    {"key": "x", "type": "wait", "duration": {"days": 1}},
                    {"key": "ask", "type": "review_email", "ask": "praise", "topics": ["x"]},
                ]
            }
        )
    found = {(p.field, p.message) for p in caught.value.problems}
    assert found == {
        ("steps[2].ask", "must be one of nps, feedback, testimonial, referral"),
        ("steps[2].template_id", "must be a template id (a positive integer)"),
        ("steps[2].topics", "is not a field of a review_email step"),
    }


@pytest.mark.parametrize(
    ("wait", "where", "message"),
    [
        ({"duration": {"days": 1}, "since": "enrolment"}, "since", "only applies when waiting"),
        ({"event": "nps.answered", "timeout": {"days": 5}, "since": "wait"}, "since", "must be"),
        ({"event": "nps.answered", "timeout": {"days": 5}, "since": None}, "since", "must be"),
    ],
)
def test_only_an_event_wait_may_count_events_since_enrolment(
    wait: dict[str, Any], where: str, message: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        definition.parse({"steps": [{"key": "w", "type": "wait", **wait}]})
    assert [(p.field, p.message[: len(message)]) for p in caught.value.problems] == [
        (f"steps[0].{where}", message)
    ]


@pytest.mark.parametrize(
    ("where", "field"),
    [
        ([], "where"),
        ({}, "where"),
        ({f"p{n}": 1 for n in range(11)}, "where"),
        ({"9lives": 1}, "where.9lives"),
        ({"score": 9.5}, "where.score"),
        ({"score": []}, "where.score"),
        ({"score": [1, [2]]}, "where.score"),
        ({"category": {"in": ["promoter"]}}, "where.category"),
        ({"category": "x" * 201}, "where.category"),
        ({"score": 2**64}, "where.score"),
    ],
)
def test_a_branch_where_names_what_is_wrong(where: object, field: str) -> None:
    raw = {
        "steps": [
            {
                "key": "b",
                "type": "branch",
                "condition": {"event": "nps.answered", "where": where},
                "then": [{"key": "t", "type": "goal"}],
                "else": [{"key": "e", "type": "exit"}],
            }
        ]
    }
    with pytest.raises(InvalidInput) as caught:
        definition.parse(raw)
    assert [p.field for p in caught.value.problems] == [f"steps[0].condition.{field}"]


def test_a_branch_where_accepts_text_numbers_flags_and_lists_of_them() -> None:
    condition = {
        "event": "nps.answered",
        "where": {"category": ["promoter", "passive"], "score": 9, "reminder": False},
    }
    flow = definition.parse(
        {
            "steps": [
                {
                    "key": "b",
                    "type": "branch",
                    "condition": condition,
                    "then": [{"key": "t", "type": "goal"}],
                    "else": [{"key": "e", "type": "exit"}],
                }
            ]
        }
    )
    assert flow.steps["b"].spec["condition"] == condition


# The step ------------------------------------------------------------------------


def test_without_a_registered_review_kind_the_enrolment_fails_saying_why(
    db: Session, mailer: Mailer, survey_template: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(content_steps, "_REGISTRY", {})
    now = utcnow()
    sequence = make_sequence(db, [review_step(survey_template)])
    enrolment = enrol(db, sequence, make_contact(db).id, now)

    results = drive(db, enrolment, now, mailer)

    assert results[-1].verdict is Verdict.FINISHED
    row = reload(db, enrolment)
    assert (row.state, row.exit_reason) == (EnrolmentState.FAILED, REVIEWS_MISSING)
    assert REVIEWS_MISSING == "review e-mail steps are not available"
    assert db.scalars(select(CapturedEmail)).all() == []


def test_a_review_email_sends_the_registered_kinds_pick_once_and_records_it(
    db: Session, mailer: Mailer, survey_template: int, surveys: FakeSurveys
) -> None:
    now = utcnow()
    sequence = make_sequence(
        db,
        [review_step(survey_template), {"key": "later", "type": "wait", "duration": {"days": 1}}],
    )
    contact = make_contact(db, first_name="Ada")
    enrolment = enrol(db, sequence, contact.id, now)

    first = run_step(db, enrolment, "ask", now=now, mailer=mailer)
    again = run_step(db, enrolment, "ask", now=now, mailer=mailer)  # a duplicate message

    assert (first.verdict, first.step_key, again.verdict) == (
        Verdict.ADVANCED,
        "later",
        Verdict.SKIPPED,
    )
    mails = db.scalars(select(CapturedEmail)).all()
    assert len(mails) == 1
    assert "How did Project 41 go, Ada?" in mails[0].raw.decode(errors="replace").replace(
        "=\r\n", ""
    )
    message = db.scalars(select(EmailMessage)).one()
    assert surveys.chosen_for == [(contact.id, enrolment)]
    assert surveys.sent == [(41, message.id)]
    events = db.scalars(select(Event).where(Event.type == "nps.sent")).all()
    assert [(e.contact_id, e.properties) for e in events] == [
        (contact.id, {"survey_id": 41, "message_id": message.id})
    ]
    run = db.scalars(select(StepRun).where(StepRun.step_key == "ask")).one()
    assert run.detail["survey_id"] == 41


def test_a_review_email_with_nothing_to_ask_moves_on_without_mail(
    db: Session, mailer: Mailer, survey_template: int, surveys: FakeSurveys
) -> None:
    surveys.pick = None
    now = utcnow()
    sequence = make_sequence(db, [review_step(survey_template), {"key": "done", "type": "goal"}])
    enrolment = enrol(db, sequence, make_contact(db).id, now)

    drive(db, enrolment, now, mailer)

    assert outcomes(db, enrolment) == {"ask": content_steps.NONE_FITTING, "done": "goal"}
    assert db.scalars(select(CapturedEmail)).all() == []
    assert surveys.sent == []
    assert db.scalars(select(Event).where(Event.type == "nps.sent")).all() == []


def test_another_ask_needs_its_own_registration(
    db: Session, mailer: Mailer, survey_template: int, surveys: FakeSurveys
) -> None:
    now = utcnow()
    sequence = make_sequence(db, [review_step(survey_template, ask="referral")])
    enrolment = enrol(db, sequence, make_contact(db).id, now)

    drive(db, enrolment, now, mailer)

    assert reload(db, enrolment).exit_reason == REVIEWS_MISSING
    assert surveys.chosen_for == []


# Waits since enrolment -------------------------------------------------------------


@pytest.mark.parametrize(("since", "outcome"), [("enrolment", "event"), (None, None)])
def test_a_wait_since_enrolment_passes_at_once_for_an_answer_given_before_it_began(
    db: Session, mailer: Mailer, since: str | None, outcome: str | None
) -> None:
    now = utcnow()
    wait: dict[str, Any] = {
        "key": "answer",
        "type": "wait",
        "event": "nps.answered",
        "timeout": {"days": 5},
    }
    if since is not None:
        wait["since"] = since
    sequence = make_sequence(
        db,
        [
            {"key": "pause", "type": "wait", "duration": {"days": 2}},
            wait,
            {"key": "g", "type": "goal"},
        ],
    )
    contact = make_contact(db)
    enrolment = enrol(db, sequence, contact.id, now)
    drive(db, enrolment, now, mailer)
    add_event(db, contact.id, "nps.answered", now + timedelta(days=1), score=9)

    results = drive(db, enrolment, now + timedelta(days=2), mailer)

    assert outcomes(db, enrolment).get("answer") == outcome
    if since is None:
        assert results[-1].verdict is Verdict.POSTPONED
        assert reload(db, enrolment).step_key == "answer"


def test_an_answer_before_the_enrolment_does_not_count_since_enrolment(
    db: Session, mailer: Mailer
) -> None:
    now = utcnow()
    contact = make_contact(db)
    add_event(db, contact.id, "nps.answered", now - timedelta(minutes=1), score=3)
    sequence = make_sequence(
        db,
        [
            {
                "key": "answer",
                "type": "wait",
                "event": "nps.answered",
                "timeout": {"days": 5},
                "since": "enrolment",
            }
        ],
    )
    enrolment = enrol(db, sequence, contact.id, now)

    assert drive(db, enrolment, now, mailer)[-1].verdict is Verdict.POSTPONED


# Branches on event properties ------------------------------------------------------


def category_branch(where: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    condition: dict[str, Any] = {"event": "nps.answered"}
    if where is not None:
        condition["where"] = where
    return [
        {"key": "pause", "type": "wait", "duration": {"days": 3}},
        {
            "key": "route",
            "type": "branch",
            "condition": condition,
            "then": [{"key": "yes", "type": "goal"}],
            "else": [{"key": "no", "type": "exit"}],
        },
    ]


def route(
    db: Session,
    mailer: Mailer,
    where: Mapping[str, Any] | None,
    answers: list[dict[str, Any]],
) -> str | None:
    """Enrol a contact, record their answers a day apart, and say which arm was taken."""
    now = utcnow()
    contact = make_contact(db)
    enrolment = enrol(db, make_sequence(db, category_branch(where)), contact.id, now)
    drive(db, enrolment, now, mailer)
    for day, answer in enumerate(answers, start=1):
        add_event(db, contact.id, "nps.answered", now + timedelta(days=day), **answer)
    drive(db, enrolment, now + timedelta(days=3), mailer)
    return outcomes(db, enrolment).get("route")


def test_the_latest_answer_decides_a_branch_on_its_category(db: Session, mailer: Mailer) -> None:
    promoters = {"category": ["promoter"]}
    assert route(db, mailer, promoters, [{"category": "promoter", "score": 9}]) == "then"
    assert route(db, mailer, promoters, [{"category": "passive", "score": 8}]) == "else"
    # A changed answer: only the latest counts, whichever way it moved.
    changed_up = [{"category": "passive", "score": 7}, {"category": "promoter", "score": 10}]
    changed_down = list(reversed(changed_up))
    assert route(db, mailer, promoters, changed_up) == "then"
    assert route(db, mailer, promoters, changed_down) == "else"
    assert route(db, mailer, promoters, []) == "else"


def test_a_branch_where_compares_each_property_and_tells_flags_from_numbers(
    db: Session, mailer: Mailer
) -> None:
    assert (
        route(
            db,
            mailer,
            {"score": [9, 10], "category": "promoter"},
            [{"score": 9, "category": "promoter"}],
        )
        == "then"
    )
    assert (
        route(
            db,
            mailer,
            {"score": [9, 10], "category": "promoter"},
            [{"score": 9, "category": "passive"}],
        )
        == "else"
    )
    assert route(db, mailer, {"reminder": True}, [{"reminder": 1}]) == "else"
    assert route(db, mailer, {"reminder": True}, [{"reminder": True}]) == "then"
    assert route(db, mailer, {"score": 1}, [{"score": True}]) == "else"
    assert route(db, mailer, {"service": "audit"}, [{"score": 9}]) == "else"


def test_a_branch_without_where_still_asks_only_whether_the_event_happened(
    db: Session, mailer: Mailer
) -> None:
    assert route(db, mailer, None, [{"category": "detractor"}]) == "then"
    assert route(db, mailer, None, []) == "else"


def test_a_branch_where_on_a_steps_mail_reads_that_mails_latest_event(
    db: Session, mailer: Mailer, template_id: int
) -> None:
    now = utcnow()
    contact = make_contact(db)
    sequence = make_sequence(
        db,
        [
            {"key": "mail", "type": "email", "template_id": template_id},
            {"key": "pause", "type": "wait", "duration": {"days": 3}},
            {
                "key": "route",
                "type": "branch",
                "condition": {
                    "event": "email.clicked",
                    "step": "mail",
                    "where": {"machine": False},
                },
                "then": [{"key": "yes", "type": "goal"}],
                "else": [{"key": "no", "type": "exit"}],
            },
        ],
    )
    enrolment = enrol(db, sequence, contact.id, now)
    drive(db, enrolment, now, mailer)
    message = db.scalars(select(EmailMessage)).one()
    add_event(
        db,
        contact.id,
        "email.clicked",
        now + timedelta(hours=1),
        message_id=message.id,
        machine=False,
    )
    # A later click on some other e-mail does not hide this one's.
    add_event(
        db, contact.id, "email.clicked", now + timedelta(hours=2), message_id=-1, machine=True
    )

    drive(db, enrolment, now + timedelta(days=3), mailer)

    assert outcomes(db, enrolment)["route"] == "then"
