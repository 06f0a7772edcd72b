"""The case_study and webinar_invite steps: what they pick, send and record, on a real
SMTP server on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.sequences import definition
from campaigns.sequences.conditions import effect_key
from campaigns.sequences.engine import Mailer, Verdict, run_step
from nurture.config import Settings
from nurture.contacts import upsert_contact
from nurture.errors import InvalidInput
from nurture.events import EventInput, ingest
from nurture.models import (
    Company,
    Contact,
    EmailMessage,
    Event,
    StepRun,
    WebinarRegistration,
    utcnow,
)
from templates.render import signer_for
from tests.email.smtpd import Behaviour
from tests.factories import make_contact
from tests.sequences.helpers import drive, enrol, make_sequence, outcomes, reload
from tests.webinars.helpers import (
    invite_template,
    make_service,
    make_story,
    make_webinar,
    sink_mailer,
    story_template,
)


@pytest.fixture
def sink(settings: Settings) -> Iterator[tuple[Mailer, Behaviour]]:
    with sink_mailer(settings) as pair:
        yield pair


def lawyer(db: Session, **fields: object) -> Contact:
    company = Company(name="Hartley & Moss", industry="legal")
    db.add(company)
    db.flush()
    contact = make_contact(db, **fields)
    contact.company_id = company.id
    db.commit()
    db.refresh(contact)
    return contact


def subjects(behaviour: Behaviour) -> list[str]:
    return [str(r.parsed()["Subject"]) for r in behaviour.received]


def events_of(db: Session, contact_id: int, kind: str) -> list[dict[str, object]]:
    return list(
        db.scalars(
            select(Event.properties).where(Event.contact_id == contact_id, Event.type == kind)
        )
    )


def test_case_study_step_sends_the_story_from_the_contacts_industry_and_records_it(
    db: Session, sink: tuple[Mailer, Behaviour]
) -> None:
    mailer, behaviour = sink
    make_story(db, "Retail rollout", industry="retail")
    legal = make_story(
        db,
        "Contract review in hours",
        result_metrics=[{"label": "faster reviews", "value": "80%"}],
        testimonial_quote="We got our weekends back",
        testimonial_author="Ann Moss",
    )
    template = story_template(db)
    contact = lawyer(db)
    sequence = make_sequence(db, [{"key": "story", "type": "case_study", "template_id": template}])
    enrolment = enrol(db, sequence, contact.id, utcnow())

    drive(db, enrolment, utcnow(), mailer)

    assert subjects(behaviour) == ["Story: Contract review in hours"]
    text = behaviour.received[0].parsed().get_body(("plain",))
    assert text is not None
    assert "Result: 80% faster reviews" in text.get_content()
    assert "We got our weekends back" in text.get_content()
    run = db.scalars(select(StepRun).where(StepRun.enrolment_id == enrolment)).one()
    assert run.detail["case_study_id"] == legal.id
    assert run.outcome == "sent"
    [sent] = events_of(db, contact.id, "case_study.sent")
    assert sent["case_study_id"] == legal.id


def test_a_contact_never_gets_the_same_case_study_twice(
    db: Session, sink: tuple[Mailer, Behaviour]
) -> None:
    mailer, behaviour = sink
    make_story(db, "First legal story")
    make_story(db, "Second legal story")
    template = story_template(db)
    contact = lawyer(db)
    sequence = make_sequence(
        db,
        [
            {"key": "one", "type": "case_study", "template_id": template},
            {"key": "two", "type": "case_study", "template_id": template},
            {"key": "three", "type": "case_study", "template_id": template},
            {"key": "end", "type": "goal"},
        ],
        send_window=None,
    )
    enrolment = enrol(db, sequence, contact.id, utcnow())

    drive(db, enrolment, utcnow(), mailer)

    assert sorted(subjects(behaviour)) == ["Story: First legal story", "Story: Second legal story"]
    assert outcomes(db, enrolment) == {
        "one": "sent",
        "two": "sent",
        "three": "none_fitting",
        "end": "goal",
    }


def test_no_fitting_case_study_moves_the_flow_on_without_mail(
    db: Session, sink: tuple[Mailer, Behaviour]
) -> None:
    mailer, behaviour = sink
    make_service(db, "data-platform")
    make_story(db, "Not about data")
    template = story_template(db)
    contact = lawyer(db)
    sequence = make_sequence(
        db,
        [
            {
                "key": "story",
                "type": "case_study",
                "template_id": template,
                "service": "data-platform",
            },
            {"key": "later", "type": "wait", "duration": {"days": 1}},
        ],
    )
    enrolment = enrol(db, sequence, contact.id, utcnow())

    results = drive(db, enrolment, utcnow(), mailer)

    assert results[0].outcome == "none_fitting"
    assert reload(db, enrolment).step_key == "later"
    assert behaviour.received == []
    assert db.scalars(select(EmailMessage.id)).all() == []


def test_service_and_topic_filters_restrict_and_clicked_topics_rank(
    db: Session, sink: tuple[Mailer, Behaviour]
) -> None:
    mailer, behaviour = sink
    service = make_service(db, "ai-readiness")
    make_story(db, "Other service", topics=["contracts"])
    make_story(db, "AI but off topic", service_id=service.id, topics=["hiring"])
    # Made first: newer stories win ties, so only the click can put this one first.
    make_story(db, "AI on compliance", service_id=service.id, topics=["compliance", "contracts"])
    make_story(db, "AI on contracts", service_id=service.id, topics=["contracts"])
    template = story_template(db)
    contact = lawyer(db)
    # The contact clicked a link to a story about compliance: that topic ranks first.
    make_story(
        db, "Clicked before", industry="retail", link="https://x.example/c", topics=["compliance"]
    )
    ingest(
        db,
        [
            (
                0,
                EventInput(
                    "email.clicked", utcnow(), {"url": "https://x.example/c"}, None, contact.id
                ),
            )
        ],
        source="test",
    )
    db.commit()
    sequence = make_sequence(
        db,
        [
            {
                "key": "story",
                "type": "case_study",
                "template_id": template,
                "service": "ai-readiness",
                "topics": ["Contracts"],
            }
        ],
    )
    enrolment = enrol(db, sequence, contact.id, utcnow())

    drive(db, enrolment, utcnow(), mailer)

    assert subjects(behaviour) == ["Story: AI on compliance"]


def test_a_rerun_after_a_crash_sends_the_story_picked_first_and_only_once(
    db: Session, sink: tuple[Mailer, Behaviour]
) -> None:
    mailer, behaviour = sink
    first = make_story(db, "Picked before the crash", industry="retail")
    template = story_template(db)
    contact = lawyer(db)
    sequence = make_sequence(db, [{"key": "story", "type": "case_study", "template_id": template}])
    now = utcnow()
    enrolment = enrol(db, sequence, contact.id, now)
    # The worker picked, wrote the pick and its key, then died before sending.
    db.add(
        StepRun(
            enrolment_id=enrolment,
            step_key="story",
            started_at=now,
            effect_key=effect_key(enrolment, "story"),
            detail={"case_study_id": first.id},
        )
    )
    db.commit()
    make_story(db, "A better fit added meanwhile")  # legal: it would win a fresh pick

    run_step(db, enrolment, "story", now=now, mailer=mailer)
    again = run_step(db, enrolment, "story", now=now, mailer=mailer)

    assert subjects(behaviour) == ["Story: Picked before the crash"]
    assert again.verdict is Verdict.SKIPPED
    assert len(events_of(db, contact.id, "case_study.sent")) == 1


def test_content_step_waits_for_quiet_hours_to_end_before_picking(
    db: Session, sink: tuple[Mailer, Behaviour]
) -> None:
    mailer, behaviour = sink
    make_story(db, "Night story")
    template = story_template(db)
    contact = lawyer(db, time_zone="Asia/Tokyo")
    sequence = make_sequence(
        db,
        [{"key": "story", "type": "case_study", "template_id": template}],
        quiet_hours={"start": "00:00", "end": "23:59"},
    )
    enrolment = enrol(db, sequence, contact.id, utcnow())

    [result] = drive(db, enrolment, utcnow(), mailer)

    assert result.verdict is Verdict.POSTPONED
    assert result.outcome == "send_window"
    assert behaviour.received == []
    run = db.scalars(select(StepRun).where(StepRun.enrolment_id == enrolment)).one()
    assert run.effect_key is None
    assert run.detail == {}


def test_webinar_invite_picks_the_next_fitting_webinar_with_a_signed_registration_link(
    db: Session, sink: tuple[Mailer, Behaviour], settings: Settings
) -> None:
    mailer, behaviour = sink
    now = utcnow()
    make_webinar(db, "Past one", now - timedelta(days=2))
    registered = make_webinar(db, "Already registered", now + timedelta(days=1))
    make_webinar(db, "For banks only", now + timedelta(days=2), industries=["banking"])
    chosen = make_webinar(db, "Compliance clinic", now + timedelta(days=3))
    make_webinar(db, "Later clinic", now + timedelta(days=4))
    template = invite_template(db)
    contact = lawyer(db, time_zone="Europe/Berlin")
    db.add(WebinarRegistration(webinar_id=registered.id, contact_id=contact.id))
    db.commit()
    sequence = make_sequence(
        db, [{"key": "invite", "type": "webinar_invite", "template_id": template}]
    )
    enrolment = enrol(db, sequence, contact.id, now)

    drive(db, enrolment, now, mailer)

    assert subjects(behaviour) == ["Join us: Compliance clinic"]
    html = behaviour.received[0].parsed().get_body(("html",))
    assert html is not None
    token = html.get_content().split("/w/")[1].split('"')[0]
    ref = signer_for(settings.secret_key).verify_webinar(token)
    assert (ref.contact_id, ref.webinar_id) == (contact.id, chosen.id)
    assert "Europe/Berlin" in html.get_content()
    [invited] = events_of(db, contact.id, "webinar.invited")
    assert invited["webinar_id"] == chosen.id
    run = db.scalars(select(StepRun).where(StepRun.enrolment_id == enrolment)).one()
    assert run.detail["webinar_id"] == chosen.id


def test_webinar_invite_with_topics_and_nothing_upcoming_on_them_is_none_fitting(
    db: Session, sink: tuple[Mailer, Behaviour]
) -> None:
    mailer, behaviour = sink
    make_webinar(db, "Hiring clinic", utcnow() + timedelta(days=3), topic="hiring")
    template = invite_template(db)
    contact, _ = upsert_contact(db, {"email": "solo@example.com"}, actor="test")
    db.commit()
    sequence = make_sequence(
        db,
        [{"key": "invite", "type": "webinar_invite", "template_id": template, "topics": ["ai"]}],
    )
    enrolment = enrol(db, sequence, contact.id, utcnow())

    drive(db, enrolment, utcnow(), mailer)

    assert behaviour.received == []
    assert outcomes(db, enrolment) == {"invite": "none_fitting"}
    assert reload(db, enrolment).state == "completed"


def test_content_steps_are_validated_with_named_paths(db: Session) -> None:
    template = story_template(db)
    good = {
        "steps": [
            {"key": "story", "type": "case_study", "template_id": template, "topics": ["ai"]},
            # Each step with a template of its own content: a story needs a case study.
            {"key": "invite", "type": "webinar_invite", "template_id": invite_template(db)},
            {
                "key": "clicked",
                "type": "branch",
                "condition": {"event": "email.clicked", "step": "story"},
                "then": [{"key": "won", "type": "goal"}],
                "else": [{"key": "lost", "type": "exit"}],
            },
        ]
    }
    definition.parse_checked(db, good)

    bad = {
        "steps": [
            {"key": "a", "type": "case_study", "template_id": 999999, "service": "no-such"},
            {"key": "b", "type": "case_study", "template_id": template, "service": "Bad Slug"},
            {"key": "c", "type": "webinar_invite", "topics": [], "audience": "x"},
        ]
    }
    with pytest.raises(InvalidInput) as parsed:
        definition.parse(bad)
    fields = {p.field for p in parsed.value.problems}
    assert fields == {
        "steps[1].service",
        "steps[2].template_id",
        "steps[2].topics",
        "steps[2].audience",
    }
    bad["steps"] = bad["steps"][:1]
    with pytest.raises(InvalidInput) as checked:
        definition.parse_checked(db, bad)
    assert {p.field for p in checked.value.problems} == {"steps[0].template_id", "steps[0].service"}
