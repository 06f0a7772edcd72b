"""Synthetic data for the segments benchmark, generated inside PostgreSQL.

Rows are made by INSERT ... SELECT over generate_series in chunks (a progress
bar per table), so a million contacts and ten million events take minutes.
Distributions are skewed the way real nurture data is: a few contacts do
most of the clicking, law and consulting firms dominate, most events are
opens and page visits, and the recent past is busier than last year.
"""

from __future__ import annotations

import time
from datetime import datetime

from sqlalchemy import Engine, text
from tqdm import tqdm

INDUSTRIES = (
    "legal", "legal", "legal", "consulting", "consulting", "accounting", "it services",
    "engineering", "marketing", "financial services", "healthcare", "real estate",
    "architecture", "software",
)  # fmt: skip
SIZE_BANDS = ("1-10", "11-50", "11-50", "51-200", "51-200", "201-1000", "1001-5000", "5001+")
COUNTRIES = ("DE", "DE", "DE", "AT", "CH", "GB", "FR", "NL", "US", "US", "SE", "PL")
TITLES = (
    "Partner", "Senior Partner", "Managing Director", "Director of Operations", "Associate",
    "Senior Associate", "Counsel", "General Counsel", "Head of Compliance", "Office Manager",
    "Analyst", "Consultant", "Marketing Manager", "CFO", "Intern",
)  # fmt: skip
STAGES = (
    "subscriber", "lead", "lead", "lead", "mql", "sql", "opportunity", "customer",
    "former_customer",
)  # fmt: skip
TOPICS = (
    "compliance", "gdpr", "litigation", "m-and-a", "tax", "hiring", "pricing", "esg", "cloud",
    "security", "compliance-checklist", "case-study",
)  # fmt: skip
CHUNK = 250_000


def _array(values: tuple[str, ...]) -> str:
    quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    return f"(ARRAY[{quoted}])[1 + floor(random() * {len(values)})::int]"


COMPANIES_SQL = f"""
INSERT INTO companies (name, domain, industry, size_band, country, created_at, updated_at)
SELECT 'Company ' || g, 'c' || g || '.example', {_array(INDUSTRIES)}, {_array(SIZE_BANDS)},
       {_array(COUNTRIES)}, :now, :now
FROM generate_series(CAST(:lo AS bigint), CAST(:hi AS bigint)) AS g
"""

CONTACTS_SQL = f"""
INSERT INTO contacts (email, first_name, last_name, title, lifecycle_stage, company_id,
                      attributes, score, fit_grade, created_at, updated_at)
SELECT 'p' || g || '@bench.example', 'First' || g, 'Last' || g, {_array(TITLES)},
       {_array(STAGES)},
       CASE WHEN random() < 0.93 THEN 1 + floor(random() * CAST(:companies AS bigint))::bigint END,
       CASE WHEN random() < 0.3
            THEN jsonb_build_object('plan', {_array(("basic", "pro", "team"))})
            ELSE '{{}}'::jsonb END,
       floor(power(random(), 1.5) * 100)::int,
       (ARRAY['A', 'B', 'C', 'D', NULL])[1 + floor(random() * 5)::int],
       :now - random() * interval '720 days', :now
FROM generate_series(CAST(:lo AS bigint), CAST(:hi AS bigint)) AS g
"""

# Contact ids skewed towards low ids (power 2.5): a few people are very active.
EVENTS_SQL = f"""
INSERT INTO events (contact_id, type, occurred_at, received_at, properties, source, processed_at)
SELECT contact_id, type, at, at,
       CASE WHEN type IN ('email.clicked', 'page.visited')
              THEN jsonb_build_object('url', '/insights/' || topic || '-' || (g % 50))
            WHEN type = 'nps.answered'
              THEN jsonb_build_object('score', floor(random() * 11)::int)
            WHEN type LIKE 'webinar.%'
              THEN jsonb_build_object('webinar', 'w-' || (g % 20))
            ELSE jsonb_build_object('campaign', 'c-' || (g % 30)) END,
       'bench', at
FROM (
  SELECT g, 1 + floor(CAST(:contacts AS bigint) * power(random(), 2.5))::bigint AS contact_id,
         CASE WHEN r < 0.35 THEN 'email.opened' WHEN r < 0.50 THEN 'email.clicked'
              WHEN r < 0.85 THEN 'page.visited' WHEN r < 0.90 THEN 'form.submitted'
              WHEN r < 0.94 THEN 'webinar.registered' WHEN r < 0.97 THEN 'webinar.attended'
              WHEN r < 0.985 THEN 'nps.answered' ELSE 'deal.won' END AS type,
         :now - power(random(), 1.3) * interval '365 days' AS at,
         {_array(TOPICS)} AS topic
  FROM (SELECT g, random() AS r
        FROM generate_series(CAST(:lo AS bigint), CAST(:hi AS bigint)) AS g) AS drawn
) AS made
"""

SUPPRESSIONS_SQL = """
INSERT INTO suppressions (email_hash, reason, created_at)
SELECT encode(sha256(convert_to(email, 'UTF8')), 'hex'), 'unsubscribed', :now
FROM contacts WHERE id % 33 = 0
"""

LAST_ACTIVITY_SQL = """
UPDATE contacts AS c SET last_activity_at = a.last
FROM (SELECT contact_id, max(occurred_at) AS last FROM events GROUP BY contact_id) AS a
WHERE a.contact_id = c.id
"""

EVENT_INDEX = "ix_events_contact_type_time"


def generate(
    engine: Engine, *, contacts: int, companies: int, events: int, now: datetime
) -> dict[str, float]:
    """Fill an empty, migrated database; returns seconds spent per step."""
    timings: dict[str, float] = {}
    with engine.begin() as conn:
        conn.execute(text("SELECT setseed(0.42)"))
    _chunked(engine, "companies", COMPANIES_SQL, companies, timings, now=now)
    _chunked(engine, "contacts", CONTACTS_SQL, contacts, timings, now=now, companies=companies)
    # Building the behaviour index once after the load is much faster than
    # maintaining it row by row during it.
    with engine.begin() as conn:
        conn.execute(text(f"DROP INDEX IF EXISTS {EVENT_INDEX}"))
    _chunked(engine, "events", EVENTS_SQL, events, timings, now=now, contacts=contacts)
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text("SET maintenance_work_mem = '512MB'"))
        conn.execute(text(f"CREATE INDEX {EVENT_INDEX} ON events (contact_id, type, occurred_at)"))
        conn.execute(text(SUPPRESSIONS_SQL), {"now": now})
        conn.execute(text(LAST_ACTIVITY_SQL))
    timings["indexes_and_activity"] = time.perf_counter() - started
    started = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    timings["vacuum_analyze"] = time.perf_counter() - started
    return timings


def _chunked(
    engine: Engine,
    name: str,
    sql: str,
    total: int,
    timings: dict[str, float],
    **params: object,
) -> None:
    started = time.perf_counter()
    with tqdm(total=total, desc=name, unit="rows", unit_scale=True) as bar:
        for lo in range(1, total + 1, CHUNK):
            hi = min(total, lo + CHUNK - 1)
            with engine.begin() as conn:
                conn.execute(text(sql), {"lo": lo, "hi": hi, **params})
            bar.update(hi - lo + 1)
    timings[name] = time.perf_counter() - started
