"""Sequences running experiments: mail steps send the contact's variant (kept forever as an
exposure), a variant's delay postpones its e-mail, and split steps take the experiment's path."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage as Mail
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from campaigns.delivery.smtp import SmtpPool
from campaigns.delivery.smtp_url import parse_smtp_url
from campaigns.email.mailconfig import MailConfig
from campaigns.experiments import assign
from campaigns.experiments.validation import VariantInput
from campaigns.sequences import batch, experiments_of, versions
from campaigns.sequences.caps import FrequencyCap
from campaigns.sequences.conditions import effect_key
from campaigns.sequences.engine import Limits, Mailer, Verdict, split_bucket
from campaigns.sequences.enrol import enrol_contacts
from campaigns.sequences.scheduler import claim_due
from nurture.config import Settings
from nurture.errors import Conflict, InvalidInput
from nurture.models import (
    CapturedEmail,
    EmailMessage,
    Enrolment,
    Experiment,
    ExperimentStatus,
    ExperimentVariant,
    Exposure,
    StepRun,
    utcnow,
)
from templates.message import Address
from tests.email.smtpd import Behaviour, smtp_server
from tests.factories import make_contact
from tests.sequences.helpers import drive, enrol, make_sequence, outcomes, reload
from tests.webinars.helpers import make_story, sink_mailer, story_template

NO_CAP = Limits(cap=FrequencyCap(limit=0))
TWO = [VariantInput("a", "Control"), VariantInput("b", "Short", content={"subject": "Hi"})]
SHORT = {"subject": "Quick one, {{ contact.first_name }}", "from_name": "Ada at Firm"}


def mail_sequence(db: Session, template_id: int, **settings: Any) -> int:
    return make_sequence(
        db,
        [
            {"key": "intro", "type": "email", "template_id": template_id},
            {"key": "done", "type": "goal"},
        ],
        **settings,
    )


def mail_experiment(
    db: Session,
    sequence_id: int,
    b_content: dict[str, Any],
    *,
    weights: tuple[float, float] = (0.5, 0.5),
    status: ExperimentStatus = ExperimentStatus.RUNNING,
) -> Experiment:
    experiment = experiments_of.create_for_step(
        db,
        sequence_id,
        "intro",
        actor="test",
        variants=[
            VariantInput("a", "Control", weights[0]),
            VariantInput("b", "Short", weights[1], b_content),
        ],
    )
    experiment.status = status.value
    db.commit()
    return experiment


def set_weights(db: Session, experiment_id: int, weights: dict[str, float]) -> None:
    for key, weight in weights.items():
        db.execute(
            update(ExperimentVariant)
            .where(ExperimentVariant.experiment_id == experiment_id, ExperimentVariant.key == key)
            .values(weight=weight)
        )
    db.commit()


def salt_splitting(db: Session, experiment: Experiment, contact_ids: list[int]) -> None:
    """A salt under which these contacts fall into both halves (chosen, not hoped for)."""
    for n in range(1000):
        salt = f"salt-{n}"
        if len({assign.bucket(salt, c) < 0.5 for c in contact_ids}) == 2:
            experiment.salt = salt
            db.commit()
            return
    raise AssertionError("no salt splits the contacts")  # pragma: no cover


def expected_variant(db: Session, experiment_id: int, contact_id: int) -> str:
    experiment = db.get(Experiment, experiment_id)
    assert experiment is not None
    variants = db.scalars(
        select(ExperimentVariant).where(ExperimentVariant.experiment_id == experiment_id)
    ).all()
    return assign.pick(
        assign.bucket(experiment.salt, contact_id), assign.shares(experiment, variants)
    )


def exposures(db: Session, experiment_id: int) -> dict[int, Exposure]:
    rows = db.scalars(
        select(Exposure)
        .where(Exposure.experiment_id == experiment_id)
        .execution_options(populate_existing=True)
    )
    return {e.contact_id: e for e in rows}


def captured(db: Session, contact_email: str) -> list[Mail]:
    out = []
    for raw in db.scalars(
        select(CapturedEmail.raw).where(CapturedEmail.recipients == contact_email)
    ):
        mail = message_from_bytes(raw, policy=policy.default)
        assert isinstance(mail, Mail)
        out.append(mail)
    return out


def run_due(db: Session, now: Any, mailer: Mailer) -> batch.BatchResults:
    claimed = claim_due(db, now=now)
    db.commit()
    return batch.run_steps(db, claimed, now=now, mailer=mailer, limits=NO_CAP)


@pytest.fixture
def mail_config(settings: Settings) -> MailConfig:
    base = MailConfig.from_settings(settings)
    return MailConfig(
        base_url=base.base_url,
        secret=base.secret,
        sender=Address("news@firm.example", "Firm News"),
        brand=base.brand,
        message_id_domain="firm.example",
    )


@pytest.fixture
def sink() -> Iterator[tuple[int, Behaviour]]:
    with smtp_server() as server:
        yield server


def test_a_batch_sends_each_contact_its_variant_to_the_smtp_server_with_one_choice(
    db: Session,
    template_id: int,
    mail_config: MailConfig,
    sink: tuple[int, Behaviour],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port, server = sink
    now = utcnow()
    sequence = mail_sequence(db, template_id)
    experiment = mail_experiment(db, sequence, SHORT)
    contacts = [make_contact(db, first_name=f"Lee{n}") for n in range(10)]
    salt_splitting(db, experiment, [c.id for c in contacts])
    enrolments = {c.id: enrol(db, sequence, c.id, now) for c in contacts}
    calls: list[int] = []
    real_choose = assign.choose

    def counted(*args: Any, **kwargs: Any) -> dict[int, assign.Choice]:
        calls.append(len(args[2]))
        return real_choose(*args, **kwargs)

    monkeypatch.setattr(experiments_of, "choose", counted)
    transport = SmtpPool(parse_smtp_url(f"smtp://127.0.0.1:{port}"), size=2)
    try:
        results = run_due(db, now, Mailer(transport, mail_config))
    finally:
        transport.close()

    assert {r.verdict for r in results.values()} == {Verdict.ADVANCED}
    assert calls == [10]  # one choice for the whole group, not one per contact
    exposed = exposures(db, experiment.id)
    assert set(exposed) == {c.id for c in contacts}
    by_address = {r.rcpt_tos[0]: r.parsed() for r in server.received}
    assert len(by_address) == 10
    seen = set()
    for contact in contacts:
        exposure = exposed[contact.id]
        assert exposure.variant_key == expected_variant(db, experiment.id, contact.id)
        assert exposure.message_key == effect_key(enrolments[contact.id], "intro")
        assert exposure.enrolment_id == enrolments[contact.id]
        mail = by_address[str(contact.email)]
        sender = mail["From"].addresses[0]
        if exposure.variant_key == "b":
            assert mail["Subject"] == f"Quick one, {contact.first_name}"
            assert sender.display_name == "Ada at Firm"
        else:
            assert mail["Subject"] == f"Your guide, {contact.first_name}"
            assert sender.display_name == "Firm News"
        assert sender.addr_spec == "news@firm.example"
        seen.add(exposure.variant_key)
    assert seen == {"a", "b"}


def test_the_same_contact_keeps_its_variant_across_a_rerun_a_crash_and_a_decision(
    db: Session, template_id: int, mailer: Mailer, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = utcnow()
    sequence = mail_sequence(db, template_id)
    experiment = mail_experiment(db, sequence, SHORT, weights=(0.0, 1.0))
    contact = make_contact(db, first_name="Kim")
    enrolment = enrol(db, sequence, contact.id, now)
    claimed = claim_due(db, now=now)
    db.commit()

    def dies(*args: Any, **kwargs: Any) -> dict[str, tuple[int, str]]:
        raise RuntimeError("the worker died before handing the e-mail over")

    monkeypatch.setattr(batch, "send_keyed", dies)
    with pytest.raises(RuntimeError):
        batch.run_steps(db, claimed, now=now, mailer=mailer, limits=NO_CAP)
    monkeypatch.undo()
    db.rollback()
    run = db.scalars(select(StepRun).where(StepRun.enrolment_id == enrolment)).one()
    assert run.effect_key == effect_key(enrolment, "intro")
    assert run.detail == {experiments_of.VARIANT: "b"}
    # Decided for the control meanwhile: new contacts get "a", this one keeps "b".
    db.execute(
        update(Experiment)
        .where(Experiment.id == experiment.id)
        .values(status=ExperimentStatus.DECIDED.value, winner_variant="a")
    )
    db.commit()

    results = batch.run_steps(db, claimed, now=now, mailer=mailer, limits=NO_CAP)
    again = batch.run_steps(db, claimed, now=now, mailer=mailer, limits=NO_CAP)

    assert results[enrolment].verdict is Verdict.ADVANCED
    assert again[enrolment].verdict is Verdict.SKIPPED
    (mail,) = captured(db, str(contact.email))
    assert mail["Subject"] == "Quick one, Kim"
    assert [e.variant_key for e in exposures(db, experiment.id).values()] == ["b"]
    message = db.scalars(select(EmailMessage).where(EmailMessage.contact_id == contact.id)).one()
    assert message.overrides is not None
    # A newcomer gets the winner, unrecorded.
    newcomer = make_contact(db, first_name="Noa")
    enrol(db, sequence, newcomer.id, now)
    run_due(db, now, mailer)
    (mail,) = captured(db, str(newcomer.email))
    assert mail["Subject"] == "Your guide, Noa"
    assert set(exposures(db, experiment.id)) == {contact.id}


def test_a_contact_keeps_its_variant_in_a_new_version_of_the_sequence(
    db: Session, template_id: int, mailer: Mailer
) -> None:
    now = utcnow()
    sequence = mail_sequence(db, template_id, reenrol="after_finish")
    experiment = mail_experiment(db, sequence, SHORT, weights=(0.0, 1.0))
    contact = make_contact(db, first_name="Rae")
    first = enrol(db, sequence, contact.id, now)
    drive(db, first, now, mailer, NO_CAP)
    assert outcomes(db, first)["done"] == "goal"
    versions.edit_sequence(
        db,
        sequence,
        steps_definition={
            "steps": [
                {"key": "intro", "type": "email", "template_id": template_id},
                {"key": "pause", "type": "wait", "duration": {"minutes": 1}},
                {"key": "done", "type": "goal"},
            ],
            "reenrol": "after_finish",
        },
    )
    db.commit()
    set_weights(db, experiment.id, {"a": 1.0, "b": 0.0})  # a fresh choice would be "a"

    later = now + timedelta(days=1)
    assert enrol_contacts(db, sequence, [contact.id], now=later).enrolled == [contact.id]
    db.commit()
    second = db.scalars(
        select(Enrolment.id).where(Enrolment.contact_id == contact.id, Enrolment.id != first)
    ).one()
    assert reload(db, second).version_id != reload(db, first).version_id
    run_due(db, later, mailer)

    subjects = sorted(m["Subject"] for m in captured(db, str(contact.email)))
    assert subjects == ["Quick one, Rae", "Quick one, Rae"]
    (exposure,) = exposures(db, experiment.id).values()
    assert (exposure.variant_key, exposure.enrolment_id) == ("b", first)


def test_a_variant_delay_postpones_its_email_from_the_step_start(
    db: Session, template_id: int, mailer: Mailer
) -> None:
    now = utcnow()
    sequence = mail_sequence(db, template_id)
    experiment = mail_experiment(db, sequence, {"delay": {"hours": 2}}, weights=(0.0, 1.0))
    batched = make_contact(db)
    alone = make_contact(db)
    in_batch = enrol(db, sequence, batched.id, now)

    results = run_due(db, now, mailer)
    single = enrol(db, sequence, alone.id, now)
    steps = drive(db, single, now, mailer, NO_CAP)

    for enrolment, result in ((in_batch, results[in_batch]), (single, steps[-1])):
        assert result.verdict is Verdict.POSTPONED
        assert result.outcome == "variant_delay"
        assert reload(db, enrolment).next_run_at == now + timedelta(hours=2)
    assert captured(db, str(batched.email)) == []
    assert captured(db, str(alone.email)) == []
    assert {e.variant_key for e in exposures(db, experiment.id).values()} == {"b"}

    assert run_due(db, now + timedelta(hours=1), mailer) == {}
    results = run_due(db, now + timedelta(hours=2), mailer)

    assert {r.verdict for r in results.values()} == {Verdict.ADVANCED}
    assert len(captured(db, str(batched.email))) == 1
    assert len(captured(db, str(alone.email))) == 1
    assert reload(db, in_batch).step_key == "done"


def test_one_by_one_the_engine_sends_the_variant_and_records_its_exposure(
    db: Session, template_id: int, mailer: Mailer
) -> None:
    now = utcnow()
    sequence = mail_sequence(db, template_id)
    experiment = mail_experiment(db, sequence, SHORT, weights=(0.0, 1.0))
    contact = make_contact(db, first_name="Ola")
    enrolment = enrol(db, sequence, contact.id, now)

    drive(db, enrolment, now, mailer, NO_CAP)

    (mail,) = captured(db, str(contact.email))
    assert mail["Subject"] == "Quick one, Ola"
    assert mail["From"].addresses[0].display_name == "Ada at Firm"
    (exposure,) = exposures(db, experiment.id).values()
    assert exposure.message_key == effect_key(enrolment, "intro")
    assert exposure.variant_key == "b"


def test_a_draft_experiment_sends_the_control_and_exposes_nobody(
    db: Session, template_id: int, mailer: Mailer
) -> None:
    now = utcnow()
    sequence = mail_sequence(db, template_id)
    experiment = mail_experiment(
        db, sequence, SHORT, weights=(0.0, 1.0), status=ExperimentStatus.DRAFT
    )
    contact = make_contact(db, first_name="Ivo")
    enrol(db, sequence, contact.id, now)

    run_due(db, now, mailer)

    (mail,) = captured(db, str(contact.email))
    assert mail["Subject"] == "Your guide, Ivo"
    assert exposures(db, experiment.id) == {}


def split_sequence(db: Session) -> int:
    return make_sequence(
        db,
        [
            {
                "key": "fork",
                "type": "split",
                "paths": [
                    {"percent": 50, "steps": [{"key": "left", "type": "goal"}]},
                    {"percent": 50, "steps": [{"key": "right", "type": "goal"}]},
                ],
            },
        ],
    )


def test_split_paths_follow_the_experiment_and_its_winner(db: Session, mailer: Mailer) -> None:
    now = utcnow()
    sequence = split_sequence(db)
    experiment = experiments_of.create_for_step(db, sequence, "fork", actor="test", metric="goal")
    variants = db.scalars(
        select(ExperimentVariant)
        .where(ExperimentVariant.experiment_id == experiment.id)
        .order_by(ExperimentVariant.position)
    ).all()
    assert [(v.key, v.weight) for v in variants] == [("0", 0.5), ("1", 0.5)]
    experiment.status = ExperimentStatus.RUNNING.value
    db.commit()
    set_weights(db, experiment.id, {"0": 0.0, "1": 1.0})
    contacts = [make_contact(db) for _ in range(6)]
    enrolments = [enrol(db, sequence, c.id, now) for c in contacts]

    run_due(db, now, mailer)

    assert {outcomes(db, e)["fork"] for e in enrolments} == {"path:1"}
    assert {reload(db, e).step_key for e in enrolments} == {"right"}
    exposed = exposures(db, experiment.id)
    assert set(exposed) == {c.id for c in contacts}
    assert {(e.variant_key, e.message_key) for e in exposed.values()} == {("1", None)}

    db.execute(
        update(Experiment)
        .where(Experiment.id == experiment.id)
        .values(status=ExperimentStatus.DECIDED.value, winner_variant="0")
    )
    db.commit()
    newcomers = [make_contact(db) for _ in range(4)]
    later = [enrol(db, sequence, c.id, now) for c in newcomers]
    run_due(db, now, mailer)

    assert {outcomes(db, e)["fork"] for e in later} == {"path:0"}
    assert {reload(db, e).step_key for e in later} == {"left"}
    assert set(exposures(db, experiment.id)) == {c.id for c in contacts}


def test_the_builder_lists_a_sequences_experiments_and_refuses_a_second_one(
    db: Session, template_id: int
) -> None:
    sequence = mail_sequence(db, template_id)
    experiment = mail_experiment(db, sequence, SHORT, status=ExperimentStatus.DRAFT)

    listed = experiments_of.of_sequence(db, sequence)

    assert list(listed) == ["intro"]
    assert (listed["intro"].id, listed["intro"].variants) == (experiment.id, 2)
    with pytest.raises(Conflict):
        experiments_of.create_for_step(db, sequence, "intro", actor="test", variants=TWO)
    with pytest.raises(InvalidInput) as goal:
        experiments_of.create_for_step(db, sequence, "done", actor="test", variants=TWO)
    assert [p.field for p in goal.value.problems] == ["step_key"]


def test_a_draft_split_experiment_leaves_the_split_to_its_percents(
    db: Session, mailer: Mailer
) -> None:
    now = utcnow()
    sequence = split_sequence(db)
    experiment = experiments_of.create_for_step(db, sequence, "fork", actor="test", metric="goal")
    db.commit()
    set_weights(db, experiment.id, {"0": 0.0, "1": 1.0})
    enrolments = [enrol(db, sequence, make_contact(db).id, now) for _ in range(8)]

    run_due(db, now, mailer)

    for enrolment in enrolments:
        path = 0 if split_bucket(sequence, enrolment, "fork") < 50 else 1
        assert outcomes(db, enrolment)["fork"] == f"path:{path}"
    assert exposures(db, experiment.id) == {}


def test_a_case_study_step_sends_its_variant_with_the_picked_story(
    db: Session, settings: Settings
) -> None:
    make_story(db, "Contract review in hours")
    template = story_template(db)
    contact = make_contact(db, first_name="Una")
    sequence = make_sequence(db, [{"key": "intro", "type": "case_study", "template_id": template}])
    content = {"subject": "A story for you, {{ contact.first_name }}", "delay": {"minutes": 30}}
    experiment = mail_experiment(db, sequence, content, weights=(0.0, 1.0))
    now = utcnow()
    enrolment = enrol(db, sequence, contact.id, now)

    with sink_mailer(settings) as (mailer, behaviour):
        (waiting,) = drive(db, enrolment, now, mailer)
        sent = drive(db, enrolment, now + timedelta(minutes=30), mailer)

    assert (waiting.verdict, waiting.outcome) == (Verdict.POSTPONED, "variant_delay")
    assert sent[0].outcome == "sent"
    assert [r.parsed()["Subject"] for r in behaviour.received] == ["A story for you, Una"]
    run = db.scalars(select(StepRun).where(StepRun.enrolment_id == enrolment)).one()
    assert run.detail[experiments_of.VARIANT] == "b"
    assert "case_study_id" in run.detail
    (exposure,) = exposures(db, experiment.id).values()
    assert exposure.message_key == effect_key(enrolment, "intro")
