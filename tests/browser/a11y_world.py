"""The data the accessibility audit opens its pages on: enough of everything that tables,
charts, pagination, badges and flashes are drawn (an audit of empty pages proves little),
and the signed links a client follows from an e-mail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from campaigns.broadcasts.definition import BroadcastInput
from campaigns.broadcasts.store import create_broadcast
from campaigns.sequences import versions
from nurture import event_writes
from nurture.models import EmailMessage, ImportJob, User, utcnow
from nurture.reviews import referrals, surveys, testimonials
from nurture.webhooks.subscriptions import create_subscription
from segments import lists, store
from templates.tokens import TokenSigner
from tests.email.conftest import make_template
from tests.factories import make_api_key, make_contact, make_task, make_user
from tests.inbox.helpers import make_handoff
from tests.reviews_web.helpers import make_code, make_survey, make_testimonial
from tests.webinars.helpers import make_story, make_webinar

# More than a page of contacts (50 a page), so the list shows its "next" link.
CONTACTS = 55
STAGES = ("subscriber", "lead", "mql", "sql", "customer")
EVENT_TYPES = ("email.opened", "email.clicked", "page.viewed", "form.submitted")


@dataclass(frozen=True)
class World:
    admin: User
    contact_id: int
    segment_id: int
    template_id: int
    sequence_id: int
    broadcast_id: int
    handoff_id: int
    message_id: int
    import_id: int
    story_id: int
    webinar_id: int
    subscription_id: int
    # Paths (no host) of the pages a client opens from an e-mail.
    unsubscribe: str
    nps_answer: str
    nps_follow_up: str
    nps_thanks: str
    testimonial: str
    referral: str
    webinar: str


def build_world(db: Session, secret: str) -> World:
    now = utcnow()
    admin = make_user(db, role="admin", email="ada@nurture.test")
    rep = make_user(db, role="sales", email="sam@nurture.test")
    make_user(db, role="marketer", email="mia@nurture.test")
    make_api_key(db)

    people = [
        make_contact(
            db,
            email=f"client{n}@firm{n % 7}.example",
            first_name=f"Client{n}",
            last_name="Lawson",
            lifecycle_stage=STAGES[n % len(STAGES)],
            company={"name": f"Firm {n % 7}", "industry": "legal" if n % 2 else "logistics"},
        )
        for n in range(CONTACTS)
    ]
    contact = people[0]
    rows = [
        event_writes.EventRow(
            person.id,
            EVENT_TYPES[(n + day) % len(EVENT_TYPES)],
            now - timedelta(days=day),
            {},
            None,
        )
        for n, person in enumerate(people[:20])
        for day in range(0, 28, 3)
    ]
    event_writes.insert_events(db, rows, source="test")

    segment = store.create_segment(db, name="Legal leads", kind="static")
    lists.add_members(db, segment.id, [p.id for p in people[:12]])
    template_id = make_template(db)
    make_template(db, name="Welcome", topic=None, tracking=False)
    flow = {
        "steps": [
            {"key": "intro", "type": "email", "template_id": template_id},
            {"key": "won", "type": "goal"},
        ],
        "goals": [{"event": "meeting.booked"}],
        "triggers": [],
    }
    sequence = versions.create_sequence(db, name="Legal nurture", steps_definition=flow)
    versions.activate(db, sequence.id)
    versions.create_sequence(db, name="Draft onboarding", steps_definition=flow)
    broadcast = create_broadcast(
        db,
        BroadcastInput(name="Spring news", template_id=template_id, segment_id=segment.id),
        actor="test",
        now=now,
    )
    for n, person in enumerate(people[:4]):
        make_task(db, person, instructions=f"Call about the audit ({n})", assignee_id=admin.id)
    handoff = make_handoff(db, admin, contact=people[1])
    make_handoff(db, rep, contact=people[2])
    story = make_story(db, "Faster contract reviews")
    webinar = make_webinar(db, "Compliance clinic", now + timedelta(days=3), capacity=20)
    subscription, _ = create_subscription(
        db, url="https://hooks.example/nurture", event_types=["contact.created"], actor="test"
    )
    # Final states only: a queued message would go to the server's sender.
    messages = [
        EmailMessage(
            idempotency_key=f"a11y-{n}",
            status=status,
            kind="marketing",
            template_id=template_id,
            contact_id=people[n].id,
            to_email=people[n].email,
            subject="Your guide",
            last_error=error,
            sent_at=now if status == "sent" else None,
        )
        for n, (status, error) in enumerate(
            [
                ("failed", "550 5.1.1 mailbox unavailable"),
                ("bounced", "550 no such user"),
                ("sent", None),
                ("sent", None),
            ]
        )
    ]
    db.add_all(messages)
    job = ImportJob(
        filename="leads.csv",
        stored_path="/nonexistent/leads.csv",
        status="done",
        total_rows=12,
        processed_rows=12,
        created_count=9,
        updated_count=1,
        rejected_count=2,
        rejected={
            "lines": [
                {"line": 4, "reason": "email: not an address"},
                {"line": 9, "reason": "email: missing"},
            ]
        },
        created_by_id=admin.id,
        finished_at=now,
    )
    db.add(job)
    failed = ImportJob(filename="old.csv", stored_path="/nonexistent/old.csv", status="failed")
    failed.error, failed.finished_at = "The file is not UTF-8.", now
    db.add(failed)
    db.commit()

    signer = TokenSigner(secret)
    survey = make_survey(db, first_name="Emma")
    answered = make_survey(db, first_name="Noah")
    answered.score, answered.category, answered.answered_at = 6, "detractor", now
    quote = make_testimonial(db)
    code = make_code(db, first_name="Lena")
    db.commit()
    return World(
        admin=admin,
        contact_id=contact.id,
        segment_id=segment.id,
        template_id=template_id,
        sequence_id=sequence.id,
        broadcast_id=broadcast.id,
        handoff_id=handoff.id,
        message_id=messages[0].id,
        import_id=job.id,
        story_id=story.id,
        webinar_id=webinar.id,
        subscription_id=subscription.id,
        unsubscribe=f"/u/{signer.unsubscribe(contact.id, None)}",
        nps_answer=surveys.score_links(signer, "", survey)[9],
        nps_follow_up=surveys.follow_up_url(signer, "", answered),
        nps_thanks=surveys.follow_up_url(signer, "", answered).replace("follow-up", "thanks"),
        testimonial=testimonials.form_url(signer, "", quote),
        referral=referrals.referral_url("", code),
        webinar=f"/w/{signer.webinar(contact.id, webinar.id)}",
    )
