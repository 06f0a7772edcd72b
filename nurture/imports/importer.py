"""CSV import of contacts: a set-based upsert by e-mail, in chunks.

The file is read twice, streaming (nurture.imports.csv_file): a first pass checks it
as a whole and counts the rows, so a broken file is refused before anything
is written; the second pass imports it in chunks, a handful of statements per
chunk whatever its size, so memory stays bounded and 100,000 rows go in one go.

Rules a user can rely on:
- a row is applied as if the rows were imported one by one in file order, so
  when an e-mail appears twice the later row's non-empty cells win;
- an empty cell leaves the stored value as it is (an import never erases data);
- each rejected row is reported with its line (the header is line 1) and the
  column and reason; it never stops the rows after it, and a broken quote
  rejects its own line only (every line is imported or rejected);
- companies are matched by domain, or by name when the row has no domain.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import (
    Insert,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from nurture import audit
from nurture.contacts import MAX_ATTRIBUTES, check_contact_input
from nurture.contacts.addresses import email_hash
from nurture.errors import InvalidInput, Problem
from nurture.imports.csv_file import (
    ATTRIBUTE_PREFIX,
    COMPANY_TARGETS,
    IGNORE,
    CsvProblem,
    inspect_csv,
    iter_rows,
    resolve_mapping,
)
from nurture.models import (
    Company,
    Contact,
    LifecycleStage,
    Suppression,
    SuppressionReason,
    User,
    utcnow,
)
from nurture.sqlsets import among

CHUNK_SIZE = 1000
# The report keeps this many rejected lines; `on_rejected` sees every one.
KEPT_REJECTS = 1000


@dataclass(frozen=True, slots=True)
class RejectedLine:
    line: int
    reason: str

    def describe(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(slots=True)
class ImportReport:
    """Counts of one import. `rejected` holds the first KEPT_REJECTS rejected lines."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected_count: int = 0
    rejected: list[RejectedLine] = field(default_factory=list)
    dry_run: bool = False
    seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


Progress = Callable[[ImportReport, int], None]


# ---------------------------------------------------------------- import


@dataclass(slots=True)
class _Row:
    line: int
    email: str
    values: dict[str, Any]
    attributes: dict[str, Any]
    company_key: tuple[str, str] | None = None


@dataclass(slots=True)
class _Plan:
    """What the rows of a file fill, worked out once from the mapping."""

    width: int  # how many columns the header names
    columns: list[tuple[int, str, str]]  # (cell index, header, target)
    field_headers: dict[str, str]  # contact-input field -> header, for messages
    update_columns: list[str]
    owners: dict[str, int]
    # Companies as stored, by key, learnt while the import runs (see _upsert_companies).
    companies: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)


def import_contacts(
    session: Session,
    path: Path,
    *,
    actor: str,
    mapping: Mapping[str, str] | None = None,
    dry_run: bool = False,
    job_id: int | None = None,
    chunk_size: int = CHUNK_SIZE,
    on_progress: Progress | None = None,
    on_rejected: Callable[[RejectedLine], None] | None = None,
) -> ImportReport:
    """Create or update one contact per row (by e-mail) and report every rejected row.

    `mapping` overrides the default header mapping. File-level problems raise
    CsvProblem/InvalidInput before anything is written. Commits after every
    chunk, so a long import holds no long lock and its progress is visible;
    running the same file again is safe. With `dry_run` nothing is written and
    the counts say what would happen. One audit entry records the import
    (against `job_id` when the import runs for an upload).
    """
    started = perf_counter()
    summary = inspect_csv(path, sample_rows=0)
    if summary.rows == 0:
        raise CsvProblem("has a header but no rows to import")
    resolved = resolve_mapping(summary.headers, mapping)
    plan = _plan(session, summary.headers, resolved)
    report = ImportReport(dry_run=dry_run)
    seen_new: set[str] = set()  # only for dry runs, where nothing lands in the table

    def reject(line: int, reason: str) -> None:
        report.rejected_count += 1
        rejected = RejectedLine(line, reason)
        if len(report.rejected) < KEPT_REJECTS:
            report.rejected.append(rejected)
        if on_rejected is not None:
            on_rejected(rejected)

    chunk: list[_Row] = []
    companies: dict[tuple[str, str], dict[str, Any]] = {}
    for record in iter_rows(path, summary.delimiter):
        report.rows += 1
        row = None
        if record.problem is not None:
            reject(record.line, record.problem)
        else:
            row = _parse_row(session, plan, record.line, record.cells, companies, reject)
        if row is not None:
            chunk.append(row)
        if report.rows % chunk_size == 0:
            _apply_chunk(session, plan, chunk, companies, report, reject, dry_run, seen_new)
            chunk, companies = [], {}
            _chunk_done(session, report, summary.rows, dry_run, on_progress)
    if report.rows % chunk_size:
        _apply_chunk(session, plan, chunk, companies, report, reject, dry_run, seen_new)
        _chunk_done(session, report, summary.rows, dry_run, on_progress)

    report.seconds = perf_counter() - started
    if not dry_run:
        audit.record(
            session,
            actor=actor,
            action="contacts.imported",
            entity_type="import_job" if job_id is not None else "file",
            entity_id=job_id,
            changes={
                "file": path.name,
                "rows": report.rows,
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "rejected": report.rejected_count,
            },
        )
        session.commit()
    return report


def _chunk_done(
    session: Session, report: ImportReport, total: int, dry_run: bool, on_progress: Progress | None
) -> None:
    if on_progress is not None:
        on_progress(report, total)
    if not dry_run:
        session.commit()


def _plan(session: Session, headers: list[str], mapping: dict[str, str]) -> _Plan:
    columns = [
        (i, h, mapping[h]) for i, h in enumerate(headers) if mapping.get(h, IGNORE) != IGNORE
    ]
    field_headers: dict[str, str] = {}
    update_columns: set[str] = set()
    for _, header, target in columns:
        if target in COMPANY_TARGETS:
            field_headers[f"company.{COMPANY_TARGETS[target]}"] = header
            update_columns.add("company_id")
        elif target == "owner_email":
            field_headers["owner_id"] = header
            update_columns.add("owner_id")
        elif target.startswith(ATTRIBUTE_PREFIX):
            field_headers[target] = header
            update_columns.add("attributes")
        else:
            field_headers[target] = header
            update_columns.add(target)
    update_columns.discard("email")
    owners: dict[str, int] = {}
    if "owner_id" in update_columns:
        # Users are few; one look-up here saves one per row.
        owners = {email: uid for email, uid in session.execute(select(User.email, User.id))}
    return _Plan(len(headers), columns, field_headers, sorted(update_columns), owners)


def _parse_row(
    session: Session,
    plan: _Plan,
    line: int,
    cells: list[str],
    companies: dict[tuple[str, str], dict[str, Any]],
    reject: Callable[[int, str], None],
) -> _Row | None:
    """The row checked with the API's rules, or None after reporting why it was rejected."""
    if len(cells) > plan.width and any(c.strip() for c in cells[plan.width :]):
        reject(line, f"has {len(cells)} values but the header names {plan.width} columns")
        return None
    data: dict[str, Any] = {}
    company: dict[str, Any] = {}
    attributes: dict[str, Any] = {}
    owner: str | None = None
    for index, _header, target in plan.columns:
        cell = cells[index].strip() if index < len(cells) else ""
        if not cell:
            continue
        if target in COMPANY_TARGETS:
            company[COMPANY_TARGETS[target]] = cell
        elif target.startswith(ATTRIBUTE_PREFIX):
            attributes[target[len(ATTRIBUTE_PREFIX) :]] = cell
        elif target == "owner_email":
            owner = cell.lower()
        elif target == "lifecycle_stage":
            data[target] = "_".join(cell.lower().replace("-", " ").split())
        else:
            data[target] = cell
    if attributes:
        data["attributes"] = attributes
    named = "name" in company
    if company:
        if "domain" in company:
            company["domain"] = _domain_of(company["domain"])
        if not named and "domain" not in company:
            column = plan.field_headers[f"company.{next(iter(company))}"]
            reject(line, f"{column}: needs a company name or domain in the same row")
            return None
        if not named:
            company["name"] = company["domain"]
        data["company"] = company
    try:
        values, checked_company = check_contact_input(session, data, partial=False)
    except InvalidInput as exc:
        reject(line, "; ".join(_describe(plan, p) for p in exc.problems))
        return None
    if owner is not None:
        owner_id = plan.owners.get(owner)
        if owner_id is None:
            reject(line, f"{plan.field_headers['owner_id']}: no user with e-mail {owner!r}")
            return None
        values["owner_id"] = owner_id
    email = values.pop("email")
    checked_attributes = values.pop("attributes", {})
    row = _Row(line, email, values, checked_attributes)
    if checked_company is not None:
        if not named:
            del checked_company["name"]  # an existing company keeps its name
        key = ("domain", checked_company["domain"]) if checked_company.get("domain") else None
        key = key or ("name", checked_company["name"].lower())
        companies.setdefault(key, {}).update(checked_company)
        row.company_key = key
    return row


def _describe(plan: _Plan, problem: Problem) -> str:
    return f"{plan.field_headers.get(problem.field, problem.field)}: {problem.message}"


def _domain_of(cell: str) -> str:
    """'https://www.acme.com/about' -> 'www.acme.com' (the contacts check drops www.)."""
    text = cell.strip()
    if "://" in text:
        text = urlsplit(text).hostname or text
    return text.split("/", 1)[0]


def _apply_chunk(
    session: Session,
    plan: _Plan,
    rows: list[_Row],
    companies: dict[tuple[str, str], dict[str, Any]],
    report: ImportReport,
    reject: Callable[[int, str], None],
    dry_run: bool,
    seen_new: set[str],
) -> None:
    """Upsert one chunk: a few set-based statements, never one per row."""
    rows = _drop_erased(session, rows, reject)
    if not rows:
        return
    company_ids = _upsert_companies(session, companies, plan.companies, dry_run)
    columns = plan.update_columns
    existing = _existing_contacts(session, {r.email for r in rows}, columns)
    states: dict[str, dict[str, Any]] = {}
    new: dict[str, None] = {}  # e-mails this chunk creates, in file order
    changed: set[str] = set()
    for row in rows:
        state = states.get(row.email)
        if state is None:
            found = existing.get(row.email)
            state = dict(found) if found else {c: None for c in columns}
        if len({**(state.get("attributes") or {}), **row.attributes}) > MAX_ATTRIBUTES:
            reject(row.line, f"a contact holds at most {MAX_ATTRIBUTES} custom attributes")
            continue
        did_change = _merge(state, row, company_ids)
        if row.email not in states:
            states[row.email] = state
            if row.email not in existing and row.email not in seen_new:
                new[row.email] = None
                report.created += 1
                if dry_run:
                    seen_new.add(row.email)
                continue
        report.updated += did_change
        report.unchanged += not did_change
        if did_change and row.email not in new:
            changed.add(row.email)
    if dry_run:
        return
    now = utcnow()
    inserts = []
    for email in new:
        state = states[email]
        values = {c: state.get(c) for c in columns}
        values["lifecycle_stage"] = values.get("lifecycle_stage") or LifecycleStage.LEAD.value
        values["attributes"] = values.get("attributes") or {}
        inserts.append({"email": email, **values, "created_at": now, "updated_at": now})
    if inserts:
        _insert_contacts(session, inserts)
    updates = [
        {"id": states[email]["_id"], **{c: states[email][c] for c in columns}, "updated_at": now}
        for email in changed
    ]
    if updates:
        session.execute(update(Contact), updates)


def _insert_contacts(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert new contacts: COPY on PostgreSQL, executemany elsewhere (the hot path)."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        session.execute(insert(Contact.metadata.tables["contacts"]), rows)
        return
    # COPY measured several times faster than multi-row INSERTs here; the
    # rows were fully checked already, so nothing is lost by bypassing the ORM.
    columns = list(rows[0])
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY contacts ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([json.dumps(v) if isinstance(v, dict) else v for v in row.values()])


def _merge(state: dict[str, Any], row: _Row, company_ids: dict[tuple[str, str], int]) -> bool:
    """Apply the row's non-empty cells to a contact's state; True when something changed."""
    changed = False
    for name, value in row.values.items():
        if state.get(name) != value:
            state[name] = value
            changed = True
    if row.company_key is not None:
        company_id = company_ids.get(row.company_key)
        if company_id is None or state.get("company_id") != company_id:
            state["company_id"] = company_id
            changed = True
    if row.attributes:
        merged = dict(state.get("attributes") or {})
        merged.update(row.attributes)
        if merged != state.get("attributes"):
            state["attributes"] = merged
            changed = True
    return changed


def _drop_erased(
    session: Session, rows: list[_Row], reject: Callable[[int, str], None]
) -> list[_Row]:
    """Rows for people erased on request (GDPR) are refused: an old list must not revive them."""
    hashes = {email_hash(r.email): r.email for r in rows}
    if not hashes:
        return rows
    erased_hashes = session.scalars(
        select(Suppression.email_hash).where(
            among(session, Suppression.email_hash, hashes),
            Suppression.reason == SuppressionReason.ERASED.value,
        )
    ).all()
    if not erased_hashes:
        return rows
    erased = {hashes[h] for h in erased_hashes}
    kept = []
    for row in rows:
        if row.email in erased:
            reject(row.line, "email: this person was erased on request and is not imported again")
        else:
            kept.append(row)
    return kept


def _existing_contacts(
    session: Session, emails: set[str], columns: list[str]
) -> dict[str, dict[str, Any]]:
    wanted = [getattr(Contact, c) for c in columns]
    found: dict[str, dict[str, Any]] = {}
    for row in session.execute(
        select(Contact.id, Contact.email, *wanted).where(among(session, Contact.email, emails))
    ):
        values = dict(zip(columns, row[2:], strict=True))
        values["_id"] = row[0]
        found[row[1]] = values
    return found


def _upsert_companies(
    session: Session,
    companies: dict[tuple[str, str], dict[str, Any]],
    known: dict[tuple[str, str], dict[str, Any]],
    dry_run: bool,
) -> dict[tuple[str, str], int]:
    """Companies of a chunk by key, created or updated with the given fields, in bulk.

    `known` remembers companies (as stored) across the chunks of one import:
    files repeat the same companies, so most chunks need no look-up at all.
    """
    if not companies:
        return {}
    fields = ("name", "domain", "industry", "size_band", "country")
    columns = [getattr(Company, f) for f in fields]
    unknown = [key for key in companies if key not in known]
    domains = {value for kind, value in unknown if kind == "domain"}
    names = {value for kind, value in unknown if kind == "name"}
    if domains:
        query = select(Company.id, *columns).where(among(session, Company.domain, domains))
        for row in session.execute(query):
            known[("domain", row.domain)] = dict(row._mapping)
    if names:
        query = select(Company.id, *columns).where(among(session, func.lower(Company.name), names))
        for row in session.execute(query.order_by(Company.id)):
            known.setdefault(("name", row.name.lower()), dict(row._mapping))
    ids = {key: known[key]["id"] for key in companies if key in known}
    if dry_run:
        return ids
    now = utcnow()
    updates = []
    missing = []
    for key, given in companies.items():
        current = known.get(key)
        if current is None:
            missing.append(key)
            continue
        wanted = {**current, **given}
        if wanted != current:
            updates.append({**wanted, "updated_at": now})
            known[key] = wanted
    if updates:
        session.execute(update(Company), updates)
    if missing:
        rows = [
            {f: companies[key].get(f) for f in fields} | {"created_at": now, "updated_at": now}
            for key in missing
        ]
        inserted = session.execute(
            _insert_ignoring_duplicates(session, Company).returning(*columns, Company.id),
            rows,
        )
        for row in inserted:
            key = ("domain", row.domain) if row.domain else ("name", row.name.lower())
            ids[key] = row.id
            known[key] = dict(row._mapping)
        # A concurrent import may have created a domain between our two statements.
        late = [value for kind, value in missing if kind == "domain" and (kind, value) not in ids]
        if late:
            query = select(Company.id, *columns).where(among(session, Company.domain, late))
            for row in session.execute(query):
                ids[("domain", row.domain)] = row.id
                known[("domain", row.domain)] = dict(row._mapping)
    return ids


def _insert_ignoring_duplicates(session: Session, model: type[Company]) -> Insert:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model).on_conflict_do_nothing()
    return sqlite.insert(model).on_conflict_do_nothing()
