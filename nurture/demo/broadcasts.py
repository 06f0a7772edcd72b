"""Demo broadcast: last week's newsletter, sent with a test phase that found a winner.

Everything goes through the broadcasts code as the workers would run it, with the
clock set three days back: the audience frozen, a 20 % test group sent three subject
lines (into the capture mailbox: a demo never mails anyone), people's opens recorded
as the tracking pixel would have (events of the e-mails really sent), the winner
picked by the real rule four hours later and the rest sent it. The Broadcasts page
then shows a finished broadcast, and its experiment page the numbers behind the pick.

Loaded once: a broadcast of that name is left alone.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.broadcasts import sending, winner
from campaigns.broadcasts.definition import BroadcastInput, VariantInput
from campaigns.broadcasts.store import create_broadcast, schedule_broadcast
from campaigns.email.store import VariantInput as TemplateText
from campaigns.sequences.caps import FrequencyCap
from campaigns.sequences.engine import Mailer
from nurture.demo.sequences import template_from_starter
from nurture.events import EventInput, ingest
from nurture.models import (
    Broadcast,
    BroadcastRecipient,
    Contact,
    EmailMessage,
    EmailTemplate,
    MessageStatus,
)

NAME = "December insights — the newsletter"
TEMPLATE = "Newsletter — December insights"
SUBJECT = "December insights: three things law firms got right this year"
SUBJECTS = {
    "b": "What your clients' data requests will cost you in 2027",
    "c": "December insights from the Nurture team",
}
ARTICLE = {"url": "https://example.com/insights/december-2026", "reading_minutes": 6}
AUDIENCE = 1500
DAYS_AGO = 3
# Share of each variant's delivered e-mails opened by a person: "b" is clearly ahead.
OPENS = {"a": 0.22, "b": 0.41, "c": 0.18}


def seed_demo_broadcast(
    session: Session, *, mailer: Mailer, now: datetime, seed: int = 12
) -> int | None:
    """Add the finished newsletter; answers its id, or None when it exists. Commits."""
    if session.scalar(select(Broadcast.id).where(Broadcast.name == NAME)) is not None:
        return None
    people = list(
        session.scalars(
            select(Contact.id)
            .where(Contact.email.is_not(None), Contact.erased_at.is_(None))
            .order_by(Contact.id.desc())
            .limit(AUDIENCE)
        )
    )
    if len(people) < 100:
        return None
    sent = (now - timedelta(days=DAYS_AGO)).replace(hour=8, minute=0, second=0, microsecond=0)
    data = BroadcastInput(
        name=NAME,
        template_id=_template(session),
        contact_ids=people,
        test_percent=20,
        test_hours=4,
        metric="opens",
        default_variant="a",
        variants=(
            VariantInput("a", "The year in review"),
            VariantInput("b", "The cost question", subject=SUBJECTS["b"]),
            VariantInput("c", "From the team", subject=SUBJECTS["c"]),
        ),
        baseline_rate=0.25,
        min_effect=0.3,
        accept_small_test=True,
    )
    broadcast = create_broadcast(session, data, actor="demo", now=sent)
    session.commit()
    schedule_broadcast(session, broadcast.id, actor="demo", now=sent)
    sending.start(session, broadcast.id, now=sent)
    session.commit()
    _send_due(session, broadcast.id, mailer, now=sent)
    _opens(session, broadcast.id, seed)
    session.commit()
    waited = session.get(Broadcast, broadcast.id, populate_existing=True)
    moment = waited.decide_at if waited is not None and waited.decide_at else sent
    winner.decide(session, broadcast.id, now=moment)
    session.commit()
    _send_due(session, broadcast.id, mailer, now=moment)
    return broadcast.id


def _template(session: Session) -> int:
    found = session.scalar(select(EmailTemplate.id).where(EmailTemplate.name == TEMPLATE))
    if found is not None:
        return int(found)
    text = TemplateText(SUBJECT, "", "Six minutes on what changed, and what to do next.")
    template = template_from_starter(session, TEMPLATE, "educational", text, {"article": ARTICLE})
    session.commit()
    return template.id


def _send_due(session: Session, broadcast_id: int, mailer: Mailer, *, now: datetime) -> None:
    """What the workers do: claim due batches and send them until none is left, then move
    the broadcast on (to its test wait, or sent)."""
    cap = FrequencyCap(limit=0)  # the demo's own history is not real mail
    while (claim := sending.claim(session, broadcast_id, now=now)) is not None:
        session.commit()
        sending.send_claimed(
            session,
            broadcast_id,
            claim.token,
            now=now,
            transport=mailer.transport,
            config=mailer.config,
            cap=cap,
        )
    sending.advance(session, broadcast_id, now=now)
    session.commit()


def _opens(session: Session, broadcast_id: int, seed: int) -> None:
    """People's opens of the test group's e-mails, as the open pixel records them."""
    rows = session.execute(
        select(
            EmailMessage.id,
            EmailMessage.contact_id,
            func.coalesce(EmailMessage.sent_at, EmailMessage.created_at),
            BroadcastRecipient.variant_key,
        )
        .join(
            BroadcastRecipient,
            (BroadcastRecipient.message_id == EmailMessage.id)
            & (BroadcastRecipient.broadcast_id == broadcast_id),
        )
        .where(EmailMessage.status == MessageStatus.SENT.value)
        .order_by(EmailMessage.id)
    ).all()
    # Exactly each variant's share opens (which ones is drawn): the test group's split
    # across variants follows the experiment's random salt, and drawing each open on its
    # own would now and then leave "b" short of a clear lead on a hundred sends.
    by_variant: dict[str, list[tuple[int, int, datetime]]] = {}
    for message_id, contact_id, sent_at, key in rows:
        if contact_id is not None:
            by_variant.setdefault(key or "a", []).append((message_id, contact_id, sent_at))
    rng = random.Random(seed)
    events: list[tuple[int, EventInput]] = []
    for key, sent in sorted(by_variant.items()):
        opened_count = round(OPENS.get(key, 0.2) * len(sent))
        for message_id, contact_id, sent_at in sorted(rng.sample(sent, opened_count)):
            opened = sent_at + timedelta(minutes=rng.uniform(3, 200))
            events.append(
                (
                    len(events),
                    EventInput(
                        "email.opened",
                        opened,
                        {"message_id": message_id},
                        f"demo-bc-open:{message_id}",
                        contact_id=contact_id,
                    ),
                )
            )
    if events:
        ingest(session, events, source="demo")
