"""The home dashboard: real figures and the events-per-day chart by type group."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from nurture.events import ingest_raw
from nurture.web.ui import queries
from tests.factories import make_contact, make_user
from tests.ui.helpers import HTML, Client, login

NOW = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)


def _event(contact_id: int, kind: str, when: datetime) -> dict[str, object]:
    return {"type": kind, "contact_id": contact_id, "occurred_at": when.isoformat()}


def test_events_per_day_counts_each_utc_day_by_type_group(db: Session) -> None:
    contact = make_contact(db)
    late_evening = datetime(2026, 3, 30, 23, 30, tzinfo=UTC)
    ingest_raw(
        db,
        [
            _event(contact.id, "email.opened", late_evening),
            _event(contact.id, "email.clicked", late_evening),
            _event(contact.id, "page.visited", late_evening + timedelta(hours=1)),
            _event(contact.id, "webinar", NOW - timedelta(days=89)),
            _event(contact.id, "email.sent", NOW - timedelta(days=90)),  # before the window
        ],
        source="test",
    )
    series = queries.events_per_day(db, days=90, now=NOW)
    assert len(series.labels) == 90
    assert series.labels[0] == "2026-01-01"
    assert series.labels[-1] == "2026-03-31"
    assert series.groups["email"][-2] == 2
    assert series.groups["page"][-1] == 1
    assert series.groups["webinar"][0] == 1
    assert sum(sum(counts) for counts in series.groups.values()) == 4


def test_chart_folds_small_groups_into_other(db: Session) -> None:
    contact = make_contact(db)
    kinds = [f"kind{n}.happened" for n in range(queries.CHART_GROUPS + 2)]
    ingest_raw(
        db,
        [_event(contact.id, kind, NOW - timedelta(hours=1)) for kind in kinds],
        source="test",
    )
    series = queries.events_per_day(db, now=NOW)
    assert len(series.groups) == queries.CHART_GROUPS + 1
    assert series.groups["other"][-1] == 2


def test_home_shows_real_figures_and_the_chart_data(client: Client, db: Session) -> None:
    contacts = [make_contact(db, company={"name": f"Firm {n}"}) for n in range(3)]
    recent = datetime.now(UTC) - timedelta(days=2)
    ingest_raw(
        db,
        [_event(c.id, "email.opened", recent) for c in contacts]
        + [_event(contacts[0].id, "page.visited", recent - timedelta(days=40))],
        source="test",
    )
    user = make_user(db)
    db.commit()
    login(client, user)
    page = client.get("/", headers=HTML).text
    figures = dict(
        re.findall(
            r'<span class="stat-label">([^<]+)</span>\s*<span class="stat-value">([^<]+)</span>',
            page,
        )
    )
    assert figures == {
        "Contacts": "3",
        "Companies": "3",
        "Events, last 30 days": "3",
        "New contacts, 30 days": "3",
    }
    data = re.search(r'<script type="application/json" id="events-chart-data">(.+?)</script>', page)
    assert data is not None
    chart = json.loads(data.group(1))
    assert sum(chart["groups"]["email"]) == 3
    assert sum(chart["groups"]["page"]) == 1


def test_home_without_events_explains_where_they_come_from(client: Client, db: Session) -> None:
    user = make_user(db)
    db.commit()
    login(client, user)
    page = client.get("/", headers=HTML).text
    assert "No events in the last 90 days" in page
    assert "events-chart-data" not in page
