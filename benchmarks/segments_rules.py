"""The five benchmark rules, each with a hand-written PostgreSQL query for the same contacts.

The SQL was written from the rule's meaning, not from the compiler's output,
the way an engineer would write it for a one-off list; the benchmark checks
that both select exactly the same ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Case:
    name: str
    describe: str
    # The rule node; "$segment:<name>" stands for the id of an earlier case's segment.
    node: dict[str, Any]
    sql: str


def _field(name: str, op: str, value: Any = None) -> dict[str, Any]:
    return {"field": name, "op": op, **({} if value is None else {"value": value})}


LAW_DACH = Case(
    "law_dach",
    "partners/directors at law firms of 50+ in DE/AT who clicked compliance content in 60 "
    "days, no webinar attended, score > 40, not customers, not unsubscribed",
    {
        "all": [
            _field("company.industry", "equals", "legal"),
            _field("company.size_band", "at_least", "51-200"),
            _field("company.country", "in", ["DE", "AT"]),
            {
                "any": [
                    _field("title", "contains", "partner"),
                    _field("title", "contains", "director"),
                ]
            },
            {
                "event": "email.clicked",
                "op": "at_least",
                "times": 1,
                "within_last_days": 60,
                "where": [{"property": "url", "op": "contains", "value": "compliance"}],
            },
            {"event": "webinar.attended", "op": "never"},
            _field("score", "gt", 40),
            _field("lifecycle_stage", "not_equals", "customer"),
            _field("suppressed", "equals", False),
        ]
    },
    """
    SELECT c.id FROM contacts c JOIN companies co ON co.id = c.company_id
    WHERE c.erased_at IS NULL AND co.industry = 'legal'
      AND co.size_band IN ('51-200', '201-1000', '1001-5000', '5001+')
      AND co.country IN ('DE', 'AT')
      AND (c.title ILIKE '%partner%' OR c.title ILIKE '%director%')
      AND c.score > 40 AND c.lifecycle_stage <> 'customer'
      AND EXISTS (SELECT 1 FROM events e WHERE e.contact_id = c.id AND e.type = 'email.clicked'
                  AND e.occurred_at >= :now - interval '60 days'
                  AND e.properties ->> 'url' ILIKE '%compliance%')
      AND NOT EXISTS (SELECT 1 FROM events e
                      WHERE e.contact_id = c.id AND e.type = 'webinar.attended')
      AND NOT EXISTS (SELECT 1 FROM suppressions s
                      WHERE s.email_hash = encode(sha256(convert_to(c.email, 'UTF8')), 'hex'))
    """,
)

ENGAGED_READERS = Case(
    "engaged_readers",
    "opened 3+ e-mails in 30 days, read an insights page in 14 days, no form in 90 days",
    {
        "all": [
            {"event": "email.opened", "op": "at_least", "times": 3, "within_last_days": 30},
            {
                "event": "page.visited",
                "op": "at_least",
                "times": 1,
                "within_last_days": 14,
                "where": [{"property": "url", "op": "starts_with", "value": "/insights/"}],
            },
            {"event": "form.submitted", "op": "never", "within_last_days": 90},
        ]
    },
    """
    WITH readers AS (
      SELECT contact_id FROM events
      WHERE type = 'email.opened' AND occurred_at >= :now - interval '30 days'
      GROUP BY contact_id HAVING count(*) >= 3)
    SELECT c.id FROM contacts c JOIN readers r ON r.contact_id = c.id
    WHERE c.erased_at IS NULL
      AND EXISTS (SELECT 1 FROM events e WHERE e.contact_id = c.id AND e.type = 'page.visited'
                  AND e.occurred_at >= :now - interval '14 days'
                  AND e.properties ->> 'url' ILIKE '/insights/%')
      AND NOT EXISTS (SELECT 1 FROM events e WHERE e.contact_id = c.id
                      AND e.type = 'form.submitted'
                      AND e.occurred_at >= :now - interval '90 days')
    """,
)

DACH_PIPELINE = Case(
    "dach_pipeline",
    "MQL/SQL/opportunity decision makers in DE/AT/CH with score >= 60 (fields only)",
    {
        "all": [
            _field("lifecycle_stage", "in", ["mql", "sql", "opportunity"]),
            _field("company.country", "in", ["DE", "AT", "CH"]),
            _field("score", "gte", 60),
            {
                "any": [
                    _field("title", "contains", "head"),
                    _field("title", "contains", "director"),
                    _field("title", "equals", "CFO"),
                ]
            },
        ]
    },
    """
    SELECT c.id FROM contacts c JOIN companies co ON co.id = c.company_id
    WHERE c.erased_at IS NULL AND c.lifecycle_stage IN ('mql', 'sql', 'opportunity')
      AND co.country IN ('DE', 'AT', 'CH') AND c.score >= 60
      AND (c.title ILIKE '%head%' OR c.title ILIKE '%director%' OR c.title = 'CFO')
    """,
)

ADVISORY_FIT = Case(
    "advisory_fit",
    "consulting/accounting/IT firms, neither customers nor interns, fit B or better, "
    "on a pro or team plan (nested any / not)",
    {
        "all": [
            {
                "any": [
                    _field("company.industry", "equals", "consulting"),
                    _field("company.industry", "equals", "accounting"),
                    _field("company.industry", "equals", "it services"),
                ]
            },
            {
                "not": {
                    "any": [
                        _field("lifecycle_stage", "equals", "customer"),
                        _field("title", "contains", "intern"),
                    ]
                }
            },
            _field("fit_grade", "at_least", "B"),
            _field("attributes.plan", "in", ["pro", "team"]),
        ]
    },
    """
    SELECT c.id FROM contacts c JOIN companies co ON co.id = c.company_id
    WHERE c.erased_at IS NULL AND co.industry IN ('consulting', 'accounting', 'it services')
      AND c.lifecycle_stage <> 'customer' AND NOT coalesce(c.title ILIKE '%intern%', false)
      AND c.fit_grade IN ('A', 'B')
      AND jsonb_typeof(c.attributes -> 'plan') = 'string'
      AND c.attributes ->> 'plan' IN ('pro', 'team')
    """,
)

HAPPY_CLIENTS = Case(
    "happy_clients",
    "customers and former customers whose latest NPS answer is a promoter's, "
    "outside the law_dach segment (NPS + segment of segment)",
    {
        "all": [
            _field("nps_category", "equals", "promoter"),
            _field("lifecycle_stage", "in", ["customer", "former_customer"]),
            {"segment": "$segment:law_dach", "op": "not_member"},
        ]
    },
    """
    WITH latest AS (
      SELECT DISTINCT ON (contact_id) contact_id, properties FROM events
      WHERE type = 'nps.answered' ORDER BY contact_id, occurred_at DESC, id DESC)
    SELECT c.id FROM contacts c JOIN latest l ON l.contact_id = c.id
    WHERE c.erased_at IS NULL AND c.lifecycle_stage IN ('customer', 'former_customer')
      AND jsonb_typeof(l.properties -> 'score') = 'number'
      AND (l.properties ->> 'score')::float BETWEEN 9 AND 10
      AND NOT EXISTS (SELECT 1 FROM segment_members m
                      WHERE m.segment_id = :law_dach AND m.contact_id = c.id)
    """,
)

CASES = (LAW_DACH, ENGAGED_READERS, DACH_PIPELINE, ADVISORY_FIT, HAPPY_CLIENTS)


def resolve(node: Any, ids: dict[str, int]) -> Any:
    """The node with "$segment:<name>" references replaced by segment ids."""
    if isinstance(node, dict):
        return {k: resolve(v, ids) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(v, ids) for v in node]
    if isinstance(node, str) and node.startswith("$segment:"):
        return ids[node.removeprefix("$segment:")]
    return node
