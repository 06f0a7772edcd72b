"""The contact page's score section: the score and grade, "why is this lead 72?" (each
rule with the events behind it and what they are worth now, adding up to the score),
the fit matches behind the grade, the score history for the chart and its table, and the
published predictive model's probability with the factors that weigh most."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from nurture.scoring import predictive
from nurture.scoring.explain import Contribution, Explanation, RuleShare, explain, score_history

# Events listed under each rule; its total always covers them all.
EVENTS_PER_RULE = 10


@dataclass(frozen=True, slots=True)
class RuleGroup:
    share: RuleShare
    items: list[Contribution]

    @property
    def hidden(self) -> int:
        return self.share.awards - len(self.items)


@dataclass(frozen=True, slots=True)
class ScorePanel:
    explanation: Explanation
    groups: list[RuleGroup]
    history: list[tuple[date, int]]
    # None while no predictive model is published.
    prediction: predictive.Explanation | None = None

    @property
    def empty(self) -> bool:
        return not self.explanation.items and not self.explanation.fit_matches

    @property
    def chart(self) -> dict[str, list[Any]]:
        """The history for Chart.js."""
        return {
            "labels": [day.isoformat() for day, _ in self.history],
            "scores": [score for _, score in self.history],
        }


def score_panel(session: Session, contact_id: int, *, now: datetime) -> ScorePanel:
    """What the contact page shows about a contact's score at `now`."""
    explanation = explain(session, contact_id, now=now)
    by_rule: dict[int | None, list[Contribution]] = {}
    for item in explanation.items:  # newest first
        by_rule.setdefault(item.rule_id, []).append(item)
    groups = [
        RuleGroup(share, by_rule.get(share.rule_id, [])[:EVENTS_PER_RULE])
        for share in explanation.by_rule
    ]
    prediction = predictive.explain_prediction(session, contact_id, now=now)
    return ScorePanel(explanation, groups, score_history(session, contact_id), prediction)
