"""Library items are validated field by field, unique where they must be, and audited."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.content import library
from campaigns.content.kinds import ARTICLES, CASE_STUDIES, SERVICES, WEBINARS
from nurture.errors import Conflict, InvalidInput, NotFound
from nurture.models import AuditEntry, CaseStudy, Webinar


def _problems(exc: pytest.ExceptionInfo[InvalidInput]) -> dict[str, str]:
    return {p.field: p.message for p in exc.value.problems}


def test_a_service_is_created_and_audited(db: Session) -> None:
    service = library.create(
        db, SERVICES, actor="test", data={"slug": "data-platform", "name": "Data platform"}
    )
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "service.created")).one()
    assert entry.entity_id == str(service.id)
    assert entry.changes["slug"] == "data-platform"


def test_every_bad_field_is_named_at_once(db: Session) -> None:
    with pytest.raises(InvalidInput) as exc:
        library.create(
            db,
            WEBINARS,
            actor="test",
            data={
                "title": "",
                "starts_at": "next tuesday",
                "capacity": 0,
                "join_url": "javascript:alert(1)",
                "colour": "red",
            },
        )
    problems = _problems(exc)
    assert set(problems) == {"title", "topic", "starts_at", "capacity", "join_url", "colour"}
    assert problems["colour"] == "is not a known field"
    assert db.scalar(select(Webinar.id)) is None


def test_metrics_name_the_index_of_the_bad_entry(db: Session) -> None:
    with pytest.raises(InvalidInput) as exc:
        library.create(
            db,
            CASE_STUDIES,
            actor="test",
            data={
                "title": "Ledger",
                "industry": "Legal",
                "problem": "Slow month-end",
                "result_metrics": [{"label": "Close", "value": "-40%"}, {"label": "x"}],
            },
        )
    [problem] = exc.value.problems
    assert (problem.field, problem.index) == ("result_metrics", 1)


def test_form_text_is_read_as_lists_numbers_and_times(db: Session) -> None:
    story = library.create(
        db,
        CASE_STUDIES,
        actor="test",
        data={
            "title": "Audit automation",
            "industry": " Accounting ",
            "problem": "Manual sampling",
            "result_metrics": "Hours saved: 1,200\nErrors: -35%",
            "topics": "Automation, audit , automation",
            "published_at": "2026-03-01T09:00",
        },
    )
    webinar = library.create(
        db,
        WEBINARS,
        actor="test",
        data={"title": "AI Q&A", "topic": "AI", "starts_at": "2026-12-01T10:00", "capacity": "50"},
    )
    assert story.industry == "accounting"
    assert story.topics == ["automation", "audit"]
    assert story.result_metrics == [
        {"label": "Hours saved", "value": "1,200"},
        {"label": "Errors", "value": "-35%"},
    ]
    assert story.published_at == datetime(2026, 3, 1, 9, tzinfo=UTC)
    assert (webinar.capacity, webinar.duration_minutes) == (50, 60)


def test_a_taken_slug_is_a_conflict_and_nothing_changes(db: Session) -> None:
    library.create(db, ARTICLES, actor="t", data={"slug": "a", "title": "A", "topic": "x"})
    other = library.create(db, ARTICLES, actor="t", data={"slug": "b", "title": "B", "topic": "x"})
    with pytest.raises(Conflict, match="slug a"):
        library.update(db, ARTICLES, other.id, actor="t", data={"slug": "a"})
    assert other.slug == "b"


def test_update_changes_only_given_fields_and_audits_the_difference(db: Session) -> None:
    service = library.create(db, SERVICES, actor="t", data={"slug": "erp", "name": "ERP"})
    story = library.create(
        db,
        CASE_STUDIES,
        actor="t",
        data={"title": "T", "industry": "retail", "problem": "P", "service_id": service.id},
    )
    library.update(db, CASE_STUDIES, story.id, actor="u", data={"industry": "Logistics"})
    assert (story.industry, story.title, story.service_id) == ("logistics", "T", service.id)
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "case_study.updated")).one()
    assert entry.changes == {"industry": {"from": "retail", "to": "logistics"}}


def test_an_unknown_service_is_refused(db: Session) -> None:
    with pytest.raises(InvalidInput, match="service_id"):
        library.create(
            db,
            CASE_STUDIES,
            actor="t",
            data={"title": "T", "industry": "retail", "problem": "P", "service_id": 999},
        )


def test_deleting_a_service_keeps_its_case_studies(db: Session) -> None:
    service = library.create(db, SERVICES, actor="t", data={"slug": "erp", "name": "ERP"})
    story = library.create(
        db,
        CASE_STUDIES,
        actor="t",
        data={"title": "T", "industry": "retail", "problem": "P", "service_id": service.id},
    )
    db.commit()
    library.delete(db, SERVICES, service.id, actor="t")
    db.commit()
    db.expire_all()
    assert db.get(CaseStudy, story.id) is not None
    assert db.get(CaseStudy, story.id).service_id is None  # type: ignore[union-attr]
    with pytest.raises(NotFound):
        library.get(db, SERVICES, service.id)


def test_pages_follow_the_id_cursor(db: Session) -> None:
    for n in range(5):
        library.create(db, SERVICES, actor="t", data={"slug": f"s{n}", "name": f"S{n}"})
    first = library.page(db, SERVICES, limit=3)
    rest = library.page(db, SERVICES, after=first[-1].id, limit=3)
    assert [s.slug for s in first + rest] == ["s0", "s1", "s2", "s3", "s4"]
