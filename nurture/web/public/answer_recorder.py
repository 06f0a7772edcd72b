"""Recording NPS scores without making the person wait: buffered, batched writes.

The answer page (`surveys.py`) trusts the signed token alone, appends the score to
this recorder and answers at once; the writer thread (`BatchRecorder`, the click
recorder's machinery) writes each batch with `reviews.answers.record_scores` in one
transaction and then enqueues the stored `nps.answered` events.

A batch written twice stores nothing twice: a score older than the survey's stored
answer is stale, and whatever came after a batch's last change repeats it (see
`record_scores`). Scores are stamped when taken, one microsecond apart at least, so
no two scores of a survey share a time.

Read-your-writes: `pending(survey_id)` is the latest score taken for a survey and
not yet written, which the follow-up page shows; a follow-up post calls `drain()`
before it writes, so a buffered older score can never land after its newer one.
Failure window: as the click recorder's (a hard kill loses at most `interval`
seconds of scores; a graceful stop writes them, or spools them to the data folder).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from nurture.db import session_scope
from nurture.reviews.answers import ScoreItem, record_scores
from nurture.web.public.recorder import BatchRecorder, Enqueue

_TICK = timedelta(microseconds=1)


class AnswerRecorder(BatchRecorder[ScoreItem]):
    """Scores of survey links, written in batches by one background thread."""

    what = "nps scores"

    def __init__(
        self,
        database_url: str,
        *,
        spool: Path | None = None,
        interval: float = 0.1,
        batch: int = 2000,
        enqueue: Enqueue | None = None,
    ) -> None:
        super().__init__(database_url, spool=spool, interval=interval, batch=batch, enqueue=enqueue)
        self._last_at: datetime | None = None

    def take(self, survey_id: int, contact_id: int, score: int, at: datetime) -> None:
        """Queue a score given at `at` (called from the event loop thread only)."""
        if self._last_at is not None and at <= self._last_at:
            at = self._last_at + _TICK
        self._last_at = at
        self.record(ScoreItem(survey_id, contact_id, score, at))

    def pending(self, survey_id: int) -> int | None:
        """The latest score taken for this survey and not yet written, if any."""
        latest: ScoreItem | None = None
        for item in self.unwritten():
            if item.survey_id == survey_id and (latest is None or item.at >= latest.at):
                latest = item
        return latest.score if latest is not None else None

    def _write(self, items: Sequence[ScoreItem]) -> list[int]:
        with session_scope(self._url, write=True) as session:
            done = record_scores(session, items)
        return [d.event_id for d in done if d.event_id is not None]

    def _to_json(self, item: ScoreItem) -> dict[str, object]:
        return {
            "survey_id": item.survey_id,
            "contact_id": item.contact_id,
            "score": item.score,
            "at": item.at.isoformat(),
        }

    def _from_json(self, raw: dict[str, object]) -> ScoreItem:
        return ScoreItem(
            int(str(raw["survey_id"])),
            int(str(raw["contact_id"])),
            int(str(raw["score"])),
            datetime.fromisoformat(str(raw["at"])),
        )
