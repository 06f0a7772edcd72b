"""The experiments store: validation naming fields, the life cycle, the audit trail."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.experiments import store
from campaigns.experiments.assign import Member, choose
from campaigns.experiments.store import VariantInput
from nurture.errors import Conflict, InvalidInput, NotFound
from nurture.models import AuditEntry, Experiment, Sequence
from tests.experiments.expdomain_helpers import make_sequence, template
from tests.factories import make_contact

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)
TWO = [VariantInput("a", "Control"), VariantInput("b", "Question", content={"subject": "Ready?"})]


@pytest.fixture
def sequence(db: Session) -> Sequence:
    return make_sequence(db, template(db))


def _create(db: Session, sequence: Sequence, **overrides: Any) -> Experiment:
    fields: dict[str, Any] = {
        "actor": "mia@firm.example",
        "name": "Subject test",
        "kind": "step",
        "variants": TWO,
        "sequence_id": sequence.id,
        "step_key": "intro",
    }
    fields.update(overrides)
    experiment = store.create_experiment(db, **fields)
    db.commit()
    return experiment


def _fields(exc: pytest.ExceptionInfo[InvalidInput]) -> dict[str, str]:
    return {p.field: p.message for p in exc.value.problems}


def test_a_new_experiment_is_a_draft_with_equal_shares_and_an_audit_entry(
    db: Session, sequence: Sequence
) -> None:
    experiment = _create(db, sequence)
    assert experiment.status == "draft"
    assert experiment.default_variant == "a"
    variants = store.variants_of(db, experiment.id)
    assert [(v.key, v.weight, v.content) for v in variants] == [
        ("a", 0.5, {}),
        ("b", 0.5, {"subject": "Ready?"}),
    ]
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "experiment.created")).one()
    assert (entry.actor, entry.entity_id) == ("mia@firm.example", str(experiment.id))
    assert store.experiment_of_step(db, sequence_id=sequence.id, step_key="intro") == experiment


def test_weights_that_do_not_add_up_to_one_are_refused_naming_the_variants(
    db: Session, sequence: Sequence
) -> None:
    uneven = [
        VariantInput("a", weight=0.5),
        VariantInput("b", weight=0.4, content={"subject": "Ready?"}),
    ]
    with pytest.raises(InvalidInput) as refused:
        _create(db, sequence, variants=uneven)
    assert "add up to 0.9" in _fields(refused)["variants"]
    # Within a thousandth is fine: three thirds typed as 0.333.
    thirds = [
        VariantInput("a", weight=0.333),
        VariantInput("b", weight=0.333, content={"subject": "B"}),
        VariantInput("c", weight=0.333, content={"subject": "C"}),
    ]
    assert _create(db, sequence, variants=thirds).id


def test_every_problem_is_named_at_once(db: Session, sequence: Sequence) -> None:
    variants = [
        VariantInput("a", weight=0.5),
        VariantInput("b", weight=None),
        VariantInput("c", weight=0.5, content={"template_id": 987654, "colour": "red"}),
    ]
    with pytest.raises(InvalidInput) as refused:
        _create(
            db,
            sequence,
            variants=variants,
            metric="conversion",
            window_days=0,
            alpha=0.5,
            default_variant="z",
        )
    fields = _fields(refused)
    assert "a weight, or none" in fields["variants[1].weight"]
    assert "must change something" in fields["variants[1].content"]
    assert "not something a variant can change" in fields["variants[2].content.colour"]
    assert "conversion_event" in fields
    assert "window_days" in fields
    assert "alpha" in fields
    assert "default_variant" in fields


def test_an_unknown_template_or_a_version_it_does_not_have_is_refused(
    db: Session, sequence: Sequence
) -> None:
    with pytest.raises(InvalidInput) as unknown:
        _create(db, sequence, variants=[TWO[0], VariantInput("b", content={"template_id": 4242})])
    assert _fields(unknown) == {"variants[1].content.template_id": "no template with id 4242"}
    with pytest.raises(InvalidInput) as version:
        _create(db, sequence, variants=[TWO[0], VariantInput("b", content={"version": 7})])
    assert "has no version 7" in _fields(version)["variants[1].content.version"]
    other = template(db)
    pinned = [TWO[0], VariantInput("b", content={"template_id": other, "version": 1})]
    assert _create(db, sequence, variants=pinned).id


def test_the_step_must_exist_and_fit_the_kind(db: Session, sequence: Sequence) -> None:
    with pytest.raises(InvalidInput) as missing:
        _create(db, sequence, step_key="nope")
    assert "has no step 'nope'" in _fields(missing)["step_key"]
    with pytest.raises(InvalidInput) as not_mail:
        _create(db, sequence, step_key="fork")
    assert "not a mail step" in _fields(not_mail)["step_key"]
    with pytest.raises(InvalidInput) as split_metric:
        _create(
            db,
            sequence,
            kind="split",
            step_key="fork",
            variants=[VariantInput("0"), VariantInput("1")],
            metric="clicks",
        )
    assert "goal or an event" in _fields(split_metric)["metric"]


def test_a_split_experiment_takes_its_paths_percents_as_weights(
    db: Session, sequence: Sequence
) -> None:
    experiment = _create(
        db,
        sequence,
        kind="split",
        step_key="fork",
        variants=[VariantInput("0", "Case study path"), VariantInput("1", "Webinar path")],
        metric="goal",
    )
    assert experiment.default_variant == "0"
    assert [(v.key, v.weight) for v in store.variants_of(db, experiment.id)] == [
        ("0", 0.6),
        ("1", 0.4),
    ]
    with pytest.raises(InvalidInput) as three:
        _create(
            db,
            make_sequence(db, template(db)),
            kind="split",
            step_key="fork",
            variants=[VariantInput("0"), VariantInput("1"), VariantInput("2")],
            metric="goal",
        )
    assert "2 paths" in _fields(three)["variants"]


def test_one_experiment_per_step(db: Session, sequence: Sequence) -> None:
    _create(db, sequence)
    with pytest.raises(Conflict):
        _create(db, sequence, name="Second try")


def test_a_draft_changes_freely_a_running_test_only_what_does_not_bias_it(
    db: Session, sequence: Sequence
) -> None:
    experiment = _create(db, sequence)
    three = [*TWO, VariantInput("c", "Short", content={"subject": "Now"})]
    store.update_experiment(db, experiment.id, actor="mia", variants=three, metric="opens")
    db.commit()
    assert [v.key for v in store.variants_of(db, experiment.id)] == ["a", "b", "c"]
    assert experiment.metric == "opens"
    store.start_experiment(db, experiment.id, actor="mia", now=NOW)
    db.commit()
    with pytest.raises(InvalidInput) as running:
        store.update_experiment(db, experiment.id, actor="mia", variants=TWO, min_effect=0.1)
    assert set(_fields(running)) == {"variants", "min_effect"}
    store.update_experiment(
        db, experiment.id, actor="mia", name="Subject lines", guardrail_stop=True
    )
    db.commit()
    assert (experiment.name, experiment.guardrail_stop) == ("Subject lines", True)
    actions = db.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.entity_type == "experiment")
        .order_by(AuditEntry.id)
    ).all()
    assert actions == [
        "experiment.created",
        "experiment.updated",
        "experiment.started",
        "experiment.updated",
    ]


def test_start_reads_the_event_log_from_now_on_and_starts_exposing(
    db: Session, sequence: Sequence
) -> None:
    experiment = _create(db, sequence)
    contact = make_contact(db)
    db.commit()
    assert not choose(db, experiment.id, [Member(contact.id)], now=NOW)[contact.id].exposed
    store.start_experiment(db, experiment.id, actor="mia", now=NOW)
    db.commit()
    assert experiment.status == "running"
    assert experiment.started_at == NOW
    assert experiment.planned_per_variant is None  # no baseline: the first look fixes it
    assert choose(db, experiment.id, [Member(contact.id)], now=NOW)[contact.id].exposed
    with pytest.raises(Conflict):
        store.start_experiment(db, experiment.id, actor="mia", now=NOW)


def test_a_stopped_test_gives_everyone_new_the_default(db: Session, sequence: Sequence) -> None:
    experiment = _create(db, sequence, default_variant="b")
    store.start_experiment(db, experiment.id, actor="mia", now=NOW)
    db.commit()
    stopped = store.stop_variant(db, experiment.id, "a", actor="mia", now=NOW, reason="wordy")
    assert (stopped.stopped_at, stopped.stopped_reason) == (NOW, "wordy")
    with pytest.raises(Conflict, match="last variant"):
        store.stop_variant(db, experiment.id, "b", actor="mia", now=NOW, reason="")
    store.stop_experiment(db, experiment.id, actor="mia", now=NOW, reason="season over")
    db.commit()
    assert (experiment.status, experiment.decision_reason) == ("stopped", "season over")
    contact = make_contact(db)
    db.commit()
    assert choose(db, experiment.id, [Member(contact.id)], now=NOW)[contact.id].variant_key == "b"
    with pytest.raises(Conflict):
        store.stop_experiment(db, experiment.id, actor="mia", now=NOW)


def test_declaring_needs_a_running_test_and_a_known_variant(
    db: Session, sequence: Sequence
) -> None:
    experiment = _create(db, sequence)
    with pytest.raises(Conflict, match="only a running"):
        store.declare_winner(db, experiment.id, variant_key="b", actor="mia", now=NOW)
    store.start_experiment(db, experiment.id, actor="mia", now=NOW)
    db.commit()
    with pytest.raises(InvalidInput) as unknown:
        store.declare_winner(db, experiment.id, variant_key="q", actor="mia", now=NOW)
    assert "variant_key" in _fields(unknown)
    with pytest.raises(NotFound):
        store.get_experiment(db, 999_999)


def test_the_definition_is_plain_json(db: Session, sequence: Sequence) -> None:
    experiment = _create(db, sequence, conversion_event="meeting.booked", metric="conversion")
    doc = store.definition(db, experiment.id)
    assert doc["conversion_event"] == "meeting.booked"
    assert [v["key"] for v in doc["variants"]] == ["a", "b"]
    assert doc["started_at"] is None
    assert store.list_experiments(db, sequence_id=sequence.id) == [experiment]
    assert store.list_experiments(db, status="running") == []


def test_malformed_variants_are_named_not_crashed_on(db: Session, sequence: Sequence) -> None:
    odd: Any = [
        VariantInput("a", name=7),  # type: ignore[arg-type]
        VariantInput(3, content=["subject"]),  # type: ignore[arg-type]
        VariantInput("b", "bad\x00name", content={"subject": " ", "from_name": "A <b>"}),
    ]
    with pytest.raises(InvalidInput) as refused:
        _create(db, sequence, variants=odd)
    fields = _fields(refused)
    assert {
        "variants[0].name",
        "variants[1].key",
        "variants[1].content",
        "variants[2].name",
        "variants[2].content.subject",
        "variants[2].content.from_name",
    } <= set(fields)


def test_a_subject_that_would_not_render_is_refused_before_anything_is_sent(
    db: Session, sequence: Sequence
) -> None:
    broken = [TWO[0], VariantInput("b", content={"subject": "Hi {{ contact.first_name"})]
    with pytest.raises(InvalidInput) as refused:
        _create(db, sequence, variants=broken)
    assert list(_fields(refused)) == ["variants[1].content.subject"]
    unknown = [TWO[0], VariantInput("b", content={"preheader": "{{ settings.secret_key }}"})]
    with pytest.raises(InvalidInput) as outside:
        _create(db, sequence, variants=unknown)
    assert list(_fields(outside)) == ["variants[1].content.preheader"]
