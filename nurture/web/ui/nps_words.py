"""NPS figures in words, as the Reviews page and the contact page say them."""

from __future__ import annotations

from nurture.reports.nps import Group
from nurture.reviews.nps import Nps


def points(value: float | None) -> str:
    """A score in whole points ("45", "-33"), or a dash without one."""
    if value is None:
        return "\N{EN DASH}"
    text = f"{value:.0f}"
    return "0" if text == "-0" else text


def interval(result: Nps) -> str:
    """The interval in words ("95% CI 30 to 60"), or "" without answers."""
    if result.low is None or result.high is None:
        return ""
    return f"95% CI {points(result.low)} to {points(result.high)}"


def summary(group: Group) -> str:
    """The figure in words: "NPS 45 (95% CI 30 to 60), 100 answers of 140 sent: 71%"."""
    result = group.result
    if not result.answers:
        head = "No answers yet"
    else:
        head = f"NPS {points(result.score)} ({interval(result)}), {_answers(result.answers)}"
    if not group.sent:
        return head
    rate = f"{100 * group.responded / group.sent:.0f}%"
    if result.answers and result.answers == group.responded:
        return f"{head} of {group.sent:,} sent: {rate}"
    return f"{head}; {group.responded:,} of {group.sent:,} surveys sent answered: {rate}"


def _answers(n: int) -> str:
    return f"{n:,} answer" if n == 1 else f"{n:,} answers"
