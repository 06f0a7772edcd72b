"""CSV import of contacts in the domain: mapping, upsert, rejected lines, file-level errors."""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from nurture.contacts import erase_contact
from nurture.errors import InvalidInput
from nurture.imports import jobs as import_jobs
from nurture.imports.csv_file import CsvProblem, default_mapping
from nurture.imports.importer import import_contacts
from nurture.models import AuditEntry, Company, Contact, ImportStatus
from tests.cli_helpers import cli_env, run_cli  # noqa: F401  (cli_env is a fixture)
from tests.factories import make_contact, make_user


def write_csv(
    path: Path, rows: list[list[str]], *, delimiter: str = ",", bom: bool = False
) -> Path:
    with path.open("w", newline="", encoding="utf-8-sig" if bom else "utf-8") as handle:
        csv.writer(handle, delimiter=delimiter).writerows(rows)
    return path


def contact(db: Session, email: str) -> Contact:
    db.expire_all()
    found = db.scalar(select(Contact).where(Contact.email == email))
    assert found is not None, email
    return found


def count(db: Session, model: type[Any]) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def test_columns_map_by_name_and_rows_create_contacts_with_companies(
    db: Session, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "people.csv",
        [
            ["E-mail", "First Name", "Surname", "Job title", "Company name", "Website", "Industry"],
            [
                "Ada@Example.com",
                "Ada",
                "Lovelace",
                "CFO",
                "Analytical",
                "https://www.analytical.io/",
                "Software",
            ],
            ["grace@navy.example", "Grace", "Hopper", "Director", "Navy Labs", "", "Public sector"],
        ],
    )
    report = import_contacts(db, path, actor="test")
    assert (report.rows, report.created, report.updated, report.rejected_count) == (2, 2, 0, 0)
    ada = contact(db, "ada@example.com")
    assert (ada.first_name, ada.last_name, ada.title) == ("Ada", "Lovelace", "CFO")
    assert ada.company is not None
    assert (ada.company.name, ada.company.domain, ada.company.industry) == (
        "Analytical",
        "analytical.io",
        "software",
    )
    grace = contact(db, "grace@navy.example")
    assert grace.company is not None
    assert grace.company.domain is None
    assert grace.company.name == "Navy Labs"


def test_existing_contact_is_updated_and_empty_cells_keep_stored_values(
    db: Session, tmp_path: Path
) -> None:
    existing = make_contact(db, email="bob@example.com", first_name="Bob", title="Partner")
    db.commit()
    path = write_csv(
        tmp_path / "update.csv",
        [
            ["email", "first_name", "title", "lifecycle_stage"],
            ["BOB@example.com", "", "CFO", "Customer"],
        ],
    )
    report = import_contacts(db, path, actor="test")
    assert (report.created, report.updated) == (0, 1)
    bob = contact(db, "bob@example.com")
    assert bob.id == existing.id
    assert (bob.first_name, bob.title, bob.lifecycle_stage) == ("Bob", "CFO", "customer")
    assert count(db, Contact) == 1


def test_running_the_same_file_again_changes_nothing(db: Session, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "twice.csv",
        [
            ["email", "company", "company_domain"],
            ["a@x.example", "X", "x.example"],
            ["b@x.example", "X", "x.example"],
        ],
    )
    import_contacts(db, path, actor="test")
    again = import_contacts(db, path, actor="test")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert count(db, Contact) == 2
    assert count(db, Company) == 1


def test_bad_rows_are_reported_by_line_and_column_and_the_rest_imported(
    db: Session, tmp_path: Path
) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text(
        "email,Time zone,notes_col\n"
        "good1@example.com,Europe/Berlin,fine\n"
        "bob@,Europe/Berlin,bad address\n"
        "\n"
        'good2@example.com,,"spans\ntwo lines"\n'
        "zed@example.com,Mars/Olympus,bad zone\n"
        "extra@example.com,,x,surplus\n"
        ",,no address\n",
        encoding="utf-8",
    )
    rejected_seen: list[int] = []
    report = import_contacts(
        db, path, actor="test", on_rejected=lambda r: rejected_seen.append(r.line)
    )
    assert report.created == 2
    assert [r.describe() for r in report.rejected] == [
        "line 3: email: 'bob@' is not an e-mail address",
        "line 7: Time zone: 'Mars/Olympus' is not an IANA time zone like Europe/Berlin",
        "line 8: has 4 values but the header names 3 columns",
        "line 9: email: is required",
    ]
    assert rejected_seen == [3, 7, 8, 9]
    assert contact(db, "good2@example.com").attributes == {"notes_col": "spans\ntwo lines"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"email,name\n", "has a header but no rows"),
        (b"name,title\nAda,CFO\n", "no column is mapped to email"),
        (b"email,Email\na@example.com,b@example.com\n", "appears twice"),
        (b"email,name\na@example.com,Ada\nb@example.com,Jos\xe9\n", "line 3: is not UTF-8"),
    ],
)
def test_file_level_problems_are_refused_before_anything_is_written(
    db: Session, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "broken.csv"
    path.write_bytes(content)
    with pytest.raises(InvalidInput) as raised:
        import_contacts(db, path, actor="test")
    assert message in str(raised.value)
    assert count(db, Contact) == 0
    assert count(db, AuditEntry) == 0


def test_not_utf8_is_a_csv_problem_on_the_file_field(db: Session, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("email\nrené@example.com\n".encode("latin-1"))
    with pytest.raises(CsvProblem) as raised:
        import_contacts(db, path, actor="test")
    assert raised.value.problems[0].field == "file"


def test_later_row_wins_when_an_email_repeats_within_and_across_chunks(
    db: Session, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "dupes.csv",
        [
            ["email", "first_name", "title"],
            ["ann@example.com", "Ann", "Analyst"],
            ["ann@example.com", "Anne", ""],
            ["other@example.com", "O", ""],
            ["ANN@example.com", "", "Director"],
        ],
    )
    report = import_contacts(db, path, actor="test", chunk_size=2)
    assert (report.created, report.updated, report.rejected_count) == (2, 2, 0)
    ann = contact(db, "ann@example.com")
    assert (ann.first_name, ann.title) == ("Anne", "Director")
    assert count(db, Contact) == 2


def test_unknown_columns_become_attributes_merged_with_stored_ones_and_dash_skips(
    db: Session, tmp_path: Path
) -> None:
    make_contact(db, email="kim@example.com", attributes={"source": "webinar"})
    db.commit()
    path = write_csv(
        tmp_path / "attrs.csv",
        [
            ["email", "Plan Tier", "2024 spend", "Internal id"],
            ["kim@example.com", "gold", "1200", "77"],
        ],
    )
    report = import_contacts(db, path, actor="test", mapping={"Internal id": "-"})
    assert report.updated == 1
    assert contact(db, "kim@example.com").attributes == {
        "source": "webinar",
        "plan_tier": "gold",
        "_2024_spend": "1200",
    }


def test_default_mapping_recognises_common_spellings() -> None:
    mapping = default_mapping(["E-Mail", "Timezone", "Website", "Company Name", "Owner", ""])
    assert mapping == {
        "E-Mail": "email",
        "Timezone": "time_zone",
        "Website": "company_domain",
        "Company Name": "company",
        "Owner": "owner_email",
        "": "-",
    }


def test_bad_mapping_names_the_header_and_writes_nothing(db: Session, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "m.csv", [["Mail", "Name"], ["a@example.com", "A"]])
    with pytest.raises(InvalidInput) as raised:
        import_contacts(db, path, actor="test", mapping={"Name": "nickname", "Nope": "title"})
    fields = [p.field for p in raised.value.problems]
    assert fields == ["mapping.Name", "mapping.Nope"]
    with pytest.raises(InvalidInput, match="both fill email"):
        import_contacts(db, path, actor="test", mapping={"Name": "email"})
    assert count(db, Contact) == 0


def test_owner_email_sets_the_owner_and_an_unknown_owner_is_rejected(
    db: Session, tmp_path: Path
) -> None:
    rep = make_user(db, role="sales", email="rep@nurture.example")
    db.commit()
    path = write_csv(
        tmp_path / "owners.csv",
        [
            ["email", "owner"],
            ["a@example.com", "REP@nurture.example"],
            ["b@example.com", "ghost@nurture.example"],
        ],
    )
    report = import_contacts(db, path, actor="test")
    assert contact(db, "a@example.com").owner_id == rep.id
    assert [r.describe() for r in report.rejected] == [
        "line 3: owner: no user with e-mail 'ghost@nurture.example'"
    ]


def test_a_person_erased_on_request_is_not_brought_back(db: Session, tmp_path: Path) -> None:
    erased = make_contact(db, email="gone@example.com")
    erase_contact(db, erased.id, actor="test")
    db.commit()
    path = write_csv(tmp_path / "old.csv", [["email"], ["gone@example.com"], ["new@example.com"]])
    report = import_contacts(db, path, actor="test")
    assert report.created == 1
    assert "erased on request" in report.rejected[0].reason
    assert db.scalar(select(Contact.id).where(Contact.email == "gone@example.com")) is None


def test_dry_run_counts_but_writes_nothing(db: Session, tmp_path: Path) -> None:
    make_contact(db, email="old@example.com")
    db.commit()
    path = write_csv(
        tmp_path / "dry.csv",
        [
            ["email", "title", "company"],
            ["old@example.com", "CEO", "Acme"],
            ["new@example.com", "", ""],
            ["x@", "", ""],
        ],
    )
    report = import_contacts(db, path, actor="test", dry_run=True)
    assert (report.created, report.updated, report.rejected_count) == (1, 1, 1)
    assert count(db, Contact) == 1
    assert count(db, Company) == 0
    assert contact(db, "old@example.com").title is None


def test_semicolon_separated_file_with_byte_order_mark_is_read(db: Session, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "excel.csv",
        [["Email", "First name"], ["eva@example.de", "Eva"]],
        delimiter=";",
        bom=True,
    )
    assert import_contacts(db, path, actor="test").created == 1
    assert contact(db, "eva@example.de").first_name == "Eva"


def test_each_import_writes_one_audit_entry_with_its_counts(db: Session, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", [["email"], ["a@example.com"], ["b@example.com"], ["c@"]])
    import_contacts(db, path, actor="user:7")
    entries = db.scalars(select(AuditEntry).where(AuditEntry.action == "contacts.imported")).all()
    assert len(entries) == 1
    assert entries[0].actor == "user:7"
    assert entries[0].changes["created"] == 2
    assert entries[0].changes["rejected"] == 1


def test_a_job_runs_once_and_keeps_its_counts_and_rejected_lines(
    db: Session, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "job.csv", [["email", "Name"], ["a@example.com", "A"], ["bad", "B"]]
    )
    job = import_jobs.create_job(db, filename="../job.csv", stored_path=path, created_by_id=None)
    assert job.filename == "job.csv"
    assert job.total_rows == 2
    import_jobs.start_job(db, job.id, {"Name": "first_name"})
    db.commit()
    finished = import_jobs.run_job(db, job.id)
    assert finished.status == ImportStatus.DONE.value
    assert (finished.processed_rows, finished.created_count, finished.rejected_count) == (2, 1, 1)
    assert finished.rejected == {
        "lines": [{"line": 3, "reason": "email: 'bad' is not an e-mail address"}]
    }
    assert import_jobs.rejected_path(finished).read_text().splitlines()[1].startswith("3,")
    assert contact(db, "a@example.com").first_name == "A"
    # A redelivered message finds the job done and imports nothing twice.
    import_jobs.run_job(db, job.id)
    assert count(db, AuditEntry) == 1
    with pytest.raises(Exception, match="already been started"):
        import_jobs.start_job(db, job.id, {})


def test_a_job_whose_file_became_unreadable_fails_with_the_reason(
    db: Session, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "gone.csv", [["email"], ["a@example.com"]])
    job = import_jobs.create_job(db, filename="gone.csv", stored_path=path, created_by_id=None)
    import_jobs.start_job(db, job.id, {})
    db.commit()
    path.write_bytes(b"email\n\xff\n")
    finished = import_jobs.run_job(db, job.id)
    assert finished.status == ImportStatus.FAILED.value
    assert finished.error is not None
    assert "not UTF-8" in finished.error
    assert count(db, Contact) == 0


@pytest.mark.usefixtures("cli_env")
def test_import_command_reports_counts_and_writes_all_rejected_lines(
    db: Session, tmp_path: Path
) -> None:
    rows = [["Mail", "Name", "Legacy id"]]
    rows += [[f"p{n}@example.com", f"P{n}", str(n)] for n in range(30)]
    rows += [[f"bad{n}@", "", ""] for n in range(25)]
    path = write_csv(tmp_path / "crm.csv", rows)
    out = tmp_path / "rejected.csv"
    result = run_cli(
        "import",
        "contacts",
        str(path),
        "--map",
        "Name=first_name",
        "--map",
        "Legacy id=-",
        "--rejected-out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    assert "created           30" in result.output
    assert "rejected          25" in result.output
    assert "rejected lines (first 20 of 25):" in result.output
    assert "line 32: Mail: 'bad0@' is not an e-mail address" in result.output
    assert len(out.read_text().splitlines()) == 1 + 25
    assert contact(db, "p3@example.com").first_name == "P3"
    assert contact(db, "p3@example.com").attributes == {}


@pytest.mark.usefixtures("cli_env")
def test_import_command_dry_run_writes_nothing_and_bad_files_fail_clearly(
    db: Session, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "dry.csv", [["email"], ["a@example.com"]])
    dry = run_cli("import", "contacts", str(path), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "dry run: nothing was written" in dry.output
    assert count(db, Contact) == 0
    broken = tmp_path / "broken.csv"
    broken.write_bytes(b"name\nAda\n")
    failed = run_cli("import", "contacts", str(broken))
    assert failed.exit_code == 1
    assert "no column is mapped to email" in failed.output
    bad_map = run_cli("import", "contacts", str(path), "--map", "email")
    assert bad_map.exit_code == 2
    assert "write it as 'Header=field'" in bad_map.output


@pytest.fixture
def statements(db: Session) -> Iterator[list[str]]:
    """Every SQL statement sent while the test runs."""
    sent: list[str] = []
    engine = db.get_bind()

    def record(*args: Any) -> None:
        sent.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    yield sent
    event.remove(engine, "before_cursor_execute", record)


def test_a_hundred_thousand_rows_import_in_one_go_set_based(
    db: Session, tmp_path: Path, statements: list[str]
) -> None:
    rows = 100_000
    path = tmp_path / "big.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "first_name", "last_name", "company", "website", "segment"])
        for n in range(rows):
            writer.writerow(
                [
                    f"p{n}@c{n % 997}.example",
                    f"F{n}",
                    f"L{n}",
                    f"Co {n % 997}",
                    f"c{n % 997}.example",
                    "x",
                ]
            )
    started = time.perf_counter()
    report = import_contacts(db, path, actor="test")
    elapsed = time.perf_counter() - started
    dialect = db.get_bind().dialect.name
    print(f"\n{dialect}: {rows:,} rows in {elapsed:.1f} s = {rows / elapsed:,.0f} rows/s")
    assert (report.rows, report.created, report.rejected_count) == (rows, rows, 0)
    assert count(db, Contact) == rows
    assert count(db, Company) == 997
    # Set-based: a handful of statements per 1,000-row chunk, never one per row.
    assert len(statements) < rows / 100


# A quote opened on line 3 and never closed: the csv module alone read lines 3-6
# as one row, so the report said "Rows 2, Created 1, Rejected 1".
BROKEN_QUOTE = (
    "email,first_name,title\n"
    "ada@example.com,Ada,CFO\n"
    'bob@example.com,"Bob,CTO\n'
    "cyd@example.com,Cyd,COO\n"
    "dee@example.com,Dee,CEO\n"
    "eve@example.com,Eve,CMO\n"
)


def test_a_broken_quote_rejects_its_own_line_and_every_later_row_is_imported(
    db: Session, tmp_path: Path
) -> None:
    path = tmp_path / "broken-quote.csv"
    path.write_text(BROKEN_QUOTE, encoding="utf-8")
    report = import_contacts(db, path, actor="test")
    assert (report.rows, report.created, report.rejected_count) == (5, 4, 1)
    assert report.created + report.updated + report.unchanged + report.rejected_count == 5
    assert [r.line for r in report.rejected] == [3]
    assert "quote" in report.rejected[0].reason
    assert contact(db, "eve@example.com").title == "CMO"
    assert count(db, Contact) == 4


def test_a_quote_closed_lines_later_with_text_after_it_costs_only_its_first_line(
    db: Session, tmp_path: Path
) -> None:
    path = tmp_path / "closed-late.csv"
    path.write_text(
        "email,first_name,title\n"
        'bob@example.com,"Bob,CTO\n'
        'cyd@example.com,"Cyd"ney,COO\n'
        'dee@example.com,Dee,"Chief\nExecutive"\n'
        "eve@example.com,Eve,CMO",
        encoding="utf-8",
    )
    report = import_contacts(db, path, actor="test")
    assert [r.describe().split(":")[0] for r in report.rejected] == ["line 2"]
    assert (report.rows, report.created, report.rejected_count) == (4, 3, 1)
    # A value that really spans two lines and closes cleanly is still one row.
    assert contact(db, "dee@example.com").title == "Chief\nExecutive"
    assert contact(db, "cyd@example.com").first_name == "Cydney"


def test_a_job_with_a_broken_quote_counts_and_lists_every_line(db: Session, tmp_path: Path) -> None:
    path = tmp_path / "job.csv"
    path.write_text(BROKEN_QUOTE, encoding="utf-8")
    job = import_jobs.create_job(db, filename="job.csv", stored_path=path, created_by_id=None)
    assert job.total_rows == 5
    import_jobs.start_job(db, job.id, {})
    db.commit()
    finished = import_jobs.run_job(db, job.id)
    assert finished.status == ImportStatus.DONE.value
    assert (finished.processed_rows, finished.created_count, finished.rejected_count) == (5, 4, 1)
    assert [line["line"] for line in finished.rejected["lines"]] == [3]
    rejected = list(csv.reader(import_jobs.rejected_path(finished).open(encoding="utf-8")))
    assert [row[0] for row in rejected] == ["line", "3"]


@pytest.mark.usefixtures("cli_env")
def test_import_command_reports_a_broken_quote_line_and_imports_the_rest(
    db: Session, tmp_path: Path
) -> None:
    path = tmp_path / "broken-quote.csv"
    path.write_text(BROKEN_QUOTE, encoding="utf-8")
    out = tmp_path / "rejected.csv"
    result = run_cli("import", "contacts", str(path), "--rejected-out", str(out))
    assert result.exit_code == 0, result.output
    assert "created            4" in result.output
    assert "rejected           1" in result.output
    assert "line 3: has a quote" in result.output
    assert [row[0] for row in csv.reader(out.open(encoding="utf-8"))] == ["line", "3"]
    assert count(db, Contact) == 4


def test_rejected_lines_download_neutralises_a_formula_header(db: Session, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "f.csv", [["=HYPERLINK(1)"], ["a@"]])
    job = import_jobs.create_job(db, filename="f.csv", stored_path=path, created_by_id=None)
    import_jobs.start_job(db, job.id, {"=HYPERLINK(1)": "email"})
    db.commit()
    finished = import_jobs.run_job(db, job.id)
    rows = list(csv.reader(import_jobs.rejected_path(finished).open(encoding="utf-8")))
    assert rows[1] == ["2", "'=HYPERLINK(1): 'a@' is not an e-mail address"]
