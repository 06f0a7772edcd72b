"""Referrals: the advocate's code, a colleague's submission becoming a credited lead, the
refusals that reveal nothing, statuses from events, thanks once per stage, rewards."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.sequences.control import stop_sequence
from campaigns.sequences.engine import Mailer
from nurture.config import Settings
from nurture.contacts.addresses import email_hash
from nurture.db import session_scope
from nurture.errors import Conflict, InvalidInput, NotFound
from nurture.events import EventInput, ingest
from nurture.models import (
    AuditEntry,
    Contact,
    EmailMessage,
    Enrolment,
    Event,
    Referral,
    Suppression,
)
from nurture.reviews import referrals, review_settings
from nurture.reviews.referrals import ReferralForm
from tests.email.conftest import make_template
from tests.email.smtpd import Behaviour
from tests.factories import make_contact
from tests.reviews.advocacy_helpers import client_contact
from tests.sequences.helpers import make_sequence
from tests.webinars.helpers import sink_mailer

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
FORM = ReferralForm(
    email="  Daniel.Reed@Northwind.example ",
    first_name="Daniel",
    last_name="Reed",
    company="Northwind Traders",
    consent=True,
    locale="en",
)


@pytest.fixture
def sink(settings: Settings) -> Iterator[tuple[Mailer, Behaviour]]:
    with sink_mailer(settings) as pair:
        yield pair


@pytest.fixture
def template_id(db: Session) -> int:
    return make_template(db)


def _code(db: Session) -> tuple[Contact, str]:
    advocate = client_contact(db, email="emma@harbor.example")
    code = referrals.code_for(db, advocate.id, now=NOW)
    db.commit()
    return advocate, code.code


def _event(db: Session, contact_id: int, kind: str, props: dict[str, object]) -> int:
    item = EventInput(kind, NOW, props, None, contact_id=contact_id)
    [event_id] = ingest(db, [(0, item)], source="test").stored_event_ids
    db.commit()
    return event_id


def test_each_advocate_has_one_code_hard_to_guess_and_easy_to_read(db: Session) -> None:
    advocate, code = _code(db)
    assert referrals.code_for(db, advocate.id, now=NOW).code == code
    assert len(code) == 10
    assert set(code) <= set(referrals.CODE_ALPHABET)
    assert not set("01ilo") & set(referrals.CODE_ALPHABET)
    other = referrals.code_for(db, make_contact(db).id, now=NOW).code
    assert other != code
    page = referrals.page_view(db, code.upper())
    assert (page.advocate_first_name, page.company_name) == ("Emma", "Harbor Freight Logistics")
    assert (
        referrals.referral_url("https://firm.example/", code)
        == f"https://firm.example/refer/{code}"
    )
    with pytest.raises(NotFound):
        referrals.page_view(db, "zzzzzzzzzz")


def test_a_new_colleague_becomes_a_lead_credited_to_the_advocate_and_enrolled(
    db: Session, template_id: int
) -> None:
    advocate, code = _code(db)
    sequence_id = make_sequence(db, [{"key": "hello", "type": "email", "template_id": template_id}])
    settings = review_settings.get(db)
    settings.referral_sequence_id = sequence_id
    db.commit()

    done = referrals.submit(db, code, FORM, now=NOW)
    db.commit()

    assert done.outcome == "lead"
    lead = db.scalar(select(Contact).where(Contact.email == "daniel.reed@northwind.example"))
    assert lead is not None
    assert lead.referred_by_id == advocate.id
    assert lead.lifecycle_stage == "lead"
    assert lead.attributes["source"] == "referral"
    assert lead.attributes["referral_consent"]["given_at"] == NOW.isoformat()
    assert lead.company is not None
    assert lead.company.name == "Northwind Traders"
    referral = db.get(Referral, done.referral_id)
    assert referral is not None
    assert (referral.status, referral.advocate_id, referral.referred_contact_id) == (
        "lead",
        advocate.id,
        lead.id,
    )
    assert referral.sequence_id == sequence_id
    assert (
        db.scalar(select(Enrolment.contact_id).where(Enrolment.sequence_id == sequence_id))
        == lead.id
    )
    [event] = db.scalars(select(Event).where(Event.id.in_(done.event_ids))).all()
    assert (event.type, event.contact_id) == ("referral.submitted", lead.id)
    assert event.properties == {"referral_id": referral.id, "advocate_id": advocate.id}


@pytest.mark.parametrize("case", ["self", "duplicate", "known", "suppressed"])
def test_refusals_keep_only_the_reason_and_look_alike_to_the_public(db: Session, case: str) -> None:
    _advocate, code = _code(db)
    form = FORM
    if case == "self":
        form = ReferralForm(email="EMMA@harbor.example", first_name="Emma", consent=True)
    elif case == "duplicate":
        referrals.submit(db, code, FORM, now=NOW)
    elif case == "known":
        make_contact(db, email="daniel.reed@northwind.example")
    else:
        db.add(Suppression(email_hash=email_hash("daniel.reed@northwind.example"), reason="erased"))
    db.commit()
    before = db.scalar(select(func.count()).select_from(Contact))

    done = referrals.submit(db, code, form, now=NOW + timedelta(minutes=5))
    db.commit()

    expected = {"self": "self", "duplicate": "duplicate", "known": "known", "suppressed": "known"}
    assert done.outcome == expected[case]
    assert done.event_ids == ()
    refused = db.get(Referral, done.referral_id)
    assert refused is not None
    assert (refused.status, refused.refusal, refused.referred_contact_id) == (
        "refused",
        expected[case],
        None,
    )
    assert db.scalar(select(func.count()).select_from(Contact)) == before


def test_a_form_with_no_consent_or_a_bad_address_names_its_fields(db: Session) -> None:
    _, code = _code(db)
    bad = ReferralForm(email="not-an-address", first_name=" ", company="x" * 201)
    with pytest.raises(InvalidInput) as caught:
        referrals.submit(db, code, bad, now=NOW)
    assert [p.field for p in caught.value.problems] == ["email", "first_name", "company", "consent"]
    assert db.scalar(select(func.count()).select_from(Referral)) == 0


def test_two_racing_submissions_of_one_address_make_one_lead(db: Session, db_url: str) -> None:
    _, code = _code(db)
    start = threading.Barrier(2)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def attempt() -> None:
        try:
            with session_scope(db_url) as session:
                start.wait()
                outcomes.append(referrals.submit(session, code, FORM, now=NOW).outcome)
        except BaseException as exc:  # noqa: BLE001 - the main thread re-raises what a worker met
            errors.append(exc)

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    db.expire_all()
    # SQLite may refuse a writer that waited too long; nothing else may go wrong.
    assert all("locked" in str(e) for e in errors), errors
    if db_url.startswith("postgresql"):
        assert sorted(outcomes) == ["duplicate", "lead"]
    assert (
        db.scalar(
            select(func.count()).select_from(Contact).where(Contact.referred_by_id.is_not(None))
        )
        == 1
    )
    live = select(func.count()).select_from(Referral).where(Referral.status != "refused")
    assert db.scalar(live) == 1


def test_statuses_move_on_from_qualification_and_winning_once(db: Session) -> None:
    advocate, code = _code(db)
    done = referrals.submit(db, code, FORM, now=NOW)
    db.commit()
    lead_id = db.scalar(select(Referral.referred_contact_id).where(Referral.id == done.referral_id))
    assert lead_id is not None
    assert referrals.advance(db, list(done.event_ids)) == [done.referral_id]

    qualified = _event(db, lead_id, "lead.qualified", {"score": 80})
    assert referrals.advance(db, [qualified]) == [done.referral_id]
    assert referrals.advance(db, [qualified]) == []
    won = _event(db, lead_id, "lifecycle.changed", {"from": "sql", "to": "customer"})
    assert referrals.advance(db, [won]) == [done.referral_id]
    db.commit()

    referral = db.get(Referral, done.referral_id, populate_existing=True)
    assert referral is not None
    assert (referral.status, referral.reward_state) == ("won", "pending")
    assert referral.qualified_at is not None
    assert referral.won_at is not None
    statuses = db.scalars(
        select(Event.properties["status"].as_string())
        .where(Event.type == "referral.status", Event.contact_id == advocate.id)
        .order_by(Event.id)
    ).all()
    assert statuses == ["qualified", "won"]


def test_the_advocate_is_thanked_once_at_each_chosen_stage(
    db: Session, sink: tuple[Mailer, Behaviour]
) -> None:
    mailer, behaviour = sink
    _advocate, code = _code(db)
    settings = review_settings.get(db)
    settings.thank_stages = ["lead", "won"]
    settings.reward_text = "We donate 250 pounds to a charity you choose."
    db.commit()
    done = referrals.submit(db, code, FORM, now=NOW)
    db.commit()
    assert done.referral_id is not None

    def thank(ids: list[int]) -> list[int]:
        return referrals.thank_advocates(
            db, ids, transport=mailer.transport, config=mailer.config, now=NOW
        )

    assert len(thank(referrals.advance(db, list(done.event_ids)))) == 1
    assert thank([done.referral_id]) == []  # the same stage again: nothing more
    lead_id = db.scalar(select(Referral.referred_contact_id).where(Referral.id == done.referral_id))
    assert lead_id is not None
    # Qualified is not a chosen stage: no thanks.
    assert thank(referrals.advance(db, [_event(db, lead_id, "lead.qualified", {})])) == []
    won = _event(db, lead_id, "lifecycle.changed", {"from": "sql", "to": "customer"})
    assert len(thank(referrals.advance(db, [won]))) == 1

    assert [r.rcpt_tos for r in behaviour.received] == [["emma@harbor.example"]] * 2
    last = behaviour.received[-1].parsed()
    text = last.get_body(("plain",))
    assert text is not None
    body = text.get_content()
    assert "Daniel has become our client" in body
    assert "We donate 250 pounds" in body
    messages = db.scalars(select(EmailMessage).order_by(EmailMessage.id)).all()
    assert [m.idempotency_key for m in messages] == [
        f"referral:{done.referral_id}:thanks:lead",
        f"referral:{done.referral_id}:thanks:won",
    ]
    assert messages[-1].extra["referral_url"].endswith(f"/refer/{code}")


def test_only_a_pending_reward_is_decided_and_approval_marks_it_rewarded(db: Session) -> None:
    advocate, code = _code(db)
    done = referrals.submit(db, code, FORM, now=NOW)
    db.commit()
    assert done.referral_id is not None
    with pytest.raises(Conflict):
        referrals.decide_reward(
            db, done.referral_id, approve=True, note="", user="boss@firm.example", now=NOW
        )
    lead_id = db.scalar(select(Referral.referred_contact_id).where(Referral.id == done.referral_id))
    assert lead_id is not None
    won = _event(db, lead_id, "lifecycle.changed", {"from": "sql", "to": "customer"})
    referrals.advance(db, [won])
    db.commit()

    later = NOW + timedelta(days=3)
    referral = referrals.decide_reward(
        db,
        done.referral_id,
        approve=True,
        note="Gift card sent",
        user="boss@firm.example",
        now=later,
    )
    db.commit()
    assert (referral.status, referral.reward_state, referral.rewarded_at) == (
        "rewarded",
        "approved",
        later,
    )
    assert referral.reward_note == "Gift card sent"
    with pytest.raises(Conflict):
        referrals.decide_reward(
            db, done.referral_id, approve=False, note="", user="boss@firm.example", now=later
        )
    audit = db.scalar(select(AuditEntry).where(AuditEntry.action == "referral.reward_approved"))
    assert audit is not None
    assert audit.actor == "boss@firm.example"
    rewarded = db.scalar(
        select(Event.id).where(
            Event.type == "referral.status",
            Event.contact_id == advocate.id,
            Event.properties["status"].as_string() == "rewarded",
        )
    )
    assert rewarded is not None
    # The rewarded event comes back through the event workers: thank at that stage.
    assert referrals.advance(db, [rewarded]) == [done.referral_id]


def test_a_declined_reward_leaves_the_referral_won(db: Session) -> None:
    _, code = _code(db)
    done = referrals.submit(db, code, FORM, now=NOW)
    db.commit()
    assert done.referral_id is not None
    lead_id = db.scalar(select(Referral.referred_contact_id).where(Referral.id == done.referral_id))
    assert lead_id is not None
    referrals.advance(db, [_event(db, lead_id, "lifecycle.changed", {"to": "customer"})])
    referral = referrals.decide_reward(
        db, done.referral_id, approve=False, note="Own colleague", user="b", now=NOW
    )
    assert (referral.status, referral.reward_state) == ("won", "declined")


def test_a_stopped_referral_sequence_still_keeps_the_new_lead(
    db: Session, template_id: int
) -> None:
    _, code = _code(db)
    sequence_id = make_sequence(db, [{"key": "hello", "type": "email", "template_id": template_id}])
    stop_sequence(db, sequence_id, now=NOW)
    review_settings.get(db).referral_sequence_id = sequence_id
    db.commit()
    done = referrals.submit(db, code, FORM, now=NOW)
    db.commit()
    referral = db.get(Referral, done.referral_id)
    assert referral is not None
    assert (done.outcome, referral.status, referral.sequence_id) == ("lead", "lead", None)


def test_a_russian_speaking_advocate_is_thanked_in_russian(
    db: Session, sink: tuple[Mailer, Behaviour]
) -> None:
    mailer, behaviour = sink
    advocate = client_contact(db, email="anna@harbor.example", locale="ru", first_name="Анна")
    code = referrals.code_for(db, advocate.id, now=NOW).code
    done = referrals.submit(db, code, FORM, now=NOW)
    db.commit()
    assert done.referral_id is not None
    sent = referrals.thank_advocates(
        db, [done.referral_id], transport=mailer.transport, config=mailer.config, now=NOW
    )
    assert len(sent) == 1
    text = behaviour.received[0].parsed().get_body(("plain",))
    assert text is not None
    assert "Daniel связался(ась) с нами" in text.get_content()  # noqa: RUF001
