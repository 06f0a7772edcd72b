"""The answer recorder: a graceful stop writes what it holds, a database that is away
keeps the scores in the spool for the next start, and they are written once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from nurture.models import NpsSurvey, utcnow
from nurture.web.public.answer_recorder import AnswerRecorder
from tests.reviews_web.helpers import answer_counts, make_survey

# Nothing listens on port 9 of loopback: every write fails at once.
UNREACHABLE = "postgresql+psycopg://nobody:nothing@127.0.0.1:9/nowhere?connect_timeout=1"


def test_stopping_writes_what_is_buffered(db_url: str, db: Session) -> None:
    survey = make_survey(db)
    # An interval far longer than the test: only the stop can write the scores.
    recorder = AnswerRecorder(db_url, spool=None, interval=3600).start()
    now = utcnow()
    recorder.take(survey.id, survey.contact_id, 6, now)
    recorder.take(survey.id, survey.contact_id, 9, now)  # the same instant: stamped after
    assert recorder.pending(survey.id) == 9
    assert answer_counts(db) == (0, 0)

    recorder.stop()

    assert answer_counts(db) == (2, 2)
    assert recorder.pending(survey.id) is None
    db.expire_all()
    stored = db.get(NpsSurvey, survey.id)
    assert stored is not None
    assert stored.score == 9


def test_scores_that_cannot_be_written_are_spooled_and_replayed_once(
    db_url: str, db: Session, tmp_path: Path
) -> None:
    survey = make_survey(db)
    spool = tmp_path / "answers-spool.jsonl"
    offline = AnswerRecorder(UNREACHABLE, spool=spool, interval=0.05).start()
    now = utcnow()
    for minutes, score in enumerate((3, 3, 7)):
        offline.take(survey.id, survey.contact_id, score, now + timedelta(minutes=minutes))
    offline.stop(timeout=1.5)
    assert offline.failures >= 1
    assert len(spool.read_text().splitlines()) == 3
    # The same scores spooled twice (say, two failed stops): still stored once.
    spool.write_text(spool.read_text() * 2)

    online = AnswerRecorder(db_url, spool=spool, interval=0.05).start()
    assert online.wait_idle(10)
    online.stop()

    assert not spool.exists()
    assert answer_counts(db) == (2, 2)
