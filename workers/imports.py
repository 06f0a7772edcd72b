"""The actor that runs an uploaded CSV import in the background."""

from __future__ import annotations

import dramatiq

from nurture.imports import jobs as import_jobs
from workers import context

# A very large file may take a while; the default ten-minute limit would kill it.
IMPORT_TIME_LIMIT_MS = 2 * 60 * 60 * 1000


# No retries: a failure marks the job failed with its reason, and running it
# again is the user's call (the job page says what went wrong).
@dramatiq.actor(queue_name="imports", max_retries=0, time_limit=IMPORT_TIME_LIMIT_MS)
def run_import(job_id: int) -> None:
    """Import the file of a started job; a finished or unstarted job is left alone."""
    with context.session() as db:
        import_jobs.run_job(db, job_id)
