"""A sequence with a mail step and a split, and experiments on it with counted exposures:
contacts and exposures are inserted set-based (the outcomes stamped as the metrics
refresh would), then the real results.compute writes the results document."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import count

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from campaigns.experiments import results, store
from campaigns.experiments.store import VariantInput
from campaigns.sequences import versions
from nurture.models import Contact, Exposure, utcnow
from tests.email.conftest import make_template

_batch = count(1)


@dataclass(frozen=True, slots=True)
class Built:
    sequence_id: int
    template_id: int
    other_template_id: int


def build_sequence(db: Session) -> Built:
    """ "Legal — compliance nurture": an e-mail step `intro`, a wait, a 50/50 split `fork`."""
    template_id = make_template(db, name="Case study: DORA")
    other = make_template(db, name="Case study: NIS2")
    sequence = versions.create_sequence(
        db,
        name="Legal — compliance nurture",
        steps_definition={
            "steps": [
                {"key": "intro", "type": "email", "template_id": template_id},
                {"key": "pause", "type": "wait", "duration": {"days": 2}},
                {
                    "key": "fork",
                    "type": "split",
                    "paths": [
                        {"percent": 50, "steps": [{"key": "call", "type": "task", "kind": "call"}]},
                        {"percent": 50, "steps": []},
                    ],
                },
            ]
        },
    )
    db.commit()
    return Built(sequence.id, template_id, other)


def step_experiment(
    db: Session,
    built: Built,
    *,
    baseline: float | None = 0.1,
    min_effect: float = 0.5,
    mode: str = "fixed",
) -> int:
    """A draft test of `intro`: the control and a new subject line."""
    experiment = store.create_experiment(
        db,
        actor="test",
        name="Case study subject",
        kind="step",
        variants=[
            VariantInput(key="a", name="Control"),
            VariantInput(key="b", name="Question subject", content={"subject": "Ready for DORA?"}),
        ],
        sequence_id=built.sequence_id,
        step_key="intro",
        metric="clicks",
        baseline_rate=baseline,
        min_effect=min_effect,
        mode=mode,
    )
    db.commit()
    return experiment.id


def expose(
    db: Session,
    experiment_id: int,
    variant_key: str,
    *,
    delivered: int,
    clicked: int,
    unsubscribed: int = 0,
    at: datetime | None = None,
) -> None:
    """`delivered` new contacts exposed to the variant, the first `clicked` of them clicked."""
    moment = at or utcnow() - timedelta(hours=2)
    tag = next(_batch)
    db.execute(
        insert(Contact),
        [
            {"email": f"x{experiment_id}-{tag}-{n}@example.com", "attributes": {}}
            for n in range(delivered)
        ],
    )
    ids = db.scalars(
        select(Contact.id)
        .where(Contact.email.like(f"x{experiment_id}-{tag}-%"))
        .order_by(Contact.id)
    ).all()
    db.execute(
        insert(Exposure),
        [
            {
                "experiment_id": experiment_id,
                "variant_key": variant_key,
                "contact_id": contact_id,
                "exposed_at": moment,
                "delivered_at": moment,
                "opened_at": moment if n < clicked * 2 else None,
                "clicked_at": moment if n < clicked else None,
                "unsubscribed_at": moment if n >= delivered - unsubscribed else None,
            }
            for n, contact_id in enumerate(ids)
        ],
    )
    db.commit()


def running_with_data(
    db: Session,
    built: Built,
    *,
    control: tuple[int, int],
    variant: tuple[int, int],
    mode: str = "fixed",
) -> int:
    """A started test of `intro` with (delivered, clicked) per arm, its results computed."""
    experiment_id = step_experiment(db, built, mode=mode)
    store.start_experiment(db, experiment_id, actor="test", now=utcnow() - timedelta(days=3))
    db.commit()
    expose(db, experiment_id, "a", delivered=control[0], clicked=control[1])
    expose(db, experiment_id, "b", delivered=variant[0], clicked=variant[1])
    results.compute(db, experiment_id, now=utcnow())
    db.commit()
    return experiment_id
