"""The demo's reviews: finished projects of the last nine months and what their clients
said, so the Reviews pages show real numbers at once.

The default survey sequence is installed; fourteen projects across the services and
both account managers were completed, their clients surveyed and most of them
answered (promoters, passives and detractors, with follow-up answers and comments);
promoters approved testimonials and referred colleagues, whose referrals stand at
every status (lead, qualified, won, rewarded, and refused). All of it goes through the
reviews domain's own functions with the times it happened, so the rows and events are
what the real flow would have left. Those events are history: they are marked
processed, so no worker reacts to them (a survey e-mail months late, say).

Skipped when the first demo project is already there, so `nurture demo` stays safe to
run again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from campaigns.email.mailconfig import MailConfig
from nurture import events
from nurture.demo.loader import USERS
from nurture.models import (
    Attribution,
    Company,
    Contact,
    Event,
    NpsSurvey,
    Project,
    Referral,
    Role,
    utcnow,
)
from nurture.qualification.lifecycle import change_stage
from nurture.qualification.qualify import LEAD_QUALIFIED
from nurture.reviews import answers, projects, referrals, surveys, testimonials
from nurture.reviews.default_sequence import install_survey_sequence

ACTOR = "demo"
EXTERNAL_PREFIX = "demo-project-"
# The survey e-mail goes this long after completion, as the default sequence waits.
SURVEY_DELAY = timedelta(days=3)


@dataclass(frozen=True, slots=True)
class DemoProject:
    label: str  # "<company>: <label>" is the project's name
    service: str  # a slug of nurture.demo.data.SERVICES
    manager: int  # index into the demo's sales reps
    days_ago: int  # completed this many days before `now`
    # One score per client contact; None: surveyed, no answer (yet).
    scores: tuple[int | None, ...]


PROJECTS = (
    DemoProject("Data platform build", "data-platform", 0, 265, (10, 9, None)),
    DemoProject("Cloud migration, phase 1", "cloud-migration", 1, 240, (6, 8)),
    DemoProject("Process automation pilot", "process-automation", 0, 215, (9, 7, 10)),
    DemoProject("Cyber-security review", "cyber-security-review", 1, 190, (4, None)),
    DemoProject("Digital strategy refresh", "digital-strategy", 0, 168, (10, 9)),
    DemoProject("ERP selection", "erp-selection", 1, 150, (8, 7, None)),
    DemoProject("AI readiness assessment", "ai-readiness", 0, 128, (9, 3)),
    DemoProject("Managed analytics onboarding", "managed-analytics", 1, 110, (10, 8)),
    DemoProject("Cloud migration, phase 2", "cloud-migration", 0, 92, (9, 9, 6)),
    DemoProject("Data platform extension", "data-platform", 1, 75, (7, None)),
    DemoProject("Process automation roll-out", "process-automation", 0, 58, (10, 5)),
    DemoProject("Cyber-security retest", "cyber-security-review", 1, 41, (9, 8)),
    DemoProject("Digital strategy workshop", "digital-strategy", 0, 26, (10, None, 2)),
    DemoProject("ERP implementation support", "erp-selection", 1, 12, (None, None)),
)

# What each category answered to its follow-up question, in turn.
FOLLOW_UPS = {
    "promoter": (
        "The team knew our business after two weeks and never lost sight of the goal.",
        "Clear weekly updates and no surprises on the invoice.",
        "They left us able to run it ourselves, which is rare.",
    ),
    "passive": (
        "Faster answers between the steering meetings would have made it a 10.",
        "Good work, but the hand-over documentation came late.",
    ),
    "detractor": (
        "The timeline slipped twice and we heard about it late.",
        "Too many junior people on a critical phase.",
    ),
}
COMMENTS = (
    "Happy to talk to other clients about it.",
    "We would like a follow-up review in six months.",
    None,
)
QUOTES = (
    "Within two months our finance team had numbers they trust. The consultants worked "
    "as part of our team, not beside it.",
    "They told us what not to automate, which saved us more than what they built.",
    "A calm, well-run migration: no outage, no drama, and a team that explained every "
    "trade-off in plain words.",
    "The strategy work gave our board a plan it could actually fund and follow.",
)
ATTRIBUTIONS = (
    Attribution.NAME_COMPANY,
    Attribution.TITLE_ONLY,
    Attribution.NAME_COMPANY,
    Attribution.ANONYMOUS,
)
CONSENT_WORDING = "I agree that the firm may publish these words with the name I chose."
# The referred colleagues, and how far each referral went (refused: the advocate
# typed their own address).
REFERRALS = (
    ("Jonas", "Weber", "lead"),
    ("Amelia", "Hart", "qualified"),
    ("Tomasz", "Nowak", "won"),
    ("Grace", "Okafor", "rewarded"),
    ("", "", "refused"),
)


@dataclass(frozen=True, slots=True)
class ReviewsResult:
    projects: int = 0
    surveys: int = 0
    answers: int = 0
    testimonials: int = 0
    referrals: int = 0


def seed_demo_reviews(
    session: Session, *, config: MailConfig, now: datetime | None = None
) -> ReviewsResult:
    """Add the demo's projects, surveys, answers, testimonials and referrals once.

    Needs the demo users, companies, contacts and services (`load_demo`,
    `seed_demo_library`) and the starter templates. Commits.
    """
    now = now or utcnow()
    install_survey_sequence(session, actor=ACTOR)
    session.commit()
    if session.scalar(select(Project.id).where(Project.external_id == f"{EXTERNAL_PREFIX}01")):
        return ReviewsResult()
    first_new_event = (session.scalar(select(func.max(Event.id))) or 0) + 1
    managers = [u.email for u in USERS if u.role is Role.SALES]
    team = [u.email for u in USERS if u.role is not Role.SALES]
    signer = config.signer
    promoters: list[tuple[NpsSurvey, datetime]] = []
    made = answered = reported = 0
    for number, (spec, (company, clients)) in enumerate(
        zip(PROJECTS, _client_groups(session, [len(p.scores) for p in PROJECTS]), strict=False),
        start=1,
    ):
        completed = now - timedelta(days=spec.days_ago, hours=number % 5)
        manager = managers[spec.manager % len(managers)]
        reported += 1
        projects.upsert_project(
            session,
            projects.ProjectInput(
                external_id=f"{EXTERNAL_PREFIX}{number:02d}",
                name=f"{company}: {spec.label}",
                status="completed",
                clients=tuple(projects.ClientRef(contact_id=c) for c in clients),
                company=company,
                service=spec.service,
                account_manager=manager,
                team=(manager, *team),
                started_on=(completed - timedelta(days=70 + 9 * number)).date(),
                ends_on=completed.date(),
            ),
            actor=ACTOR,
            now=completed,
        )
        for index, (contact_id, score) in enumerate(zip(clients, spec.scores, strict=False)):
            sent = completed + SURVEY_DELAY + timedelta(hours=index)
            survey = surveys.survey_for(session, contact_id, enrolment_id=None, now=sent)
            if survey is None:
                continue
            survey.sent_at = sent
            made += 1
            if score is None:
                continue
            token = surveys.token(signer, survey)
            when = sent + timedelta(hours=2 + 7 * ((number + index) % 6))
            result = answers.record_score(session, token, score, signer=signer, now=when)
            answered += 1
            category = result.survey.category or "detractor"
            texts = FOLLOW_UPS[category]
            answers.record_follow_up(
                session,
                token,
                signer=signer,
                follow_up=texts[(number + index) % len(texts)],
                comment=COMMENTS[(number + index) % len(COMMENTS)],
                now=when + timedelta(minutes=3),
            )
            if category == "promoter":
                promoters.append((result.survey, when))
        session.flush()
    approved = _testimonials(session, config, promoters)
    referred = _referrals(session, config, promoters, now)
    _mark_history(session, first_new_event)
    session.commit()
    return ReviewsResult(reported, made, answered, approved, referred)


def _client_groups(session: Session, sizes: list[int]) -> list[tuple[str, list[int]]]:
    """(company name, client contact ids) for as many projects as the demo's companies
    allow: companies with enough contacts, customers first, each company and contact
    used once. Only companies whose name is theirs alone: a project names its company
    by name."""
    stage_order = case((Contact.lifecycle_stage == "customer", 0), else_=1)
    shared_names = (
        select(Company.name).group_by(Company.name).having(func.count() > 1).scalar_subquery()
    )
    rows = session.execute(
        select(Company.id, Company.name, Contact.id)
        .join(Contact, Contact.company_id == Company.id)
        .where(
            Contact.erased_at.is_(None),
            Contact.email.is_not(None),
            Contact.email.like("%.example"),
            Company.name.not_in(shared_names),
        )
        .order_by(stage_order, Company.id, Contact.id)
    ).all()
    by_company: dict[int, tuple[str, list[int]]] = {}
    for company_id, name, contact_id in rows:
        by_company.setdefault(company_id, (name, []))[1].append(contact_id)
    groups: list[tuple[str, list[int]]] = []
    used: set[int] = set()
    for size in sizes:
        free = [(cid, found) for cid, found in by_company.items() if cid not in used]
        if not free:
            # A tiny demo (`--scale 0.01`) has fewer companies: fewer projects, then.
            break
        # One with enough contacts, else the biggest left with fewer clients.
        company_id, (name, contacts) = next(
            ((cid, found) for cid, found in free if len(found[1]) >= size),
            max(free, key=lambda item: len(item[1][1])),
        )
        used.add(company_id)
        groups.append((name, contacts[:size]))
    return groups


def _testimonials(
    session: Session, config: MailConfig, promoters: list[tuple[NpsSurvey, datetime]]
) -> int:
    """Testimonials asked of every promoter; the first few approved, word by word."""
    approved = 0
    for index, (survey, answered_at) in enumerate(promoters):
        asked = answered_at + timedelta(days=2)
        testimonial = testimonials.testimonial_for(session, survey.contact_id, now=asked)
        if testimonial is None or index >= len(QUOTES):
            continue
        token = testimonials.form_url(config.signer, config.base_url, testimonial).rsplit("/", 1)[1]
        testimonials.approve(
            session,
            token,
            signer=config.signer,
            quote=QUOTES[index],
            attribution=ATTRIBUTIONS[index].value,
            consent=True,
            now=asked + timedelta(hours=20),
            wording=CONSENT_WORDING,
            locale="en",
        )
        approved += 1
    session.flush()
    return approved


def _referrals(
    session: Session,
    config: MailConfig,
    promoters: list[tuple[NpsSurvey, datetime]],
    now: datetime,
) -> int:
    """Referral invitations to the promoters, and a colleague's referral at each status."""
    advocates = promoters[: len(REFERRALS)]
    for index, ((survey, answered_at), (first, last, status)) in enumerate(
        zip(advocates, REFERRALS, strict=False)
    ):
        invited = answered_at + timedelta(days=4)
        code = referrals.code_for(session, survey.contact_id, survey_id=survey.id, now=invited)
        code.invited_at = code.invited_at or invited
        advocate = session.get(Contact, survey.contact_id)
        if status == "refused" and advocate is not None and advocate.email:
            form = referrals.ReferralForm(
                email=advocate.email, first_name=advocate.first_name or "Me", consent=True
            )
        else:
            form = referrals.ReferralForm(
                email=f"{first}.{last}@referred-{index}.example".lower(),
                first_name=first,
                last_name=last,
                company=f"{last} & Partners",
                consent=True,
                locale="en",
            )
        submitted_at = invited + timedelta(days=1, hours=index)
        outcome = referrals.submit(session, code.code, form, now=submitted_at)
        session.flush()
        if outcome.referral_id is None or status in ("lead", "refused"):
            continue
        referred = session.scalar(
            select(Referral.referred_contact_id).where(Referral.id == outcome.referral_id)
        )
        if referred is None:
            continue
        moved_at = min(submitted_at + timedelta(days=12), now - timedelta(days=1))
        _advance(session, _qualified(session, referred, moved_at))
        if status in ("won", "rewarded"):
            won_at = min(moved_at + timedelta(days=20), now - timedelta(hours=12))
            stored = change_stage(
                session,
                referred,
                "customer",
                reason="signed the first project",
                source=ACTOR,
                now=won_at,
                actor=ACTOR,
            )
            _advance(session, stored)
        if status == "rewarded":
            referrals.decide_reward(
                session,
                outcome.referral_id,
                approve=True,
                note="A donation to the advocate's chosen charity",
                user="admin@demo.nurture",
                now=now - timedelta(hours=6),
            )
    session.flush()
    return len(advocates)


def _qualified(session: Session, contact_id: int, when: datetime) -> list[int]:
    """The referred lead qualifies: an MQL, and `lead.qualified` as qualification writes."""
    moved = change_stage(session, contact_id, "mql", reason="", source=ACTOR, now=when, actor=ACTOR)
    stored = events.store_known(
        session,
        [
            events.EventInput(
                LEAD_QUALIFIED,
                when,
                {"source": ACTOR},
                f"demo:{LEAD_QUALIFIED}:{contact_id}",
                contact_id=contact_id,
            )
        ],
        source=ACTOR,
    )
    return [*moved, *stored]


def _advance(session: Session, event_ids: list[int]) -> None:
    session.flush()
    rows = list(session.scalars(select(Event).where(Event.id.in_(event_ids))))
    referrals.advance(session, rows)


def _mark_history(session: Session, first_event_id: int) -> None:
    session.flush()
    ids = session.scalars(
        select(Event.id).where(Event.id >= first_event_id, Event.processed_at.is_(None))
    )
    events.mark_processed(session, list(ids))
