"""The segment page's export is a link a signed-in marketer follows to a CSV file."""

from __future__ import annotations

import csv
import io
import re

from sqlalchemy.orm import Session

from segments import lists, store
from tests.factories import make_contact, make_user
from tests.ui.helpers import HTML, Client, login


def test_the_export_link_downloads_the_members_as_csv(client: Client, db: Session) -> None:
    segment = store.create_segment(db, name="Légal leads", kind="static")
    lena = make_contact(db, email="lena@brandt.example", first_name="Lena")
    lists.add_members(db, segment.id, [lena.id])
    user = make_user(db, role="marketer")
    db.commit()
    login(client, user)

    page = client.get(f"/segments/{segment.id}", headers=HTML)
    link = re.search(r'<a [^>]*id="segment-export" href="([^"]+)"', page.text)
    assert link, page.text
    download = client.get(link.group(1))

    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert "attachment" in download.headers["content-disposition"]
    assert "L%C3%A9gal%20leads.csv" in download.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert [(r["email"], r["first_name"]) for r in rows] == [("lena@brandt.example", "Lena")]


def test_a_sales_rep_cannot_download_a_segment(client: Client, db: Session) -> None:
    segment = store.create_segment(db, name="Legal leads", kind="static")
    user = make_user(db, role="sales")
    db.commit()
    login(client, user)

    assert client.get(f"/segments/{segment.id}/members.csv").status_code == 403
