"""`nurture demo`: a realistic consultancy's database, deterministic and safe to load again.

Everything is generated from a seeded random stream, so each run produces the
same companies (keyed by domain), contacts (by e-mail) and events (by
idempotency key `demo:<n>`); a second run finds them all and stores nothing.
Demo addresses use the reserved `.example` domain, so no real mailbox can ever
receive a demo e-mail.
"""

from __future__ import annotations

import random
import re
import unicodedata
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from nurture import accounts, audit
from nurture.demo import library_data
from nurture.demo.data import (
    BUYER_INDUSTRY_FACTOR,
    BUYER_SIZE_FACTOR,
    CONTACTS_PER_SIZE,
    COUNTRIES,
    FORMS,
    INDUSTRIES,
    PAGES,
    PLACES,
    SERVICES,
    SIZE_WEIGHTS,
    STAGE_WEIGHTS,
    TARGET_INDUSTRIES,
    TITLES_BY_INDUSTRY,
    TITLES_COMMON,
    TITLES_JUNIOR,
    WEBINARS,
    WORDS,
    Country,
)
from nurture.models import Company, Contact, Event, Role, User, Webinar, utcnow

COMPANIES_AT_SCALE_1 = 800
CONTACTS_AT_SCALE_1 = 5000
HISTORY_DAYS = 182
KEY_PREFIX = "demo:"
EVENT_BATCH = 5000


@dataclass(frozen=True, slots=True)
class DemoUser:
    email: str
    password: str
    role: Role
    name: str


USERS = (
    DemoUser("admin@demo.nurture", "nurture-demo-admin", Role.ADMIN, "Alex Admin"),
    DemoUser("marketer@demo.nurture", "nurture-demo-marketer", Role.MARKETER, "Maria Marketer"),
    DemoUser("sales1@demo.nurture", "nurture-demo-sales", Role.SALES, "Sam Sales"),
    DemoUser("sales2@demo.nurture", "nurture-demo-sales", Role.SALES, "Priya Pipeline"),
)

# (stage, done, total) after each step of the load.
Progress = Callable[[str, int, int], None]


@dataclass(slots=True)
class DemoResult:
    """What this run added, and what the demo holds in total."""

    users_created: int = 0
    companies_created: int = 0
    contacts_created: int = 0
    events_created: int = 0
    companies: int = 0
    contacts: int = 0
    events: int = 0
    users: list[DemoUser] = field(default_factory=lambda: list(USERS))

    @property
    def changed(self) -> bool:
        return any(
            (
                self.users_created,
                self.companies_created,
                self.contacts_created,
                self.events_created,
            )
        )


def load_demo(
    session: Session,
    *,
    scale: float = 1.0,
    seed: int = 2026,
    now: datetime | None = None,
    on_progress: Progress | None = None,
) -> DemoResult:
    """Load the demo (about 800·scale companies, 5,000·scale contacts, six months of events).

    Only what is missing is stored, so running it again changes nothing. Keep
    `scale` and `seed` the same between runs: they decide what is generated.
    Commits as it goes.
    """
    if not 0 < scale <= 10:
        raise ValueError("scale must be above 0 and at most 10")
    end = (now or utcnow()).replace(hour=0, minute=0, second=0, microsecond=0)
    rng = random.Random(seed)
    progress = on_progress or (lambda _stage, _done, _total: None)
    result = DemoResult()

    sales_ids = _ensure_users(session, result)
    progress("users", len(USERS), len(USERS))

    companies = _companies(rng, max(len(INDUSTRIES), round(COMPANIES_AT_SCALE_1 * scale)))
    result.companies_created = _insert_missing_companies(session, companies)
    domains = [c["domain"] for c in companies]
    company_ids = {
        domain: company_id
        for domain, company_id in session.execute(
            select(Company.domain, Company.id).where(Company.domain.in_(domains))
        )
    }
    session.commit()
    progress("companies", len(companies), len(companies))

    people = _contacts(rng, companies, round(CONTACTS_AT_SCALE_1 * scale), end)
    result.contacts_created = _insert_missing_contacts(session, people, company_ids, sales_ids)
    session.commit()
    progress("contacts", len(people), len(people))

    contact_ids = _ids_by_email(session, [p.email for p in people])
    # The content report knows a webinar by id: the library's webinar of the same title,
    # when the library is loaded first (as `nurture demo` does).
    titles = [title for _, title in WEBINARS]
    webinar_ids = {
        title: webinar_id
        for title, webinar_id in session.execute(
            select(Webinar.title, Webinar.id).where(Webinar.title.in_(titles))
        )
    }
    result.events_created = _insert_missing_events(
        session, rng, people, contact_ids, end, progress, webinar_ids
    )
    if result.events_created:
        _set_last_activity(session, list(contact_ids.values()))
    if result.changed:
        audit.record(
            session,
            actor="cli",
            action="demo.loaded",
            entity_type="demo",
            changes={
                "companies": result.companies_created,
                "contacts": result.contacts_created,
                "events": result.events_created,
            },
        )
    session.commit()
    result.companies = len(company_ids)
    result.contacts = len(contact_ids)
    result.events = (
        session.scalar(
            select(func.count()).select_from(Event).where(Event.idempotency_key.like("demo:%"))
        )
        or 0
    )
    return result


# ---------------------------------------------------------------- users


def _ensure_users(session: Session, result: DemoResult) -> list[int]:
    """Create the demo users that are missing; returns the sales reps' ids in USERS order."""
    existing = {email: user_id for email, user_id in session.execute(select(User.email, User.id))}
    for user in USERS:
        if user.email not in existing:
            created = accounts.create_user(
                session,
                email=user.email,
                password=user.password,
                role=user.role.value,
                name=user.name,
                actor="cli",
            )
            existing[user.email] = created.id
            result.users_created += 1
    session.commit()
    return [existing[u.email] for u in USERS if u.role is Role.SALES]


# ---------------------------------------------------------------- companies


def _companies(rng: random.Random, count: int) -> list[dict[str, Any]]:
    industries = list(INDUSTRIES)
    countries = list(COUNTRIES)
    weights = [c.weight for c in countries]
    sizes = list(SIZE_WEIGHTS)
    companies: list[dict[str, Any]] = []
    domains: set[str] = set()
    for n in range(count):
        # Every industry gets companies, then the rest fall where they fall.
        industry = industries[n] if n < len(industries) else rng.choice(industries)
        country = rng.choices(countries, weights)[0]
        name = _company_name(rng, industry, country)
        domain = _unique(f"{_slug(name)}.example", domains)
        companies.append(
            {
                "name": name,
                "domain": domain,
                "industry": industry,
                "size_band": rng.choices(sizes, list(SIZE_WEIGHTS.values()))[0],
                "country": country.code,
            }
        )
    return companies


def _company_name(rng: random.Random, industry: str, country: Country) -> str:
    pattern = rng.choice(INDUSTRIES[industry])
    last, last2 = rng.sample(country.last_names, 2)
    return pattern.format(last=last, last2=last2, place=rng.choice(PLACES), word=rng.choice(WORDS))


def _insert_missing_companies(session: Session, companies: list[dict[str, Any]]) -> int:
    stored = set(
        session.scalars(
            select(Company.domain).where(Company.domain.in_([c["domain"] for c in companies]))
        )
    )
    now = utcnow()
    missing = [
        {**c, "created_at": now, "updated_at": now} for c in companies if c["domain"] not in stored
    ]
    if missing:
        session.execute(insert(Company.metadata.tables["companies"]), missing)
    return len(missing)


# ---------------------------------------------------------------- contacts


@dataclass(frozen=True, slots=True)
class _Burst:
    """A stretch of keen interest: a buying journey, ended by a signature or not."""

    start: datetime
    end: datetime
    level: float  # 0 quiet .. 1 very engaged, while it lasts


@dataclass(slots=True)
class _Person:
    email: str
    row: dict[str, Any]
    company: dict[str, Any]
    engagement: float  # 0 quiet .. 1 very engaged: the everyday level
    since: datetime  # when they entered the database
    burst: _Burst | None = None
    # When a client signed (their `deal.won`); the lifecycle history moves them to
    # customer at that moment.
    converted: datetime | None = None

    def level(self, when: datetime) -> float:
        """How engaged the person is at `when`."""
        if self.burst is not None and self.burst.start <= when < self.burst.end:
            return max(self.engagement, self.burst.level)
        if self.converted is not None and when >= self.converted:
            # Clients keep reading, less keenly than while they were choosing.
            return max(self.engagement, 0.25)
        return self.engagement


# Stages whose contacts qualified at some point: drawn from better-fitting companies
# and more senior people than the rest.
_BUYER_STAGES = ("mql", "sql", "opportunity", "customer", "former_customer")
_CLIENT_STAGES = ("customer", "former_customer")
# (share with a burst, days it lasts, level range) for contacts still on their way:
# the pipeline is choosing now; some leads and subscribers looked and went quiet.
_OPEN_BURSTS: dict[str, tuple[float, tuple[int, int], tuple[float, float]]] = {
    "opportunity": (1.0, (25, 70), (0.5, 0.95)),
    "sql": (1.0, (20, 60), (0.4, 0.9)),
    "mql": (0.9, (10, 45), (0.3, 0.85)),
    "lead": (0.3, (15, 45), (0.3, 0.8)),
    "subscriber": (0.1, (15, 40), (0.3, 0.7)),
}


def _contacts(
    rng: random.Random, companies: list[dict[str, Any]], count: int, end: datetime
) -> list[_Person]:
    countries = {c.code: c for c in COUNTRIES}
    everyone = list(accumulate(CONTACTS_PER_SIZE[c["size_band"]] for c in companies))
    buyers = list(
        accumulate(
            CONTACTS_PER_SIZE[c["size_band"]]
            * BUYER_SIZE_FACTOR[c["size_band"]]
            * (BUYER_INDUSTRY_FACTOR if c["industry"] in TARGET_INDUSTRIES else 1.0)
            for c in companies
        )
    )
    stages = list(STAGE_WEIGHTS)
    history_start = end - timedelta(days=HISTORY_DAYS)
    emails: set[str] = set()
    people = []
    for _ in range(count):
        stage = rng.choices(stages, list(STAGE_WEIGHTS.values()))[0]
        buyer = stage in _BUYER_STAGES
        company = rng.choices(companies, cum_weights=buyers if buyer else everyone)[0]
        country = countries[company["country"]]
        # Most people share their company's nationality; some do not.
        if rng.random() < 0.15:
            country = rng.choice(COUNTRIES)
        first, last = rng.choice(country.first_names), rng.choice(country.last_names)
        local = f"{_ascii(first)}.{_ascii(last)}".replace(" ", "").replace("'", "")
        email = _unique(f"{local}@{company['domain']}", emails)
        # Decision makers qualify and sign; their analysts and assistants mostly read.
        if rng.random() < (0.1 if buyer else 0.35):
            title = rng.choice(TITLES_JUNIOR)
        else:
            title = rng.choice(TITLES_COMMON + TITLES_BY_INDUSTRY[company["industry"]] * 3)
        # Clients have been around for a while (former ones long enough to have come and
        # gone); subscribers arrive all the time.
        youngest = {"customer": 120, "former_customer": 180}.get(stage)
        oldest = 400 if youngest is None else 900
        since = end - timedelta(
            days=rng.randint(youngest or 5, oldest), minutes=rng.randint(0, 1439)
        )
        person = _Person(
            email=email,
            row={
                "email": email,
                "first_name": first,
                "last_name": last,
                "title": title,
                "phone": _phone(rng, country.code),
                "time_zone": rng.choice(countries[company["country"]].time_zones),
                "locale": country.locale,
                "lifecycle_stage": stage,
                "attributes": {"source": rng.choice(_SOURCES)},
                "created_at": since,
                "updated_at": since,
            },
            company=company,
            # Most contacts are quiet; a few read everything.
            engagement=rng.betavariate(1.2, 5.0),
            since=since,
        )
        _journey(rng, person, stage, max(since, history_start), end)
        people.append(person)
    return people


_SOURCES = ("website", "webinar", "referral", "event", "linkedin", "import")


def _journey(
    rng: random.Random, person: _Person, stage: str, first: datetime, end: datetime
) -> None:
    """When the person was keenest, and when a client signed.

    Clients signed on a day of the history (former clients early enough to have left
    since), after some weeks of reading, clicking and asking; the pipeline is in that
    phase now; a few leads had such weeks and did not buy.
    """
    if stage in _CLIENT_STAGES:
        # Late enough for the weeks before it to lie in the history, early enough for a
        # former client to have finished the work and left since.
        lo = max(first + timedelta(days=75), person.since + timedelta(days=30))
        hi = end - timedelta(days=7 if stage == "customer" else 70)
        signed = _moment(rng, lo, max(hi, lo + timedelta(days=1)))
        person.converted = signed
        weeks = timedelta(days=rng.randint(30, 80))
        person.burst = _Burst(max(first, signed - weeks), signed, rng.uniform(0.35, 0.9))
        return
    share, (shortest, longest), (low, high) = _OPEN_BURSTS.get(stage, (0.0, (1, 1), (0, 0)))
    if rng.random() >= share:
        return
    days = timedelta(days=rng.randint(shortest, longest))
    if stage in ("mql", "sql", "opportunity"):
        finish = end
    else:
        finish = _moment(rng, min(first + days, end), end)
    person.burst = _Burst(max(first, finish - days), finish, rng.uniform(low, high))


def _insert_missing_contacts(
    session: Session,
    people: list[_Person],
    company_ids: dict[str | None, int],
    sales_ids: list[int],
) -> int:
    stored = set(_ids_by_email(session, [p.email for p in people]))
    rows = []
    for person in people:
        if person.email in stored:
            continue
        row = dict(person.row)
        company_id = company_ids[person.company["domain"]]
        row["company_id"] = company_id
        # Accounts further down the funnel belong to a sales rep, one rep per company.
        owned = row["lifecycle_stage"] not in ("subscriber", "lead", "other")
        row["owner_id"] = sales_ids[company_id % len(sales_ids)] if owned else None
        rows.append(row)
    for start in range(0, len(rows), 2000):
        session.execute(insert(Contact.metadata.tables["contacts"]), rows[start : start + 2000])
    return len(rows)


def _ids_by_email(session: Session, emails: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(emails), 1000):
        chunk = emails[start : start + 1000]
        for email, contact_id in session.execute(
            select(Contact.email, Contact.id).where(Contact.email.in_(chunk))
        ):
            if email is not None:
                found[email] = contact_id
    return found


# ---------------------------------------------------------------- events


def _insert_missing_events(
    session: Session,
    rng: random.Random,
    people: list[_Person],
    contact_ids: dict[str, int],
    end: datetime,
    progress: Progress,
    webinar_ids: dict[str, int],
) -> int:
    stored = set(
        session.scalars(select(Event.idempotency_key).where(Event.idempotency_key.like("demo:%")))
    )
    now = utcnow()
    batch: list[dict[str, Any]] = []
    inserted = 0
    table = Event.metadata.tables["events"]
    history = _history(rng, people, end, webinar_ids)
    for n, (done, person, kind, when, properties) in enumerate(history):
        key = f"{KEY_PREFIX}{n}"
        if key in stored or person.email not in contact_ids:
            continue
        batch.append(
            {
                "contact_id": contact_ids[person.email],
                "type": kind,
                "occurred_at": when,
                "received_at": when,
                "properties": properties,
                "source": "demo",
                "idempotency_key": key,
                # History, not news: the workers need not react to it.
                "processed_at": now,
            }
        )
        if len(batch) >= EVENT_BATCH:
            session.execute(insert(table), batch)
            session.commit()
            inserted += len(batch)
            batch = []
            progress("events", done, len(people))
    if batch:
        session.execute(insert(table), batch)
        inserted += len(batch)
    progress("events", len(people), len(people))
    return inserted


Happening = tuple[_Person, str, datetime, dict[str, Any]]


def _history(
    rng: random.Random, people: list[_Person], end: datetime, webinar_ids: dict[str, int]
) -> Iterator[tuple[int, *Happening]]:
    """Six months of plausible activity, in a fixed order so the keys stay stable.

    Each item starts with how many people were fully done before it (for progress).
    """
    start = end - timedelta(days=HISTORY_DAYS)
    newsletters = [start + timedelta(days=3 + 14 * i, hours=8) for i in range(HISTORY_DAYS // 14)]
    webinars = [
        (slug, title, webinar_ids.get(title), start + timedelta(days=20 + 28 * i, hours=15))
        for i, (slug, title) in enumerate(WEBINARS)
    ]
    for done, person in enumerate(people):
        for happening in _person_history(rng, person, start, end, newsletters, webinars):
            yield (done, *happening)


def _person_history(
    rng: random.Random,
    person: _Person,
    start: datetime,
    end: datetime,
    newsletters: list[datetime],
    webinars: list[tuple[str, str, int | None, datetime]],
) -> Iterator[Happening]:
    stage = person.row["lifecycle_stage"]
    industry = person.company["industry"]
    first = max(start, person.since)
    burst = person.burst

    for issue, sent in enumerate(newsletters, start=1):
        if sent < first or stage == "other":
            continue
        engagement = person.level(sent)
        campaign = f"newsletter-{sent:%Y-%m}-{issue}"
        yield person, "email.sent", sent, {"campaign": campaign}
        if rng.random() < 0.05 + 0.6 * engagement:
            opened = sent + timedelta(minutes=rng.randint(3, 48 * 60))
            yield person, "email.opened", opened, {"campaign": campaign}
            if rng.random() < 0.1 + 0.4 * engagement:
                service = rng.choice(SERVICES)
                clicked = opened + timedelta(seconds=rng.randint(10, 600))
                url = _clicked_url(person, campaign, service.slug, industry)
                yield person, "email.clicked", clicked, {"campaign": campaign, "url": url}

    # Everyday browsing, spread over the months...
    visits = int(rng.expovariate(1.0) * 20 * person.engagement**2)
    for _ in range(visits):
        yield from _visit(rng, person, industry, _moment(rng, first, end), buying=False)
    if rng.random() < 0.3 * person.engagement:
        yield person, "form.submitted", _moment(rng, first, end), {"form": rng.choice(FORMS)}
    # ...and the weeks of choosing: services, client stories, pricing, a form or two.
    if burst is not None:
        weeks = (burst.end - burst.start).days / 7
        for _ in range(int(rng.expovariate(1.0) * weeks * 0.7 * burst.level)):
            yield from _visit(rng, person, industry, _moment(rng, burst.start, burst.end))
        for _ in range(rng.randint(0, 2) if rng.random() < 0.9 * burst.level else 0):
            form = rng.choice(_BUYING_FORMS)
            yield person, "form.submitted", _moment(rng, burst.start, burst.end), {"form": form}

    for slug, title, webinar_id, when in webinars:
        engagement = person.level(when)
        if when < first or when > end or rng.random() > 0.4 * engagement:
            continue
        registered = when - timedelta(days=rng.randint(1, 14), hours=rng.randint(0, 8))
        properties: dict[str, Any] = {"webinar": slug, "title": title}
        if webinar_id is not None:
            properties["webinar_id"] = webinar_id
        yield person, "webinar.registered", max(first, registered), properties
        attended = rng.random() < 0.45 + 0.4 * engagement
        yield person, "webinar.attended" if attended else "webinar.no_show", when, properties

    talking = stage in ("sql", "opportunity", *_CLIENT_STAGES)
    if burst is not None and (talking or (stage == "mql" and rng.random() < 0.2)):
        for _ in range(rng.randint(1, 2)):
            when = _moment(rng, burst.start, burst.end)
            yield person, "meeting.booked", when, {"kind": "discovery call"}

    if person.converted is not None:
        service = rng.choice(SERVICES)
        won = person.converted
        amount = round(service.typical_fee * rng.uniform(0.6, 1.8), -3)
        yield (
            person,
            "deal.won",
            won,
            {"service": service.slug, "amount": amount, "currency": "EUR"},
        )
        if rng.random() < 0.4:
            done = min(end, won + timedelta(days=rng.randint(20, 90)))
            yield person, "project.completed", done, {"service": service.slug}
            if rng.random() < 0.7:
                score = rng.choices(range(11), [2, 1, 1, 2, 2, 3, 4, 10, 20, 30, 25])[0]
                answered = min(end, done + timedelta(days=rng.randint(2, 10)))
                yield person, "nps.answered", answered, {"score": score, "service": service.slug}


_PRICING = next(page for page in PAGES if page[0] == "/pricing")
_BUYING_FORMS = ("assessment-request", "contact-us", "whitepaper-download")


# What a newsletter links to besides the service pages: the library's stories and articles.
_STORY_LINKS: dict[str, list[str]] = {}
for _story in library_data.STORIES:
    _STORY_LINKS.setdefault(_story.industry, []).append(library_data.case_study_link(_story))
_ARTICLE_URLS = [library_data.article_url(piece) for piece in library_data.ARTICLES]


def _clicked_url(person: _Person, campaign: str, service: str, industry: str) -> str:
    """The link a newsletter click followed: about half the time a client story of the
    reader's industry or an article, otherwise a service page.

    Picked by a hash rather than the random stream, so changing the links does not
    reshuffle every event generated after it (and their keys).
    """
    pick = zlib.crc32(f"{person.email}|{campaign}".encode())
    roll, index = pick % 100, pick // 100
    stories = _STORY_LINKS.get(industry, [])
    if roll < 25 and stories:
        return stories[index % len(stories)]
    if roll < 50:
        return _ARTICLE_URLS[index % len(_ARTICLE_URLS)]
    return f"/services/{service}"


def _visit(
    rng: random.Random, person: _Person, industry: str, when: datetime, *, buying: bool = True
) -> Iterator[Happening]:
    """A short session: one to four pages, a minute or two apart. Someone choosing a
    consultancy reads its services and client stories and looks at the prices."""
    for _ in range(rng.randint(1, 4)):
        roll = rng.random()
        if buying and roll < 0.2:
            path, title = _PRICING
        elif roll < 0.35 or (buying and roll < 0.5):
            service = rng.choice(SERVICES)
            path, title = f"/services/{service.slug}", service.name
        elif roll < 0.55 or (buying and roll < 0.7):
            path = f"/case-studies/{_slug(industry)}"
            title = f"Case studies: {industry}"
        else:
            path, title = rng.choice(PAGES)
        yield person, "page.visited", when, {"path": path, "title": title}
        when += timedelta(seconds=rng.randint(20, 240))


def _moment(rng: random.Random, first: datetime, end: datetime) -> datetime:
    """A working-hours moment between `first` and `end` (any moment, when the span is
    too short for working hours to fit)."""
    span = max(1, (end - first).days)
    day = first + timedelta(days=rng.randrange(span))
    moment = day.replace(hour=rng.randint(7, 18), minute=rng.randint(0, 59), tzinfo=UTC)
    if first <= moment < end:
        return moment
    return first + (end - first) * rng.random()


def _set_last_activity(session: Session, contact_ids: list[int]) -> None:
    """Each demo contact's last activity: one statement per thousand contacts, not one each."""
    latest = (
        select(func.max(Event.occurred_at)).where(Event.contact_id == Contact.id).scalar_subquery()
    )
    for start in range(0, len(contact_ids), 1000):
        chunk = contact_ids[start : start + 1000]
        session.execute(
            update(Contact).where(Contact.id.in_(chunk)).values(last_activity_at=latest),
            execution_options={"synchronize_session": False},
        )


# ---------------------------------------------------------------- text helpers


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return plain.lower()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", _ascii(text).replace("&", "and")).strip("-")


def _unique(value: str, taken: set[str]) -> str:
    """`value`, or `value` with a number before its first dot or @, not yet in `taken`."""
    candidate, n = value, 1
    while candidate in taken:
        n += 1
        head, sep, tail = value.partition("@") if "@" in value else value.partition(".")
        candidate = f"{head}{n}{sep}{tail}"
    taken.add(candidate)
    return candidate


def _phone(rng: random.Random, country: str) -> str:
    codes = {"US": "+1", "CA": "+1", "GB": "+44", "DE": "+49", "FR": "+33", "NL": "+31"}
    codes |= {"ES": "+34", "IT": "+39", "SE": "+46", "PL": "+48", "IN": "+91", "RU": "+7"}
    codes |= {"BR": "+55", "AU": "+61"}
    return f"{codes.get(country, '+1')} {rng.randint(100, 999)} {rng.randint(1000000, 9999999)}"
