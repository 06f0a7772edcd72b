"""The demo's funnel: scored contacts, a published predictive model, and hand-offs in
every rep's inbox (one accepted, one rejected and recycled), then the running A/B test
and the finished newsletter broadcast, loaded once.

The demo is loaded once per database for the whole module (it takes seconds); the
tests only read it, except the last, which runs the funnel seeding again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.config import Settings
from nurture.db import session_scope
from nurture.demo.broadcasts import OPENS, SUBJECTS, seed_demo_broadcast
from nurture.demo.content import seed_demo_content, seed_demo_library
from nurture.demo.experiments import seed_demo_experiment
from nurture.demo.funnel import REJECT_REASON, FunnelResult, seed_demo_funnel
from nurture.demo.history import seed_demo_history
from nurture.demo.loader import USERS, load_demo
from nurture.demo.sequences import LEGAL, demo_mailer, seed_demo_sequences
from nurture.models import (
    BehaviourRule,
    Broadcast,
    BroadcastRecipient,
    CapturedEmail,
    Contact,
    EmailMessage,
    Enrolment,
    Event,
    Experiment,
    FitRule,
    Handoff,
    LifecycleChange,
    PredictiveModel,
    Role,
    Sequence,
    User,
    utcnow,
)
from nurture.scoring import predictive
from tests.conftest import BACKENDS, _empty_tables

# 2,500 contacts: enough clients (50+) for the model to learn from, a held-out quarter
# big enough for its AUC to mean something, and hand-offs for both reps.
SCALE = 0.5


@dataclass(frozen=True, slots=True)
class Demo:
    url: str
    settings: Settings
    funnel: FunnelResult
    experiment: int | None
    broadcast: int | None


@pytest.fixture(scope="module", params=BACKENDS)
def demo(
    request: pytest.FixtureRequest,
    database_urls: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Demo]:
    """Every step of `nurture demo`, in its order, on an empty database of each kind."""
    url = database_urls[request.param]
    settings = Settings(
        data_dir=Path(tmp_path_factory.mktemp("demo-funnel")),
        database_url=url,
        secret_key="test-secret-" + "x" * 40,
    )
    with session_scope(url) as db:
        seed_demo_library(db)
        db.commit()
        load_demo(db, scale=SCALE)
        seed_demo_content(db)
        seed_demo_sequences(db, mailer=demo_mailer(settings))
        seed_demo_history(db)
        funnel = seed_demo_funnel(db, mailer=demo_mailer(settings))
        experiment = seed_demo_experiment(db, now=utcnow())
        broadcast = seed_demo_broadcast(db, mailer=demo_mailer(settings), now=utcnow())
    yield Demo(url, settings, funnel, experiment, broadcast)
    _empty_tables(url)


@pytest.fixture
def db(demo: Demo) -> Iterator[Session]:
    with session_scope(demo.url) as session:
        yield session


def rep_ids(db: Session) -> list[int]:
    emails = [user.email for user in USERS if user.role is Role.SALES]
    return list(db.scalars(select(User.id).where(User.email.in_(emails)).order_by(User.id)))


def test_contacts_have_scores_and_grades(demo: Demo, db: Session) -> None:
    assert demo.funnel.rules > 0
    assert demo.funnel.rescored > 0
    total = db.scalar(select(func.count()).select_from(Contact)) or 0
    scored = db.scalar(select(func.count()).where(Contact.score > 0)) or 0
    graded = set(db.scalars(select(Contact.fit_grade).distinct()))
    # Most contacts did something worth points; every grade is there, none is missing.
    assert scored > total / 2
    assert {"A", "B", "C", "D"} <= graded
    assert None not in graded


def test_the_predictive_model_is_published_and_contacts_have_probabilities(
    demo: Demo, db: Session
) -> None:
    assert demo.funnel.model.startswith("published"), demo.funnel.model
    model = predictive.current_model(db)
    assert model is not None
    auc = model.metrics["auc"]
    assert predictive.AUC_FLOOR <= auc < 0.98, auc
    assert model.metrics["positives"] >= predictive.MIN_POSITIVES
    # Every live contact carries a probability, and they differ from one to another.
    missing = db.scalar(
        select(func.count()).where(
            Contact.erased_at.is_(None), Contact.predicted_probability.is_(None)
        )
    )
    assert missing == 0
    lowest, highest = db.execute(
        select(func.min(Contact.predicted_probability), func.max(Contact.predicted_probability))
    ).one()
    assert lowest is not None
    assert highest is not None
    assert 0 < lowest < highest < 1
    # The model learnt the story the demo tells: clients were engaged before they signed.
    weights = dict(zip(model.spec["features"], model.spec["coefficients"], strict=True))
    assert weights["page_visits"] > 0
    assert weights["form_submissions"] > 0


def test_each_rep_has_pending_handoffs_one_accepted_one_recycled(demo: Demo, db: Session) -> None:
    reps = rep_ids(db)
    pending = dict(
        db.execute(
            select(Handoff.owner_id, func.count())
            .where(Handoff.state == "pending")
            .group_by(Handoff.owner_id)
        ).all()
    )
    assert all(pending.get(rep, 0) > 0 for rep in reps), pending
    states = dict(db.execute(select(Handoff.state, func.count()).group_by(Handoff.state)).all())
    assert states.get("accepted") == 1
    assert states.get("rejected") == 1
    assert demo.funnel.handoffs == sum(states.values())

    accepted = db.scalars(select(Handoff).where(Handoff.state == "accepted")).one()
    assert demo.funnel.accepted == accepted.id
    assert db.get(Contact, accepted.contact_id).lifecycle_stage == "sql"  # type: ignore[union-attr]

    rejected = db.scalars(select(Handoff).where(Handoff.state == "rejected")).one()
    assert demo.funnel.rejected == rejected.id
    contact = db.get(Contact, rejected.contact_id)
    assert contact is not None
    assert contact.lifecycle_stage == "lead"
    # The settings reset a recycled lead's score to 20.
    assert contact.score == 20
    legal = db.scalar(select(Sequence.id).where(Sequence.name == LEGAL))
    assert rejected.recycled_sequence_id == legal
    assert db.scalar(
        select(func.count()).where(
            Enrolment.contact_id == contact.id, Enrolment.sequence_id == legal
        )
    )
    reason = db.scalar(
        select(LifecycleChange.reason)
        .where(LifecycleChange.contact_id == contact.id, LifecycleChange.to_stage == "lead")
        .order_by(LifecycleChange.occurred_at.desc())
        .limit(1)
    )
    assert reason is not None
    assert REJECT_REASON in reason


def test_the_reps_were_emailed_about_their_handoffs(db: Session) -> None:
    assert db.scalar(select(func.count()).where(Handoff.notified_at.is_(None))) == 0
    owners = dict(
        db.execute(
            select(User.email, func.count())
            .join(Handoff, Handoff.owner_id == User.id)
            .group_by(User.email)
        ).all()
    )
    assert len(owners) == len(rep_ids(db))
    for email, handoffs in owners.items():
        received = db.scalar(select(func.count()).where(CapturedEmail.recipients.contains(email)))
        assert (received or 0) >= handoffs, email


def test_a_second_run_of_the_funnel_adds_nothing(demo: Demo, db: Session) -> None:
    def totals() -> tuple[int, ...]:
        db.expire_all()
        return tuple(
            db.scalar(select(func.count()).select_from(model)) or 0
            for model in (
                BehaviourRule,
                FitRule,
                PredictiveModel,
                Handoff,
                CapturedEmail,
                LifecycleChange,
                Event,
                Enrolment,
            )
        )

    before = totals()
    again = seed_demo_funnel(db, mailer=demo_mailer(demo.settings))
    db.commit()
    assert again == FunnelResult()
    assert totals() == before


def test_the_legal_case_study_runs_an_ab_test_whose_page_has_data(demo: Demo, db: Session) -> None:
    assert demo.experiment is not None
    experiment = db.get(Experiment, demo.experiment)
    assert experiment is not None
    assert experiment.status == "running"
    assert experiment.results is not None
    arms = {arm["key"]: arm for arm in experiment.results["arms"]}
    assert set(arms) == {"a", "b"}
    assert all(arm["delivered"] > 100 for arm in arms.values())
    # The question subject is ahead in the history, not yet by enough to name it.
    assert arms["b"]["rate"] > arms["a"]["rate"]
    assert experiment.results["decision"]["winner"] is None
    assert experiment.results["plan"]["more_needed"] > 0
    assert seed_demo_experiment(db, now=utcnow()) is None


def test_the_newsletter_was_sent_to_everyone_after_its_test_picked_a_subject(
    demo: Demo, db: Session
) -> None:
    assert demo.broadcast is not None
    broadcast = db.get(Broadcast, demo.broadcast)
    assert broadcast is not None
    assert broadcast.status == "sent"
    # "b" was opened far more often in the test group: the rule named it, the rest got it.
    assert max(OPENS, key=lambda key: OPENS[key]) == "b"
    assert broadcast.rest_variant == "b"
    states = dict(
        db.execute(
            select(BroadcastRecipient.state, func.count())
            .where(BroadcastRecipient.broadcast_id == broadcast.id)
            .group_by(BroadcastRecipient.state)
        ).all()
    )
    assert states.get("pending", 0) == 0
    assert states.get("sent", 0) > broadcast.total * 0.9
    # Each recipient has one message, and the rest's carry the winning subject.
    keys = db.scalar(
        select(func.count(func.distinct(EmailMessage.idempotency_key))).where(
            EmailMessage.idempotency_key.like(f"bc:{broadcast.id}:%")
        )
    )
    assert keys == states["sent"]
    rest_subjects = set(
        db.scalars(
            select(EmailMessage.subject)
            .join(BroadcastRecipient, BroadcastRecipient.message_id == EmailMessage.id)
            .where(
                BroadcastRecipient.broadcast_id == broadcast.id, BroadcastRecipient.phase == "rest"
            )
        )
    )
    assert rest_subjects == {SUBJECTS["b"]}
    assert seed_demo_broadcast(db, mailer=demo_mailer(demo.settings), now=utcnow()) is None
