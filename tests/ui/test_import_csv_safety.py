"""An uploaded file with a broken quote: every row counted, the rejected lines downloadable."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import unquote

from sqlalchemy.orm import Session

from tests.test_importer import BROKEN_QUOTE
from tests.ui.helpers import HTML, Client, post_form
from tests.ui.test_imports_page import (
    contacts_count,
    job_id_from,
    sign_in,
    upload,
    wait_for_imports,
)


def test_an_upload_with_a_broken_quote_reports_every_row_and_downloads_its_rejects(
    client: Client, db: Session
) -> None:
    sign_in(client, db, "marketer")
    job_id = job_id_from(upload(client, BROKEN_QUOTE.encode(), filename='Résumé "日本".csv'))
    started = post_form(
        client,
        f"/imports/{job_id}/start",
        {"col-0": "email", "col-1": "first_name", "col-2": "title"},
    )
    assert started.status_code == 303
    wait_for_imports()

    report = client.get(f"/imports/{job_id}/progress", headers=HTML)
    assert re.search(r'data-testid="rows">5<', report.text)
    assert re.search(r'data-testid="created">4<', report.text)
    assert re.search(r'data-testid="rejected">1<', report.text)
    assert contacts_count(db) == 4

    download = client.get(f"/imports/{job_id}/rejected.csv", headers=HTML)
    assert download.status_code == 200
    rows = list(csv.reader(io.StringIO(download.text)))
    assert [row[0] for row in rows] == ["line", "3"]
    assert "quote" in rows[1][1]
    disposition = download.headers["content-disposition"]
    fallback = re.fullmatch(
        r'attachment; filename="([^"]*)"; filename\*=UTF-8\'\'(\S+)', disposition
    )
    assert fallback, disposition
    assert fallback.group(1).isascii()
    assert fallback.group(1).endswith("-rejected.csv")
    assert unquote(fallback.group(2)).endswith("-rejected.csv")
    assert "日本" in unquote(fallback.group(2))
