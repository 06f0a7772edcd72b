"""Import jobs: an uploaded CSV file, its mapping, a run in the background, its report."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.csv_cells import csv_writer
from nurture.errors import Conflict, InvalidInput, NotFound
from nurture.imports.csv_file import default_mapping, inspect_csv, preview_csv, resolve_mapping
from nurture.imports.importer import ImportReport, RejectedLine, import_contacts
from nurture.models import ImportJob, ImportStatus, utcnow

# The job row keeps this many rejected lines; all of them go to a CSV file beside the upload.
STORED_REJECTS = 500
MAX_FILENAME = 255


def upload_path(data_dir: Path, filename: str) -> Path:
    """A fresh path under `data_dir`/imports for an uploaded file (its name is never trusted)."""
    folder = data_dir / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{utcnow():%Y%m%d-%H%M%S}-{secrets.token_hex(6)}.csv"


def rejected_path(job: ImportJob) -> Path:
    """Where the job writes every rejected line (line, reason) as CSV."""
    return Path(f"{job.stored_path}.rejected.csv")


def create_job(
    session: Session, *, filename: str, stored_path: Path, created_by_id: int | None
) -> ImportJob:
    """Check an uploaded file as a whole and record a pending job with the default mapping.

    Raises CsvProblem (field "file") when the file cannot be imported at all.
    """
    summary = inspect_csv(stored_path, sample_rows=0)
    if summary.rows == 0:
        raise InvalidInput.single("file", "has a header but no rows to import")
    job = ImportJob(
        filename=(Path(filename).name or "upload.csv")[:MAX_FILENAME],
        stored_path=str(stored_path),
        mapping=_default_mapping(summary.headers),
        status=ImportStatus.PENDING.value,
        total_rows=summary.rows,
        rejected={"lines": []},
        created_by_id=created_by_id,
    )
    session.add(job)
    session.flush()
    return job


def _default_mapping(headers: list[str]) -> dict[str, str]:
    """The checked default mapping, or the raw one when the user must still fix it."""
    try:
        return resolve_mapping(headers)
    except InvalidInput:
        return default_mapping(headers)


def get_job(session: Session, job_id: int) -> ImportJob:
    job = session.get(ImportJob, job_id)
    if job is None:
        raise NotFound("import", job_id)
    return job


def job_preview(job: ImportJob, *, sample_rows: int = 3) -> tuple[list[str], list[list[str]]]:
    """The uploaded file's headers (in file order) and first rows, for the mapping form."""
    return preview_csv(Path(job.stored_path), sample_rows=sample_rows)


def start_job(session: Session, job_id: int, mapping: Mapping[str, str]) -> ImportJob:
    """Fix the mapping of a pending job and mark it running; the caller queues it after commit.

    Raises InvalidInput naming `mapping.<header>`, Conflict when the job was already started
    (so a form sent twice queues one import).
    """
    job = get_job(session, job_id)
    if job.status != ImportStatus.PENDING.value:
        raise Conflict(f"import {job_id} has already been started")
    headers, _ = job_preview(job, sample_rows=0)
    job.mapping = resolve_mapping(headers, mapping)
    # "running" from here on covers "queued": the worker picks it up within moments.
    job.status = ImportStatus.RUNNING.value
    return job


def run_job(session: Session, job_id: int) -> ImportJob:
    """Import a started job's file, keeping its counters current.

    A job not started, or already finished, is left alone, so a redelivered
    message does nothing; one whose worker died mid-way is run again from the
    start, which is safe because rows are upserted. Commits as it goes (see
    import_contacts). A file that turns out unusable marks the job failed with
    the reason instead of raising.
    """
    job = get_job(session, job_id)
    if job.status != ImportStatus.RUNNING.value:
        return job
    job.processed_rows = job.created_count = job.updated_count = job.rejected_count = 0
    session.commit()
    actor = f"user:{job.created_by_id}" if job.created_by_id else "system"

    def progress(report: ImportReport, total: int) -> None:
        _copy_counts(job, report)
        job.total_rows = total

    try:
        with rejected_path(job).open("w", newline="", encoding="utf-8") as out:
            writer = csv_writer(out)
            writer.writerow(["line", "reason"])

            def write(rejected: RejectedLine) -> None:
                writer.writerow([rejected.line, rejected.reason])

            report = import_contacts(
                session,
                Path(job.stored_path),
                actor=actor,
                mapping=job.mapping,
                job_id=job.id,
                on_progress=progress,
                on_rejected=write,
            )
    except InvalidInput as exc:
        session.rollback()
        _finish(job, ImportStatus.FAILED, error=str(exc))
        session.commit()
        return job
    except Exception as exc:
        session.rollback()
        _finish(job, ImportStatus.FAILED, error=f"internal error: {type(exc).__name__}")
        session.commit()
        raise
    _copy_counts(job, report)
    job.rejected = {
        "lines": [{"line": r.line, "reason": r.reason} for r in report.rejected[:STORED_REJECTS]]
    }
    _finish(job, ImportStatus.DONE)
    session.commit()
    return job


def recent_jobs(session: Session, *, limit: int = 20) -> list[ImportJob]:
    return list(session.scalars(select(ImportJob).order_by(ImportJob.id.desc()).limit(limit)))


def _copy_counts(job: ImportJob, report: ImportReport) -> None:
    job.processed_rows = report.rows
    job.created_count = report.created
    # The job has no column for rows that changed nothing; they count as updated (matched).
    job.updated_count = report.updated + report.unchanged
    job.rejected_count = report.rejected_count


def _finish(job: ImportJob, status: ImportStatus, *, error: str | None = None) -> None:
    job.status = status.value
    job.error = error[:1000] if error else None
    job.finished_at = utcnow()
