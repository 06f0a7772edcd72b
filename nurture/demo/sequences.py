"""Demo sequences: two running nurture flows with demo contacts already part-way through.

The engine itself moves the demo contacts: each cohort is enrolled some days ago
and its due steps are run at the times they would have run, so the e-mails, step
runs and rep tasks are exactly what a real week of the sequence leaves behind
(e-mails land in the capture mailbox; a demo never mails anyone). Some contacts
"clicked" the first e-mail, so their branch creates a LinkedIn task for their
rep: the task queue has overdue, due-today and upcoming work after `make run`.

Loaded once: a sequence whose name exists is left alone, with everything in it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence as Seq
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.delivery.capture import CaptureTransport
from campaigns.email.mailconfig import MailConfig
from campaigns.email.store import VariantInput, create_template
from campaigns.sequences import versions
from campaigns.sequences.conditions import effect_key
from campaigns.sequences.engine import Mailer, Verdict, run_step
from campaigns.sequences.enrol import enrol_contacts
from campaigns.sequences.tasks import record_task_outcome
from nurture.config import Settings
from nurture.events import EventInput, ingest
from nurture.models import (
    Company,
    Contact,
    EmailMessage,
    EmailTemplate,
    Enrolment,
    Event,
    Segment,
    Sequence,
    Task,
    utcnow,
)
from templates.library import starter_template

LEGAL = "Legal — compliance nurture"
NO_SHOWS = "Webinar no-shows — recording follow-up"
LEGAL_SEGMENT = "Law firms in DACH, engaged"
# Days ago each cohort of the legal sequence was enrolled: its tasks come due
# at different times, so the queue shows overdue, due-today and later work.
LEGAL_COHORTS = (6.9, 6.1, 5.3, 4.6)
LEGAL_PER_COHORT = 4
NO_SHOW_DAYS_AGO = 3.4
NO_SHOW_CONTACTS = 4
CLICK_KEY = "demo-seq:click:"
OPEN_KEY = "demo-seq:open:"
# key -> (template name, starter it is made from, subject, preheader, the starter's variables).
DEMO_TEMPLATES: dict[str, tuple[str, str, str, str, dict[str, Any]]] = {
    "methodology": (
        "Legal — compliance methodology",
        "educational",
        "How law firms answer a data-subject request in 10 days, not 30",
        "The playbook we use with law firms, plus a one-page checklist.",
        {"article": {"url": "https://example.com/insights/dsar-playbook", "reading_minutes": 7}},
    ),
    "case_study": (
        "Legal — case study: GDPR audit in six weeks",
        "case_study",
        "How Keller & Brandt passed their GDPR audit in six weeks",
        "Three document systems, one audit, six weeks: what worked.",
        {
            "case_study": {
                "client": "Keller & Brandt LLP",
                "industry": "Legal",
                "title": "How Keller & Brandt passed their GDPR audit in six weeks",
                "problem": (
                    "Client files lived in three document systems, and nobody could say "
                    "which held personal data or for how long."
                ),
                "approach": (
                    "We mapped every system in two workshops, set retention rules per "
                    "matter type and automated deletion, one practice group at a time."
                ),
                "metrics": [
                    {"value": "6 weeks", "label": "from kick-off to a clean audit"},
                    {"value": "71%", "label": "less personal data kept"},
                    {"value": "9 days", "label": "to answer a data-subject request"},
                ],
                "quote": "The auditors asked for one document, and we had it in minutes.",
                "quote_author": "Dr. Anna Keller",
                "quote_role": "Managing Partner",
                "url": "https://example.com/case-studies/keller-brandt",
            }
        },
    ),
    "recording": (
        "Webinar recording follow-up",
        "educational",
        "Missed the webinar? The recording and three takeaways",
        "45 minutes, or the three points that matter in five.",
        {"article": {"url": "https://example.com/webinars/recordings", "reading_minutes": 45}},
    ),
}
# Every step the demo runs is at most this many; a safety stop, never reached.
_MAX_STEPS = 20


def legal_definition(
    *, methodology: int, case_study: int, checklist: int, segment_id: int | None
) -> dict[str, Any]:
    """E-mail -> wait 4 days -> clicked? a LinkedIn task for the rep : a case study."""
    return {
        "triggers": [{"segment_id": segment_id}] if segment_id else [],
        "goals": [{"lifecycle": ["sql", "opportunity", "customer"]}],
        "reenrol": "never",
        "steps": [
            {"key": "methodology", "type": "email", "template_id": methodology},
            {"key": "pause", "type": "wait", "duration": {"days": 4}},
            {
                "key": "clicked",
                "type": "branch",
                "condition": {"event": "email.clicked", "step": "methodology"},
                "then": [
                    {
                        "key": "linkedin",
                        "type": "task",
                        "kind": "linkedin_message",
                        "due_in_hours": 48,
                        "instructions": (
                            "{{ contact.first_name }} read our compliance methodology e-mail. "
                            "Send a short LinkedIn note: offer the GDPR audit checklist for "
                            "{{ contact.company.name }} and ask how they handle DSARs today."
                        ),
                    },
                    {
                        "key": "answer",
                        "type": "wait",
                        "event": "task.completed",
                        "timeout": {"days": 5},
                    },
                    {
                        "key": "booked",
                        "type": "branch",
                        "condition": {"task_outcome": ["meeting_booked"], "step": "linkedin"},
                        "then": [{"key": "meeting", "type": "goal"}],
                        "else": [{"key": "checklist", "type": "email", "template_id": checklist}],
                    },
                ],
                "else": [
                    {"key": "case_study", "type": "email", "template_id": case_study},
                    {"key": "later", "type": "wait", "duration": {"days": 7}},
                    {
                        "key": "call",
                        "type": "task",
                        "kind": "call",
                        "due_in_hours": 72,
                        "instructions": (
                            "Call {{ contact.first_name }} ({{ contact.title }}): did the "
                            "case study match what {{ contact.company.name }} is facing?"
                        ),
                    },
                ],
            },
        ],
    }


def no_show_definition(*, recording: int) -> dict[str, Any]:
    """A no-show gets the recording, then a rep's call three days later."""
    return {
        "triggers": [{"event": "webinar.no_show"}],
        "goals": [{"event": "meeting.booked"}],
        "steps": [
            {"key": "recording", "type": "email", "template_id": recording},
            {"key": "pause", "type": "wait", "duration": {"days": 3}},
            {
                "key": "call",
                "type": "task",
                "kind": "call",
                "due_in_hours": 24,
                "instructions": (
                    "{{ contact.first_name }} registered for our webinar but missed it. "
                    "Ask whether the recording answered their question and offer a 20-minute "
                    "walk-through."
                ),
            },
        ],
    }


def demo_mailer(settings: Settings) -> Mailer:
    """A mailer into the capture mailbox, whatever SMTP is configured: demo mail stays here."""
    return Mailer(CaptureTransport(settings.database_url), MailConfig.from_settings(settings))


def seed_demo_sequences(session: Session, *, mailer: Mailer, now: datetime | None = None) -> int:
    """Add the demo sequences that are missing, with contacts on their way; answers how many.

    Needs the demo contacts and the starter templates (`seed_demo_content`) first.
    `mailer` should capture (the demo's addresses are not real). Commits.
    """
    now = now or utcnow()
    have = set(session.scalars(select(Sequence.name)))
    if {LEGAL, NO_SHOWS} <= have:
        return 0
    templates = _demo_templates(session)
    added = 0
    if LEGAL not in have:
        _seed_legal(session, mailer, now, templates)
        added += 1
    if NO_SHOWS not in have:
        _seed_no_shows(session, mailer, now, templates)
        added += 1
    return added


def _seed_legal(session: Session, mailer: Mailer, now: datetime, templates: dict[str, int]) -> None:
    segment_id = session.scalar(select(Segment.id).where(Segment.name == LEGAL_SEGMENT))
    definition = legal_definition(
        methodology=templates["methodology"],
        case_study=templates["case_study"],
        checklist=templates["methodology"],
        segment_id=segment_id,
    )
    sequence_id = _create_active(session, LEGAL, definition)
    people = _legal_prospects(session, len(LEGAL_COHORTS) * LEGAL_PER_COHORT)
    for index, days_ago in enumerate(LEGAL_COHORTS):
        # Dealt out in turn, so a small demo still has someone in every cohort.
        cohort = people[index :: len(LEGAL_COHORTS)]
        start = now - timedelta(days=days_ago)
        enrolments = _enrol(session, sequence_id, cohort, start)
        _advance_all(session, enrolments, start, mailer)
        # Every other contact clicked the methodology e-mail the next morning.
        _click(session, enrolments[::2], "methodology", start + timedelta(hours=20))
        _advance_all(session, enrolments, start + timedelta(days=4, minutes=5), mailer)
    # The oldest cohort's reps have already answered two tasks: one meeting, one silence.
    oldest_tasks = session.scalars(
        select(Task)
        .join(Enrolment, Enrolment.id == Task.enrolment_id)
        .where(Enrolment.sequence_id == sequence_id)
        .order_by(Task.id)
        .limit(2)
    ).all()
    answered_at = now - timedelta(hours=20)
    for task, outcome in zip(oldest_tasks, ("meeting_booked", "no_answer"), strict=False):
        record_task_outcome(session, task.id, outcome, now=answered_at, actor="cli")
        session.commit()
        if task.enrolment_id is not None:
            _advance(session, task.enrolment_id, answered_at, mailer)


def _seed_no_shows(
    session: Session, mailer: Mailer, now: datetime, templates: dict[str, int]
) -> None:
    sequence_id = _create_active(
        session, NO_SHOWS, no_show_definition(recording=templates["recording"])
    )
    people = list(
        session.scalars(
            select(Event.contact_id)
            .join(Contact, Contact.id == Event.contact_id)
            .where(
                Event.type == "webinar.no_show",
                Contact.lifecycle_stage.in_(("subscriber", "lead", "mql")),
                Contact.email.is_not(None),
            )
            .group_by(Event.contact_id)
            .order_by(Event.contact_id)
            .limit(NO_SHOW_CONTACTS)
        )
    )
    start = now - timedelta(days=NO_SHOW_DAYS_AGO)
    enrolments = _enrol(session, sequence_id, people, start)
    _advance_all(session, enrolments, start, mailer)
    _advance_all(session, enrolments, start + timedelta(days=3, minutes=5), mailer)


def _demo_templates(session: Session) -> dict[str, int]:
    """The demo's e-mails, made from starter templates once (found again by name)."""
    ids: dict[str, int] = {}
    for key, (name, starter, subject, preheader, context) in DEMO_TEMPLATES.items():
        found = session.scalar(select(EmailTemplate.id).where(EmailTemplate.name == name))
        if found is None:
            text = VariantInput(subject, "", preheader)
            found = template_from_starter(session, name, starter, text, context).id
        ids[key] = found
    session.commit()
    return ids


def template_from_starter(
    session: Session, name: str, starter: str, text: VariantInput, context: dict[str, Any]
) -> EmailTemplate:
    english = starter_template(starter).variants["en"]
    # The starter's own variables (article, case_study...) are fixed for this e-mail by a
    # `set` in its first text block (MJML sees only text there), so a sequence can send
    # it with the contact's context alone.
    fixed = "".join(
        f"{{%- set {variable} = {json.dumps(value, ensure_ascii=False)} -%}}"
        for variable, value in context.items()
    )
    opening = english.body.index(">", english.body.index("<mj-text")) + 1
    body = english.body[:opening] + fixed + english.body[opening:]
    starter_row = starter_template(starter)
    return create_template(
        session,
        name=name,
        description=f"Demo e-mail of the sequences, made from the {english.title} starter.",
        kind=starter_row.kind,
        topic=starter_row.topic,
        actor="cli",
        variants={"en": VariantInput(text.subject, body, text.preheader)},
    )


def _create_active(session: Session, name: str, definition: dict[str, Any]) -> int:
    sequence = versions.create_sequence(session, name=name, steps_definition=definition)
    versions.activate(session, sequence.id)
    session.commit()
    return sequence.id


def _legal_prospects(session: Session, count: int) -> list[int]:
    """Law-firm leads and MQLs with an address, owned ones first (their rep gets the task)."""
    return list(
        session.scalars(
            select(Contact.id)
            .join(Company, Company.id == Contact.company_id)
            .where(
                Company.industry == "legal",
                Contact.lifecycle_stage.in_(("lead", "mql")),
                Contact.email.is_not(None),
                Contact.erased_at.is_(None),
            )
            .order_by(Contact.owner_id.is_(None), Contact.id)
            .limit(count)
        )
    )


def _enrol(session: Session, sequence_id: int, contact_ids: Seq[int], at: datetime) -> list[int]:
    result = enrol_contacts(session, sequence_id, contact_ids, now=at)
    session.commit()
    return list(
        session.scalars(
            select(Enrolment.id)
            .where(
                Enrolment.sequence_id == sequence_id,
                Enrolment.contact_id.in_(result.enrolled),
            )
            .order_by(Enrolment.contact_id)
        )
    )


def _advance_all(session: Session, enrolment_ids: list[int], at: datetime, mailer: Mailer) -> None:
    for enrolment_id in enrolment_ids:
        _advance(session, enrolment_id, at, mailer)


def _advance(session: Session, enrolment_id: int, at: datetime, mailer: Mailer) -> None:
    """Run every step of the enrolment that is due at `at`, as the workers would have."""
    for _ in range(_MAX_STEPS):
        enrolment = session.get(Enrolment, enrolment_id, populate_existing=True)
        if enrolment is None or enrolment.step_key is None:
            return
        result = run_step(session, enrolment_id, enrolment.step_key, now=at, mailer=mailer)
        if result.verdict is not Verdict.ADVANCED:
            return


def _click(session: Session, enrolment_ids: list[int], step_key: str, at: datetime) -> None:
    """The tracked-link click a reader would have made on that step's e-mail."""
    items: list[tuple[int, EventInput]] = []
    for enrolment_id in enrolment_ids:
        row = session.execute(
            select(EmailMessage.id, EmailMessage.contact_id).where(
                EmailMessage.idempotency_key == effect_key(enrolment_id, step_key)
            )
        ).one_or_none()
        if row is None or row.contact_id is None:
            continue
        # A reader opens before clicking (the report counts human opens of sequence mail).
        opened = {"message_id": row.id}
        key = f"{OPEN_KEY}{enrolment_id}:{step_key}"
        moment = at - timedelta(minutes=2)
        items.append((len(items), EventInput("email.opened", moment, opened, key, row.contact_id)))
        properties = {"message_id": row.id, "link_index": 0, "url": "https://example.com/insights"}
        key = f"{CLICK_KEY}{enrolment_id}:{step_key}"
        items.append((len(items), EventInput("email.clicked", at, properties, key, row.contact_id)))
    if items:
        ingest(session, items, source="demo")
    session.commit()


__all__ = [
    "LEGAL",
    "NO_SHOWS",
    "demo_mailer",
    "legal_definition",
    "no_show_definition",
    "seed_demo_sequences",
]
