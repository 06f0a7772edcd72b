"""What the `case_study`, `webinar_invite` and `review_email` steps send: the pick for one
contact, the template context for it, and the event that records it was sent.

Case studies and webinars are defined here; review e-mails are registered by
`nurture.reviews` under `review_email:<ask>` (`register`), since campaigns may not
import the reviews floor.

The engine stores the pick in the step run before the e-mail goes out, so a re-run
sends the same content; these functions only choose and describe it.

- A case study is the best one for the contact's industry, the step's service and
  the topics the contact clicked (`selection.best_case_study`), never one a
  `case_study.sent` event says they already had. The step's `service` and `topics`
  restrict the candidates; the contact's interests only rank them.
- A webinar is the next upcoming one with a free seat for the contact's industry
  (`selection.next_webinar`), preferring topics they clicked, never one they are
  registered for. The step's `topics` restrict the candidates.

"Topics the contact clicked" are read from their `email.clicked` events of the last
year: the topics of the case study, webinar or article the clicked e-mail carried,
and of library items whose link is the clicked URL.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from campaigns.content.selection import best_case_study, next_webinar
from campaigns.content.webinar_context import case_study_view, webinar_view
from campaigns.email.mailconfig import MailConfig
from nurture.contacts.zones import zone
from nurture.events import EventInput, ingest
from nurture.models import (
    Article,
    CaseStudy,
    Contact,
    EmailMessage,
    Enrolment,
    Event,
    MessageStatus,
    Service,
    Webinar,
    WebinarRegistration,
)
from templates.requirements import Sender, register_sender
from templates.webinar_links import registration_url

# The outcome of a content step when nothing fits; the flow moves on without an e-mail.
NONE_FITTING = "none_fitting"
# The content picked earlier was deleted before its e-mail was recorded.
CONTENT_GONE = "content_gone"
INTEREST_LOOKBACK = timedelta(days=365)
MAX_CLICKS = 200
# Statuses meaning the e-mail went (or will go) out; a suppressed one was never sent.
_DELIVERED = (MessageStatus.SENT.value, MessageStatus.DEFERRED.value)


@dataclass(frozen=True, slots=True)
class ContentKind:
    """How one content step type picks, describes and records its content.

    `choose` answers the id of the item for a contact in this enrolment (None:
    nothing fits); `context` answers the template's extra context for it (None: it
    is gone); `after_sent`, when given, runs after the kind's event is recorded and
    only when the message went out (a survey stamps when it was sent). `gives` names
    what `context` holds (templates.requirements), `label` says the step in plain
    words: a template needing more than that is refused on such a step.
    """

    step_type: str
    detail_field: str  # where the step run keeps the pick
    event_type: str  # recorded when the e-mail went out
    choose: Callable[[Session, Contact, Mapping[str, Any], datetime, Enrolment], int | None]
    context: Callable[[Session, int, Contact, MailConfig], dict[str, Any] | None]
    after_sent: Callable[[Session, int, EmailMessage, datetime], None] | None = None
    gives: frozenset[str] | None = None  # None: not declared, so nothing is checked
    label: str = "this step"


# Kinds other floors provide (reviews registers `review_email:<ask>` at worker start):
# campaigns may not import them, so they plug in here.
_REGISTRY: dict[str, ContentKind] = {}


def register(kind_key: str, kind: ContentKind) -> None:
    """Make `kind` the content of steps that look up `kind_key`; registering again replaces.
    What it gives is registered as the sender `kind_key` too."""
    _REGISTRY[kind_key] = kind
    if kind.gives is not None:
        register_sender(kind_key, kind.label, kind.gives)


def registered(kind_key: str) -> ContentKind | None:
    """The kind registered under `kind_key`, or None when nothing provides it."""
    return _REGISTRY.get(kind_key)


def choose_case_study(
    session: Session,
    contact: Contact,
    spec: Mapping[str, Any],
    now: datetime,
    enrolment: Enrolment | None = None,
) -> int | None:
    """The id of the case study to send this contact, or None when none fits."""
    excluded = sent_case_study_ids(session, contact.id)
    service = spec.get("service")
    if service is not None:
        excluded |= set(
            session.scalars(
                select(CaseStudy.id)
                .outerjoin(Service, CaseStudy.service_id == Service.id)
                .where(or_(Service.slug.is_(None), Service.slug != service))
            )
        )
    if "topics" in spec:
        wanted = _lowered(spec["topics"])
        excluded |= {
            story_id
            for story_id, topics in session.execute(select(CaseStudy.id, CaseStudy.topics))
            if not wanted.intersection(topics or [])
        }
    story = best_case_study(
        session,
        industry=_industry(contact),
        service_slugs=[service] if service is not None else (),
        topics=interest_topics(session, contact.id, now=now),
        exclude_ids=excluded,
    )
    return None if story is None else story.id


def choose_webinar(
    session: Session,
    contact: Contact,
    spec: Mapping[str, Any],
    now: datetime,
    enrolment: Enrolment | None = None,
) -> int | None:
    """The id of the webinar to invite this contact to, or None when none fits."""
    excluded = set(
        session.scalars(
            select(WebinarRegistration.webinar_id).where(
                WebinarRegistration.contact_id == contact.id
            )
        )
    )
    if "topics" in spec:
        excluded |= set(
            session.scalars(
                select(Webinar.id).where(
                    Webinar.starts_at > now, Webinar.topic.not_in(sorted(_lowered(spec["topics"])))
                )
            )
        )
    webinar = next_webinar(
        session,
        now=now,
        industry=_industry(contact),
        topics=interest_topics(session, contact.id, now=now),
        exclude_ids=excluded,
    )
    return None if webinar is None else webinar.id


def case_study_context(
    session: Session, story_id: int, contact: Contact, config: MailConfig
) -> dict[str, Any] | None:
    story = session.get(CaseStudy, story_id)
    return None if story is None else {"case_study": case_study_view(story)}


def webinar_context(
    session: Session, webinar_id: int, contact: Contact, config: MailConfig
) -> dict[str, Any] | None:
    webinar = session.get(Webinar, webinar_id)
    if webinar is None:
        return None
    view = webinar_view(webinar, tz=zone(contact.time_zone), locale=contact.locale)
    view["register_url"] = registration_url(config.base_url, config.signer, contact.id, webinar_id)
    return {"webinar": view}


CASE_STUDY = ContentKind(
    "case_study",
    "case_study_id",
    "case_study.sent",
    choose_case_study,
    case_study_context,
    gives=frozenset({"case_study"}),
    label="a case study step",
)
# The keys of webinar_context's `webinar` (webinar_view and the registration link).
WEBINAR_GIVES = frozenset(
    f"webinar.{name}"
    for name in (
        "id",
        "title",
        "topic",
        "summary",
        "starts_at",
        "date_local",
        "time_local",
        "start_time_local",
        "time_zone",
        "duration",
        "speakers",
        "agenda",
        "register_url",
    )
)
WEBINAR = ContentKind(
    "webinar_invite",
    "webinar_id",
    "webinar.invited",
    choose_webinar,
    webinar_context,
    gives=WEBINAR_GIVES,
    label="a webinar invitation step",
)
# Steps are senders: a plain e-mail step gives what every send gives, and no more.
EMAIL_LABEL = "a plain e-mail step"
register_sender("email", EMAIL_LABEL)
register_sender("case_study", CASE_STUDY.label, {"case_study"})
register_sender("webinar_invite", WEBINAR.label, WEBINAR_GIVES)
STEP_SENDER_PREFIXES = ("email", "case_study", "webinar_invite", "review_email:")


def sender_key(step_type: str, spec: Mapping[str, Any]) -> str:
    """The sender a mail step is: its type, or `review_email:<ask>`."""
    return f"review_email:{spec.get('ask')}" if step_type == "review_email" else step_type


def step_sender(step_type: str, spec: Mapping[str, Any]) -> Sender | None:
    """What a mail step gives; None when its kind is not registered in this process or
    does not say what it gives (then nothing is checked)."""
    if step_type == "email":
        return Sender("email", EMAIL_LABEL, frozenset())
    key = sender_key(step_type, spec)
    kind = {"case_study": CASE_STUDY, "webinar_invite": WEBINAR}.get(key) or registered(key)
    if kind is None or kind.gives is None:
        return None
    return Sender(key, kind.label, kind.gives)


def is_step_sender(found: Sender) -> bool:
    """Whether a sender is a kind of sequence step (not, say, the webinar confirmation)."""
    return found.key == "email" or found.key.startswith(STEP_SENDER_PREFIXES[1:])


def record_sent(
    session: Session, kind: ContentKind, message: EmailMessage, item_id: int, now: datetime
) -> bool:
    """Add the kind's event (`case_study.sent`, `webinar.invited`) when the message went
    out; its key is the message's, so a re-run adds nothing. The caller commits."""
    if message.status not in _DELIVERED or message.contact_id is None:
        return False
    properties = {kind.detail_field: item_id, "message_id": message.id}
    event = EventInput(
        kind.event_type,
        now,
        properties,
        f"{kind.event_type}:{message.idempotency_key}",
        contact_id=message.contact_id,
    )
    ingest(session, [(0, event)], source="sequences")
    return True


def sent_case_study_ids(session: Session, contact_id: int) -> set[int]:
    """Case studies this contact was sent already (by any sequence)."""
    return {
        int(props["case_study_id"])
        for props in _properties(session, contact_id, CASE_STUDY.event_type)
        if isinstance(props.get("case_study_id"), int)
    }


def interest_topics(session: Session, contact_id: int, *, now: datetime) -> set[str]:
    """Topics of the content this contact clicked in the last year (see the module doc)."""
    clicks = list(
        session.scalars(
            select(Event.properties)
            .where(
                Event.contact_id == contact_id,
                Event.type == "email.clicked",
                Event.occurred_at >= now - INTEREST_LOOKBACK,
            )
            .order_by(Event.occurred_at.desc())
            .limit(MAX_CLICKS)
        )
    )
    human = [c for c in clicks if not c.get("machine")]
    message_ids = {c["message_id"] for c in human if isinstance(c.get("message_id"), int)}
    urls = {c["url"] for c in human if isinstance(c.get("url"), str)}
    topics: set[str] = set()
    if message_ids:
        for extra in session.scalars(
            select(EmailMessage.extra).where(EmailMessage.id.in_(sorted(message_ids)))
        ):
            topics |= _carried_topics(extra or {})
    if urls:
        for story_topics in session.scalars(
            select(CaseStudy.topics).where(CaseStudy.link.in_(sorted(urls)))
        ):
            topics |= _lowered(story_topics or [])
        topics |= _lowered(session.scalars(select(Article.topic).where(Article.url.in_(urls))))
    return topics


def _carried_topics(extra: Mapping[str, Any]) -> set[str]:
    found: set[str] = set()
    story = extra.get("case_study")
    if isinstance(story, Mapping) and isinstance(story.get("topics"), list):
        found |= _lowered(t for t in story["topics"] if isinstance(t, str))
    for name in ("webinar", "article"):
        item = extra.get(name)
        if isinstance(item, Mapping) and isinstance(item.get("topic"), str):
            found.add(item["topic"].lower())
    return found


def _properties(session: Session, contact_id: int, kind: str) -> list[Mapping[str, Any]]:
    # A contact has few such events: reading them beats a JSON query per dialect.
    return list(
        session.scalars(
            select(Event.properties).where(Event.contact_id == contact_id, Event.type == kind)
        )
    )


def _industry(contact: Contact) -> str | None:
    return contact.company.industry if contact.company is not None else None


def _lowered(values: Iterable[str] | Collection[str]) -> set[str]:
    return {v.strip().lower() for v in values}
