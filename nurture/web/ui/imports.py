"""Contact import pages: upload a CSV, map its columns, watch it run, read the report."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import File, Redirect, Template

from nurture.errors import InvalidInput, NotFound, Problem
from nurture.imports import jobs as import_jobs
from nurture.imports.csv_file import (
    ATTRIBUTE_PREFIX,
    COMPANY_TARGETS,
    CONTACT_TARGETS,
    IGNORE,
    default_mapping,
)
from nurture.models import ImportJob, ImportStatus
from nurture.web.auth import ui_roles
from nurture.web.downloads import attachment
from nurture.web.state import settings_of
from nurture.web.ui.params import Db, FormData, Me
from nurture.web.ui.render import MARKETING, fragment, page
from workers.imports import run_import

# A 100,000-row export with a dozen columns is around 15 MB; leave room for wide files.
MAX_UPLOAD_BYTES = 100 * 1024 * 1024
MultipartForm = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]

FIELD_LABELS = {
    "email": "E-mail",
    "first_name": "First name",
    "last_name": "Last name",
    "title": "Job title",
    "phone": "Phone",
    "time_zone": "Time zone",
    "locale": "Language",
    "lifecycle_stage": "Lifecycle stage",
    "owner_email": "Owner (user's e-mail)",
    "company": "Company name",
    "company_domain": "Company website or domain",
    "industry": "Company industry",
    "size_band": "Company size",
    "country": "Company country",
}
CONTACT_CHOICES = [(t, FIELD_LABELS[t]) for t in (*CONTACT_TARGETS, "owner_email")]
COMPANY_CHOICES = [(t, FIELD_LABELS[t]) for t in COMPANY_TARGETS]


@dataclass(frozen=True, slots=True)
class Column:
    """One row of the mapping form: a CSV column, sample values and the chosen field."""

    index: int
    header: str
    samples: list[str]
    target: str
    attribute: str  # the custom attribute this column would fill, offered as a choice
    error: str | None


def _columns(job: ImportJob, errors: dict[str, str], chosen: dict[str, str]) -> list[Column]:
    headers, samples = import_jobs.job_preview(job)
    columns = []
    for index, header in enumerate(headers):
        target = chosen.get(header) or str(job.mapping.get(header, IGNORE))
        default = default_mapping([header])[header]
        attribute = target if target.startswith(ATTRIBUTE_PREFIX) else default
        if not attribute.startswith(ATTRIBUTE_PREFIX):
            attribute = ""
        values = [row[index] for row in samples if index < len(row) and row[index].strip()]
        columns.append(
            Column(index, header, values, target, attribute, errors.get(f"mapping.{header}"))
        )
    return columns


def _job_page(
    principal: Me,
    job: ImportJob,
    *,
    problems: list[Problem] | None = None,
    chosen: dict[str, str] | None = None,
    status: int = 200,
) -> Template:
    errors = {p.field: p.message for p in problems or []}
    pending = job.status == ImportStatus.PENDING.value
    return page(
        "imports/job.html",
        principal,
        "imports",
        status_code=status,
        job=job,
        columns=_columns(job, errors, chosen or {}) if pending else [],
        general_errors=[p.message for p in problems or [] if not p.field.startswith("mapping.")],
        contact_choices=CONTACT_CHOICES,
        company_choices=COMPANY_CHOICES,
    )


def _list_page(
    db: Db, principal: Me, *, problems: list[Problem] | None = None, status: int = 200
) -> Template:
    return page(
        "imports/list.html",
        principal,
        "imports",
        status_code=status,
        jobs=import_jobs.recent_jobs(db),
        problems=problems or [],
    )


@get("/imports", guards=[ui_roles(*MARKETING)], sync_to_thread=True)
def import_list(db: Db, principal: Me) -> Template:
    return _list_page(db, principal)


@post(
    "/imports",
    guards=[ui_roles(*MARKETING)],
    sync_to_thread=True,
    request_max_body_size=MAX_UPLOAD_BYTES,
)
def upload(
    db: Db, principal: Me, request: Request[Any, Any, Any], data: MultipartForm
) -> Template | Redirect:
    """Store the file, check it as a whole, and show its mapping form."""
    upload = data.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _list_page(
            db, principal, problems=[Problem("file", "choose a CSV file")], status=422
        )
    path = import_jobs.upload_path(settings_of(request.app).data_dir, upload.filename)
    with path.open("wb") as out:
        shutil.copyfileobj(upload.file, out)
    try:
        job = import_jobs.create_job(
            db, filename=upload.filename, stored_path=path, created_by_id=principal.id
        )
    except InvalidInput as exc:
        path.unlink(missing_ok=True)
        return _list_page(db, principal, problems=exc.problems, status=422)
    return Redirect(f"/imports/{job.id}", status_code=303)


@get("/imports/{job_id:int}", guards=[ui_roles(*MARKETING)], sync_to_thread=True)
def import_page(db: Db, principal: Me, job_id: FromPath[int]) -> Template:
    return _job_page(principal, import_jobs.get_job(db, job_id))


@post("/imports/{job_id:int}/start", guards=[ui_roles(*MARKETING)], sync_to_thread=True)
def start_import(
    db: Db, principal: Me, job_id: FromPath[int], data: FormData
) -> Template | Redirect:
    """Fix the mapping and queue the import; a mapping that cannot work is shown again."""
    job = import_jobs.get_job(db, job_id)
    headers, _ = import_jobs.job_preview(job, sample_rows=0)
    fields = {f"col-{index}": header for index, header in enumerate(headers)}
    mapping = {header: data[name] for name, header in fields.items() if name in data}
    try:
        import_jobs.start_job(db, job_id, mapping)
    except InvalidInput as exc:
        db.rollback()
        return _job_page(principal, job, problems=exc.problems, chosen=mapping, status=422)
    # The worker must find the job committed, so queue it only after the commit.
    db.commit()
    run_import.send(job_id)
    return Redirect(f"/imports/{job_id}", status_code=303)


@get("/imports/{job_id:int}/progress", guards=[ui_roles(*MARKETING)], sync_to_thread=True)
def import_progress(db: Db, job_id: FromPath[int]) -> Template:
    """The progress bar while the import runs (htmx polls it), then the report."""
    return fragment("imports/_status.html", job=import_jobs.get_job(db, job_id))


@get("/imports/{job_id:int}/rejected.csv", guards=[ui_roles(*MARKETING)], sync_to_thread=True)
def rejected_lines(db: Db, job_id: FromPath[int]) -> File:
    """Every rejected line of a finished import, as CSV (line, reason)."""
    job = import_jobs.get_job(db, job_id)
    path = import_jobs.rejected_path(job)
    if job.status != ImportStatus.DONE.value or not path.exists():
        raise NotFound("rejected lines of import", job_id)
    stem = job.filename.rsplit(".", 1)[0] or "import"
    disposition = attachment(f"{stem}-rejected.csv", default="import-rejected")
    return File(path, media_type="text/csv", headers={"content-disposition": disposition})


handlers = [import_list, upload, import_page, start_import, import_progress, rejected_lines]
