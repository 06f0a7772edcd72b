"""A segment's members as a CSV download, for the API and the segment's page alike."""

from __future__ import annotations

import io
from collections.abc import Iterator

from litestar.response import Stream

from nurture.csv_cells import csv_writer
from nurture.db import session_scope
from nurture.web.downloads import attachment
from segments import reading

CSV_COLUMNS = (
    "id",
    "email",
    "first_name",
    "last_name",
    "title",
    "company",
    "industry",
    "country",
    "lifecycle_stage",
    "score",
)


def members_download(database_url: str, segment_id: int, segment_name: str) -> Stream:
    """Every member, streamed a batch at a time, saved as "<segment name>.csv"."""
    return Stream(
        _csv_lines(database_url, segment_id),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": attachment(f"{segment_name}.csv", default="segment")},
    )


def _csv_lines(url: str, segment_id: int) -> Iterator[str]:
    # Its own session: the stream outlives the request's session.
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow(CSV_COLUMNS)
    with session_scope(url) as session:
        for batch in reading.all_members(session, segment_id):
            for c in batch:
                company = c.company
                writer.writerow(
                    (
                        c.id,
                        c.email,
                        c.first_name or "",
                        c.last_name or "",
                        c.title or "",
                        company.name if company else "",
                        (company.industry or "") if company else "",
                        (company.country or "") if company else "",
                        c.lifecycle_stage,
                        c.score,
                    )
                )
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
