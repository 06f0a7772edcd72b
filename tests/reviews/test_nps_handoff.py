"""The sales hand-off summary reads NPS answers as `nps.answered` events now carry them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.models import Event, NpsSurvey
from nurture.qualification.inbox_summary import summary_view
from nurture.qualification.summary import build
from tests.reports.nps_dataset import build as build_nps


def _answered(
    db: Session, survey: NpsSurvey, number: int, score: int, previous: int | None
) -> None:
    db.add(
        Event(
            contact_id=survey.contact_id,
            type="nps.answered",
            occurred_at=datetime(2026, 3, 18 + number, tzinfo=UTC),
            properties={
                "survey_id": survey.id,
                "score": score,
                "category": "promoter" if score >= 9 else "passive" if score >= 7 else "detractor",
                "service": "advisory",
                "project_id": survey.project_id,
                "previous_score": previous,
            },
            idempotency_key=f"nps.answered:{survey.id}:{number}",
        )
    )


def test_a_changed_answer_shows_once_as_it_stands_with_what_the_client_wrote(
    db: Session,
) -> None:
    data = build_nps(db)
    survey = db.scalars(
        select(NpsSurvey).where(NpsSurvey.contact_id == data.dora, NpsSurvey.score == 5)
    ).one()
    _answered(db, survey, 1, 3, None)
    _answered(db, survey, 2, 5, 3)
    db.commit()
    summary = build(db, data.dora, now=datetime(2026, 4, 1, tzinfo=UTC))
    assert summary["nps"] == [
        {
            "survey_id": survey.id,
            "score": 5,
            "category": "detractor",
            "service": "advisory",
            "project_id": survey.project_id,
            "project": "Store rollout",
            "comment": "Invoices were LATE",
            "follow_up": "Invoices were LATE",
            "occurred_at": "2026-03-20T00:00:00+00:00",
        }
    ]
    assert summary_view(summary).nps == "5 — Invoices were LATE"
