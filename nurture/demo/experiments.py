"""Demo experiment: the Legal sequence's case-study e-mail tests a second subject line.

The experiment is real (made, validated and started through the experiments store,
judged by the real results code); its nine days of history are not: exposures of
demo contacts outside the sequence, assigned by the experiment's own hash, with the
outcomes a week and a bit of sending would have stamped on them (delivered, people's
opens and clicks, a few unsubscribes), like the loader's synthetic events. The
results page then has something to show, and the sequence's real case-study sends
join the test from here on.

Loaded once: a step that has an experiment is left alone.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from campaigns.experiments import results
from campaigns.experiments.assign import bucket, pick, shares
from campaigns.experiments.store import (
    VariantInput,
    create_experiment,
    experiment_of_step,
    start_experiment,
    variants_of,
)
from nurture.demo.sequences import LEGAL
from nurture.models import Contact, Enrolment, Experiment, Exposure, Sequence

STEP = "case_study"
NAME = "Legal case study — which subject line gets the click"
QUESTION = "Could your firm pass a GDPR audit in six weeks?"
DAYS = 9
PEOPLE = 1400
# Variant -> (delivered, opened, clicked, unsubscribed) rates of the simulated history:
# the question subject is ahead, not yet by enough for the rule to name it.
RATES = {"a": (0.97, 0.31, 0.036, 0.003), "b": (0.97, 0.35, 0.052, 0.003)}


def seed_demo_experiment(session: Session, *, now: datetime, seed: int = 14) -> int | None:
    """Add the running case-study experiment with its history; answers its id, or None
    when it exists already or the Legal sequence is missing. Commits."""
    sequence_id = session.scalar(select(Sequence.id).where(Sequence.name == LEGAL))
    if sequence_id is None:
        return None
    if experiment_of_step(session, sequence_id=sequence_id, step_key=STEP) is not None:
        return None
    started = now - timedelta(days=DAYS)
    experiment = create_experiment(
        session,
        actor="demo",
        name=NAME,
        kind="step",
        sequence_id=sequence_id,
        step_key=STEP,
        variants=[
            VariantInput("a", "The story as the title"),
            VariantInput("b", "A question", content={"subject": QUESTION}),
        ],
        metric="clicks",
        baseline_rate=0.04,
        min_effect=0.3,
    )
    session.flush()
    start_experiment(session, experiment.id, actor="demo", now=started)
    session.flush()
    rows = _history(session, experiment, sequence_id, started, now, seed)
    if rows:
        session.execute(insert(Exposure), rows)
    session.flush()
    results.compute(session, experiment.id, now=now)
    session.commit()
    return experiment.id


def _history(
    session: Session,
    experiment: Experiment,
    sequence_id: int,
    started: datetime,
    now: datetime,
    seed: int,
) -> list[dict[str, Any]]:
    """Exposure rows with their outcomes, for demo contacts not in the sequence."""
    enrolled = select(Enrolment.contact_id).where(Enrolment.sequence_id == sequence_id)
    people = list(
        session.scalars(
            select(Contact.id)
            .where(
                Contact.email.is_not(None),
                Contact.erased_at.is_(None),
                Contact.id.not_in(enrolled),
            )
            .order_by(Contact.id)
            .limit(PEOPLE)
        )
    )
    slices = shares(experiment, variants_of(session, experiment.id))
    arms: dict[str, list[int]] = {key: [] for key in RATES}
    for contact_id in people:
        arms[pick(bucket(experiment.salt, contact_id), slices)].append(contact_id)
    rng = random.Random(seed)
    span = (now - started).total_seconds()
    rows = []
    for key, members in arms.items():
        # Exact shares per arm, not a coin per person: the salt is new each time, and
        # with a few hundred people a coin could put "a" ahead and tell a different story.
        rng.shuffle(members)
        delivered, opened, clicked, unsubscribed = (
            round(len(members) * rate) for rate in RATES[key]
        )
        for rank, contact_id in enumerate(members):
            exposed = started + timedelta(seconds=rng.uniform(0, span * 0.95))
            row: dict[str, Any] = {
                "experiment_id": experiment.id,
                "variant_key": key,
                "contact_id": contact_id,
                "message_key": f"demo-exp:{experiment.id}:{contact_id}",
                "exposed_at": exposed,
            }
            if rank < delivered:
                row["delivered_at"] = exposed + timedelta(minutes=1)
                if rank < opened:
                    row["opened_at"] = exposed + timedelta(hours=rng.uniform(0.2, 30))
                    # A click comes with an open here (the same person read it).
                    if rank < clicked:
                        row["clicked_at"] = row["opened_at"] + timedelta(minutes=2)
                # Those who left are the last delivered: mostly people who never opened.
                if rank >= delivered - unsubscribed:
                    row["unsubscribed_at"] = exposed + timedelta(hours=rng.uniform(1, 48))
            rows.append(row)
    rows.sort(key=lambda row: row["contact_id"])
    return rows
