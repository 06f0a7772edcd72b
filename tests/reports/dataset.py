"""A small history built by hand, whose every report figure was worked out on paper.

Day 0 (`T`) is Monday 2 March 2026, 00:00 UTC. The contacts and their stages
(`>` a recorded change, at the day given; the first stage is their creation):

- A (website): lead d0 > mql d10 > sql d14 > opportunity d20
- B (website): lead d1 > mql d5 > lead d7 (recycled)
- C (referral): subscriber d2 (recorded, from no stage) > lead d3 > customer d40
- D (referral): lead d3, nothing recorded
- E (no source): customer since d-30, nothing recorded
- F (website): lead d0 > mql d6 23:30 (a Sunday night)
- G (linkedin): lead d0 > mql d9 > sql d10.5 > opportunity d12.5

Segment "Warm" holds B and C. Sequence "Alpha" enrolled A (d2), B (d6), D (d3);
"Beta" enrolled G (d1), A (d1), C (d35); "Gamma" is an empty draft.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from nurture.models import (
    Article,
    CaseStudy,
    Contact,
    EmailMessage,
    Enrolment,
    Event,
    LifecycleChange,
    Segment,
    SegmentMember,
    Sequence,
    SequenceVersion,
    StepRun,
    Webinar,
)

T = datetime(2026, 3, 2, tzinfo=UTC)
BANK = "https://example.com/cases/bank"
RETAIL = "https://example.com/cases/retail"
DSAR = "https://example.com/insights/dsar"


def day(n: float) -> datetime:
    return T + timedelta(days=n)


@dataclass(frozen=True, slots=True)
class Dataset:
    contacts: dict[str, int]
    segment_id: int
    sequences: dict[str, int]
    case_studies: dict[str, int]
    article_id: int
    webinar_id: int


def build(db: Session) -> Dataset:
    contacts = {
        "A": _contact(db, "a", day(0), "opportunity", "website"),
        "B": _contact(db, "b", day(1), "lead", "website"),
        "C": _contact(db, "c", day(2), "customer", "referral"),
        "D": _contact(db, "d", day(3), "lead", "referral"),
        "E": _contact(db, "e", day(-30), "customer", None),
        "F": _contact(db, "f", day(0), "mql", "website"),
        "G": _contact(db, "g", day(0), "opportunity", "linkedin"),
    }
    moves: list[tuple[str, str | None, str, datetime]] = [
        ("A", "lead", "mql", day(10)),
        ("A", "mql", "sql", day(14)),
        ("A", "sql", "opportunity", day(20)),
        ("B", "lead", "mql", day(5)),
        ("B", "mql", "lead", day(7)),
        ("C", None, "subscriber", day(2)),
        ("C", "subscriber", "lead", day(3)),
        ("C", "lead", "customer", day(40)),
        ("F", "lead", "mql", day(6) + timedelta(hours=23, minutes=30)),
        ("G", "lead", "mql", day(9)),
        ("G", "mql", "sql", day(10.5)),
        ("G", "sql", "opportunity", day(12.5)),
    ]
    for who, before, after, when in moves:
        db.add(
            LifecycleChange(
                contact_id=contacts[who].id,
                from_stage=before,
                to_stage=after,
                occurred_at=when,
                source="test",
            )
        )

    warm = Segment(name="Warm", kind="static")
    db.add(warm)
    db.flush()
    for who in ("B", "C"):
        db.add(SegmentMember(segment_id=warm.id, contact_id=contacts[who].id))

    alpha, beta = _sequence(db, "Alpha", "active"), _sequence(db, "Beta", "active")
    gamma = _sequence(db, "Gamma", "draft")
    enrolments = {
        ("Alpha", "A"): _enrol(db, alpha, contacts["A"], day(2)),
        ("Alpha", "B"): _enrol(db, alpha, contacts["B"], day(6)),
        ("Alpha", "D"): _enrol(db, alpha, contacts["D"], day(3)),
        ("Beta", "G"): _enrol(db, beta, contacts["G"], day(1)),
        ("Beta", "A"): _enrol(db, beta, contacts["A"], day(1)),
        ("Beta", "C"): _enrol(db, beta, contacts["C"], day(35)),
    }
    # Alpha's e-mails: delivered m1, m2, m4; m3 bounced.
    m1 = _mail(db, enrolments[("Alpha", "A")], "first", "sent")
    m2 = _mail(db, enrolments[("Alpha", "B")], "first", "sent")
    m3 = _mail(db, enrolments[("Alpha", "D")], "first", "bounced")
    m4 = _mail(db, enrolments[("Alpha", "A")], "second", "sent")
    a, b, d = contacts["A"], contacts["B"], contacts["D"]
    human: dict[str, Any] = {}
    machine: dict[str, Any] = {"machine": True, "machine_reason": "apple proxy"}
    _event(db, a, "email.opened", day(3), {"message_id": m1.id, **human})
    _event(db, a, "email.opened", day(3), {"message_id": m1.id, **machine})
    _event(db, a, "email.clicked", day(3), {"message_id": m1.id, "url": "https://x.test/"})
    _event(db, a, "email.replied", day(4), {"message_id": m1.id})
    _event(db, b, "email.opened", day(7), {"message_id": m2.id, **machine})
    _event(db, b, "email.clicked", day(7), {"message_id": m2.id, **machine})
    _event(db, d, "email.opened", day(4), {"message_id": m3.id})
    _event(db, a, "email.opened", day(5), {"message_id": m4.id})
    _event(db, a, "email.opened", day(6), {"message_id": m4.id})

    bank = CaseStudy(title="Bank cut audit time", industry="banking", problem="p", link=BANK)
    retail = CaseStudy(title="Retailer found stock", industry="retail", problem="p", link=RETAIL)
    article = Article(slug="dsar", title="DSAR playbook", topic="privacy", url=DSAR)
    webinar = Webinar(title="GDPR in practice", topic="privacy", starts_at=day(1))
    db.add_all([bank, retail, article, webinar])
    db.flush()
    f, g, c = contacts["F"], contacts["G"], contacts["C"]
    reads: list[tuple[Contact, str, float, dict[str, Any]]] = [
        (a, "email.clicked", 3, {"url": BANK}),
        (a, "email.clicked", 4, {"url": BANK}),
        (a, "email.clicked", 12, {"url": DSAR}),  # after A qualified
        (b, "email.clicked", 2, {"url": BANK}),
        (b, "email.clicked", 2, {"url": RETAIL, **machine}),
        (f, "webinar.attended", 1, {"webinar_id": webinar.id}),
        (f, "email.clicked", 1, {"url": RETAIL}),
        (g, "email.clicked", 5, {"url": DSAR}),
        (g, "webinar.attended", 20, {"webinar_id": webinar.id}),  # after G qualified
        (d, "email.clicked", 4, {"url": BANK}),  # D never qualifies
        (c, "email.clicked", 5, {"url": RETAIL}),  # C qualifies after the period
    ]
    for person, kind, moment, props in reads:
        _event(db, person, kind, day(moment), props)
    db.commit()
    return Dataset(
        {name: contact.id for name, contact in contacts.items()},
        warm.id,
        {"Alpha": alpha.id, "Beta": beta.id, "Gamma": gamma.id},
        {"bank": bank.id, "retail": retail.id},
        article.id,
        webinar.id,
    )


def _contact(db: Session, name: str, created: datetime, stage: str, source: str | None) -> Contact:
    contact = Contact(
        email=f"{name}@example.com",
        first_name=name.upper(),
        lifecycle_stage=stage,
        attributes={} if source is None else {"source": source},
        created_at=created,
    )
    db.add(contact)
    db.flush()
    return contact


def _sequence(db: Session, name: str, status: str) -> Sequence:
    sequence = Sequence(name=name, status=status)
    db.add(sequence)
    db.flush()
    version = SequenceVersion(sequence_id=sequence.id, number=1, definition={"steps": []})
    db.add(version)
    db.flush()
    sequence.current_version_id = version.id
    return sequence


def _enrol(db: Session, sequence: Sequence, contact: Contact, when: datetime) -> Enrolment:
    assert sequence.current_version_id is not None
    enrolment = Enrolment(
        sequence_id=sequence.id,
        version_id=sequence.current_version_id,
        contact_id=contact.id,
        state="completed",
        enrolled_at=when,
    )
    db.add(enrolment)
    db.flush()
    return enrolment


def _mail(db: Session, enrolment: Enrolment, step: str, status: str) -> EmailMessage:
    message = EmailMessage(
        idempotency_key=f"seq:{enrolment.id}:{step}",
        status=status,
        kind="sequence",
        contact_id=enrolment.contact_id,
        to_email="someone@example.com",
    )
    db.add(message)
    db.flush()
    db.add(
        StepRun(
            enrolment_id=enrolment.id,
            step_key=step,
            outcome=status,
            detail={"message_id": message.id},
        )
    )
    return message


_keys = iter(range(1, 10_000))


def _event(db: Session, contact: Contact, kind: str, when: datetime, props: dict[str, Any]) -> None:
    db.add(
        Event(
            contact_id=contact.id,
            type=kind,
            occurred_at=when,
            properties=props,
            idempotency_key=f"report-test:{next(_keys)}",
        )
    )
