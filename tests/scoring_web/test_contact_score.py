"""The contact page's score section: "why is this lead N?" with rows adding up to the
score shown, the fit matches behind the grade, the history chart and its table."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from sqlalchemy.orm import Session

from nurture.models import utcnow
from nurture.scoring import engine
from nurture.scoring.explain import round_half_away
from tests.factories import make_contact, make_user
from tests.scoring.helpers import add_events, behaviour_rule, fit_rule
from tests.ui.helpers import HTML, Client, login


def _signed_in(client: Client, db: Session, role: str = "sales") -> None:
    user = make_user(db, role=role)
    db.commit()
    login(client, user)


def test_the_explanation_adds_up_to_the_score_shown(client: Client, db: Session) -> None:
    now = utcnow()
    behaviour_rule(db, name="Webinar", event_type="webinar.attended", points=15)
    behaviour_rule(
        db,
        name="Pricing",
        event_type="email.clicked",
        where=[{"property": "url", "op": "contains", "value": "pricing"}],
        points=10,
    )
    behaviour_rule(db, name="Unsubscribed", event_type="email.unsubscribed", points=-5)
    fit_rule(db, {"field": "title", "op": "contains", "value": "partner"}, 30, name="Partner")
    contact = make_contact(db, title="Partner")
    ids = add_events(db, contact.id, "webinar.attended", now - timedelta(days=40))
    ids += add_events(
        db,
        contact.id,
        "email.clicked",
        now - timedelta(days=3),
        now - timedelta(days=1),
        url="https://x.example/pricing",
    )
    ids += add_events(db, contact.id, "email.unsubscribed", now - timedelta(days=2))
    ids += add_events(db, contact.id, "email.clicked", now, url="https://x.example/blog")
    engine.apply_events(db, ids, now=now)
    _signed_in(client, db)

    page = client.get(f"/contacts/{contact.id}", headers=HTML)
    assert page.status_code == 200
    shown = re.search(r'data-score="(-?\d+)"', page.text)
    assert shown is not None
    score = int(shown.group(1))
    rows = [
        float(v) for v in re.findall(r'class="why-rule" data-contribution="([^"]+)"', page.text)
    ]
    assert len(rows) == 3  # the blog click earned nothing
    assert round_half_away(sum(rows)) == score
    # Each award halves every 30 days (the default half-life).
    expected = (
        15 * 0.5 ** (40 / 30) + 10 * 0.5 ** (3 / 30) + 10 * 0.5 ** (1 / 30) - 5 * 0.5 ** (2 / 30)
    )
    assert score == round(expected)
    assert f"Why is this lead {score}?" in page.text
    assert page.text.count('class="why-event"') == 4
    assert "→ " + str(score) in page.text
    assert 'data-grade="B"' in page.text
    fit = re.search(r'id="fit-matches">(.*?)</ul>', page.text, re.S)
    assert fit is not None
    assert "Partner" in fit.group(1)
    assert "+30" in fit.group(1)
    # The history has today's score, in the table the chart draws from.
    table = re.search(r'id="score-history">(.*?)</table>', page.text, re.S)
    assert table is not None
    assert f'<td>{now.date().isoformat()}</td><td class="num">{score}</td>' in table.group(1)


def test_the_chart_appears_with_two_days_of_history(client: Client, db: Session) -> None:
    now = utcnow()
    behaviour_rule(db, name="Webinar", event_type="webinar.attended", points=15)
    contact = make_contact(db)
    first = add_events(db, contact.id, "webinar.attended", now - timedelta(days=2))
    engine.apply_events(db, first, now=now - timedelta(days=2))
    second = add_events(db, contact.id, "webinar.attended", now)
    engine.apply_events(db, second, now=now)
    _signed_in(client, db)
    page = client.get(f"/contacts/{contact.id}", headers=HTML)
    assert 'id="score-chart"' in page.text
    assert "chart.umd.min.js" in page.text
    assert "/static/app/scoring.js" in page.text
    data = re.search(r'id="score-chart-data">(.*?)</script>', page.text, re.S)
    assert data is not None
    chart = json.loads(data.group(1))
    assert chart["scores"][0] == 15
    assert len(chart["scores"]) == 2
    assert chart["labels"][-1] == now.date().isoformat()


def test_a_contact_no_rule_scored_shows_the_empty_state(client: Client, db: Session) -> None:
    contact = make_contact(db)
    _signed_in(client, db, role="marketer")
    page = client.get(f"/contacts/{contact.id}", headers=HTML)
    assert page.status_code == 200
    assert 'id="score-empty"' in page.text
    assert "No rule has scored this contact yet." in page.text
    assert 'data-score="0"' in page.text
    assert 'id="score-chart"' not in page.text
