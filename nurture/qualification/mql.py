"""The MQL rule: a segment rule document, evaluated set-based for the contacts in question.

The marketer's rule says who is ready (score, grade, attributes, behaviour, segments);
the guards here say who may be handed over at all, whatever the rule says: a live,
unsuppressed contact at subscriber, lead or MQL stage with no hand-off pending.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, literal, not_, select
from sqlalchemy.orm import Session

from nurture.models import Contact, Handoff, HandoffState, LifecycleStage
from segments.compiler import compile_node, matching_contacts
from segments.fields import FIELDS
from segments.schema import FieldCondition, Group, Node, Rule, parse_rule
from segments.sqlfuncs import prepare_connection
from segments.validation import validate_rule

# An MQL without a pending hand-off (a hand-off rejected or cancelled, or a stage set
# by hand) may be handed over again; later stages belong to sales already.
QUALIFIABLE_STAGES = (
    LifecycleStage.SUBSCRIBER.value,
    LifecycleStage.LEAD.value,
    LifecycleStage.MQL.value,
)
_SUPPRESSED = FieldCondition("suppressed", "equals", True)
_SYMBOLS = {
    "gte": "≥",
    "gt": ">",
    "lte": "≤",
    "lt": "<",
    "equals": "=",
    "not_equals": "≠",
    "in": "in",
    "not_in": "not in",
    "at_least": "at least",
    "at_most": "at most",
}


def validated(session: Session, document: object) -> Rule:
    """The rule document checked for saving; InvalidInput names each bad path."""
    return validate_rule(session, document)


def parsed(document: object) -> Rule:
    """The stored rule document in typed form (it was validated when saved)."""
    return parse_rule(document)


def qualifying(
    rule: Rule, *, now: datetime, contact_ids: Sequence[int] | None = None
) -> Select[int]:
    """SELECT the ids of contacts that match `rule` and may be handed over now,
    among `contact_ids` (None: every contact, for the sweep), lowest id first.
    Run `segments.sqlfuncs.prepare_connection` on the session before executing it."""
    pending = (
        select(literal(1))
        .select_from(Handoff)
        .where(Handoff.contact_id == Contact.id, Handoff.state == HandoffState.PENDING.value)
        .correlate(Contact)
        .exists()
    )
    stmt = matching_contacts(rule, now=now, contact_ids=contact_ids).where(
        Contact.lifecycle_stage.in_(QUALIFIABLE_STAGES),
        not_(compile_node(_SUPPRESSED, now)),
        not_(pending),
    )
    return stmt.order_by(Contact.id)


def qualifying_ids(
    session: Session, rule: Rule, *, now: datetime, contact_ids: Sequence[int] | None = None
) -> list[int]:
    if contact_ids is not None and not contact_ids:
        return []
    prepare_connection(session)
    return list(session.scalars(qualifying(rule, now=now, contact_ids=contact_ids)))


def describe(rule: Rule) -> str:
    """A short reading of the rule for a lifecycle reason, e.g. "score ≥ 60, fit grade at
    least B"; conditions other than plain field tests are summed up as "…"."""
    parts = list(dict.fromkeys(_describe(rule.root)))
    return ", ".join(parts) if parts else "any contact"


def _describe(node: Node) -> list[str]:
    if isinstance(node, Group) and node.kind == "all":
        return [part for child in node.children for part in _describe(child)]
    if isinstance(node, FieldCondition) and node.op in _SYMBOLS:
        spec = FIELDS.get(node.field)
        label = spec.label.lower() if spec else node.field
        value = node.value
        items = value if isinstance(value, tuple) else (value,)
        shown = ", ".join(_plain(v) for v in items)
        return [f"{label} {_SYMBOLS[node.op]} {shown}"]
    return ["…"]


def _plain(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
