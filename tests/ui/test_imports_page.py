"""The import pages: upload a CSV, map its columns, run it in the background, read the report."""

from __future__ import annotations

import re

from httpx import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.models import Contact, ImportJob, ImportStatus
from tests.factories import make_user
from tests.ui.helpers import HTML, Client, csrf_token, login, post_form
from workers import broker

PEOPLE = (
    "E-mail,First name,Plan,Internal id\n"
    "ada@example.com,Ada,gold,1\n"
    "bob@,Bob,silver,2\n"
    "cy@example.com,Cy,,3\n"
)


def upload(client: Client, content: bytes, filename: str = "people.csv") -> Response:
    return client.post(
        "/imports",
        data={"_csrf_token": csrf_token(client)},
        files={"file": (filename, content, "text/csv")},
        headers=HTML,
        follow_redirects=False,
    )


def job_id_from(response: Response) -> int:
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/imports/(\d+)", response.headers["location"])
    assert match, response.headers["location"]
    return int(match.group(1))


def wait_for_imports() -> None:
    """Block until the embedded worker has processed every queued import."""
    broker.current().join("imports", timeout=60_000)


def sign_in(client: Client, db: Session, role: str) -> None:
    user = make_user(db, role=role)
    db.commit()
    login(client, user)


def contacts_count(db: Session) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Contact)) or 0


def test_marketer_uploads_maps_and_runs_an_import_to_its_report(
    client: Client, db: Session
) -> None:
    sign_in(client, db, "marketer")
    assert client.get("/imports", headers=HTML).status_code == 200

    job_id = job_id_from(upload(client, PEOPLE.encode()))
    mapping_page = client.get(f"/imports/{job_id}", headers=HTML)
    assert mapping_page.status_code == 200
    assert "Map the columns" in mapping_page.text
    # Columns were recognised by name; the unknown one is offered as a custom attribute.
    assert re.search(r'name="col-0".*?<option value="email" selected', mapping_page.text, re.S)
    assert 'value="attributes.plan" selected' in mapping_page.text
    assert "ada@example.com" in mapping_page.text  # sample values help choose

    started = post_form(
        client,
        f"/imports/{job_id}/start",
        {"col-0": "email", "col-1": "first_name", "col-2": "attributes.plan", "col-3": "-"},
    )
    assert started.status_code == 303
    wait_for_imports()

    report = client.get(f"/imports/{job_id}/progress", headers=HTML)
    assert report.status_code == 200
    assert "Import finished" in report.text
    assert "hx-trigger" not in report.text  # polling stops once the import is done
    assert re.search(r'data-testid="created">2<', report.text)
    assert re.search(r'data-testid="rejected">1<', report.text)
    assert "E-mail: &#39;bob@&#39; is not an e-mail address" in report.text

    db.expire_all()
    ada = db.scalar(select(Contact).where(Contact.email == "ada@example.com"))
    assert ada is not None
    assert ada.first_name == "Ada"
    assert ada.attributes == {"plan": "gold"}

    download = client.get(f"/imports/{job_id}/rejected.csv", headers=HTML)
    assert download.status_code == 200
    assert download.text.splitlines() == [
        "line,reason",
        "3,E-mail: 'bob@' is not an e-mail address",
    ]
    listing = client.get("/imports", headers=HTML)
    assert "people.csv" in listing.text
    assert "Done" in listing.text


def test_a_running_import_shows_a_polling_progress_bar(client: Client, db: Session) -> None:
    sign_in(client, db, "admin")
    job_id = job_id_from(upload(client, PEOPLE.encode()))
    # Marked running as the start form does, but not queued: the page must poll.
    job = db.get(ImportJob, job_id)
    assert job is not None
    job.status = ImportStatus.RUNNING.value
    job.processed_rows = 1
    db.commit()
    page = client.get(f"/imports/{job_id}", headers=HTML)
    assert page.status_code == 200
    assert f'hx-get="/imports/{job_id}/progress"' in page.text
    assert "<progress" in page.text


def test_a_file_that_is_not_utf8_is_refused_at_upload_with_the_reason(
    client: Client, db: Session
) -> None:
    sign_in(client, db, "marketer")
    response = upload(client, "email\nrené@example.com\n".encode("latin-1"), "latin1.csv")
    assert response.status_code == 422
    assert "is not UTF-8 text" in response.text
    assert db.scalar(select(func.count()).select_from(ImportJob)) == 0


def test_a_mapping_without_email_is_shown_again_naming_the_problem(
    client: Client, db: Session
) -> None:
    sign_in(client, db, "marketer")
    job_id = job_id_from(upload(client, PEOPLE.encode()))
    response = post_form(
        client,
        f"/imports/{job_id}/start",
        {"col-0": "-", "col-1": "first_name", "col-2": "attributes.plan", "col-3": "-"},
    )
    assert response.status_code == 422
    assert "no column is mapped to email" in response.text
    assert 'name="col-0"' in response.text  # the form is shown again
    db.expire_all()
    job = db.get(ImportJob, job_id)
    assert job is not None
    assert job.status == ImportStatus.PENDING.value
    assert contacts_count(db) == 0


def test_starting_an_import_twice_queues_it_once(client: Client, db: Session) -> None:
    sign_in(client, db, "marketer")
    job_id = job_id_from(upload(client, PEOPLE.encode()))
    form = {"col-0": "email", "col-1": "first_name", "col-2": "-", "col-3": "-"}
    assert post_form(client, f"/imports/{job_id}/start", form).status_code == 303
    assert post_form(client, f"/imports/{job_id}/start", form).status_code == 409
    wait_for_imports()
    assert contacts_count(db) == 2


def test_sales_reps_may_not_import(client: Client, db: Session) -> None:
    sign_in(client, db, "sales")
    assert client.get("/imports", headers=HTML).status_code == 403
    assert upload(client, PEOPLE.encode()).status_code == 403
