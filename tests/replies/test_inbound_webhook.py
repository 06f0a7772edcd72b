"""POST /api/v1/inbound/email: replies handed over by a provider's inbound webhook."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.orm import Session

from nurture.models import EnrolmentState
from tests.factories import make_api_key
from tests.replies.helpers import Sent, events_of, reply
from tests.sequences.helpers import reload

URL = "/api/v1/inbound/email"


@pytest.fixture
def auth(db: Session) -> dict[str, str]:
    _, secret = make_api_key(db, role="marketer")
    db.commit()
    return {"Authorization": f"Bearer {secret}"}


def _post(
    client: TestClient[Litestar], auth: dict[str, str], body: bytes, content_type: str
) -> Any:
    return client.post(URL, content=body, headers={**auth, "Content-Type": content_type})


def test_a_raw_reply_stops_the_sequence(
    client: TestClient[Litestar], auth: dict[str, str], db: Session, sent: Sent
) -> None:
    answer = _post(client, auth, reply(sent), "message/rfc822")

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["outcome"] == "matched"
    assert body["message_id"] == sent.message_id
    assert body["contact_id"] == sent.contact_id
    assert body["stopped_enrolments"] == 1
    assert reload(db, sent.enrolment_id).exit_reason == "replied"
    assert len(events_of(db, "email.replied")) == 1


def test_a_json_reply_with_base64_matches_by_its_envelope_recipient(
    client: TestClient[Litestar], auth: dict[str, str], db: Session, sent: Sent
) -> None:
    # Addressed to the sender and unthreaded: only the envelope names the message.
    raw = reply(sent, to="news@firm.example", threaded=False)
    document = {"raw": base64.b64encode(raw).decode(), "recipients": [sent.reply_to]}

    answer = client.post(URL, json=document, headers=auth)

    assert answer.status_code == 200, answer.text
    assert answer.json()["outcome"] == "matched"
    assert reload(db, sent.enrolment_id).state == EnrolmentState.EXITED


def test_a_reply_posted_twice_answers_duplicate_the_second_time(
    client: TestClient[Litestar], auth: dict[str, str], db: Session, sent: Sent
) -> None:
    raw = reply(sent)
    first = _post(client, auth, raw, "text/plain")
    second = _post(client, auth, raw, "text/plain")

    assert first.json()["outcome"] == "matched"
    assert second.status_code == 200
    assert second.json()["outcome"] == "duplicate"
    assert len(events_of(db, "email.replied")) == 1


def test_an_unknown_reply_answers_unmatched_and_changes_nothing(
    client: TestClient[Litestar], auth: dict[str, str], db: Session, sent: Sent
) -> None:
    raw = reply(sent, to="news@firm.example", threaded=False)

    answer = _post(client, auth, raw, "message/rfc822")

    assert answer.status_code == 200
    assert answer.json()["outcome"] == "unmatched"
    assert answer.json()["detail"]
    assert reload(db, sent.enrolment_id).state == EnrolmentState.ACTIVE
    assert events_of(db, "email.replied") == []


def test_an_out_of_office_answer_is_recorded_without_stopping_anything(
    client: TestClient[Litestar], auth: dict[str, str], db: Session, sent: Sent
) -> None:
    raw = reply(sent, headers={"Auto-Submitted": "auto-replied"})

    answer = _post(client, auth, raw, "message/rfc822")

    assert answer.json()["outcome"] == "auto_reply"
    assert reload(db, sent.enrolment_id).state == EnrolmentState.ACTIVE


@pytest.mark.parametrize(
    ("body", "content_type", "field"),
    [
        (b"", "message/rfc822", "body"),
        (b"hello, this is not a message", "text/plain", "body"),
        (b"", "application/json", "body"),
        (b"[1, 2]", "application/json", "body"),
        (b'{"raw": 5}', "application/json", "raw"),
        (b"{}", "application/json", "raw"),
        (b'{"raw": "***not base64***"}', "application/json", "raw"),
        (b'{"raw": "aGVsbG8="}', "application/json", "raw"),
        (b'{"raw": "aGVsbG8=", "mailbox": 1}', "application/json", "mailbox"),
        (b'{"raw": "aGVsbG8=", "recipients": "x"}', "application/json", "recipients"),
        (b'{"raw": "aGVsbG8=", "recipients": [7]}', "application/json", "recipients"),
    ],
)
def test_a_bad_body_is_refused_naming_the_field(
    client: TestClient[Litestar],
    auth: dict[str, str],
    db: Session,
    sent: Sent,
    body: bytes,
    content_type: str,
    field: str,
) -> None:
    answer = _post(client, auth, body, content_type)

    assert 400 <= answer.status_code < 500, answer.text
    problems = answer.json()["error"].get("problems", [])
    assert field in [p["field"] for p in problems], answer.text
    assert reload(db, sent.enrolment_id).state == EnrolmentState.ACTIVE


def test_an_unsupported_content_type_is_refused_with_415(
    client: TestClient[Litestar], auth: dict[str, str], sent: Sent
) -> None:
    answer = _post(client, auth, reply(sent), "application/x-www-form-urlencoded")

    assert answer.status_code == 415
    assert "Content-Type" in answer.json()["error"]["message"]


def test_without_an_api_key_nothing_is_recorded(
    client: TestClient[Litestar], db: Session, sent: Sent
) -> None:
    answer = client.post(URL, content=reply(sent), headers={"Content-Type": "message/rfc822"})

    assert answer.status_code == 401
    assert reload(db, sent.enrolment_id).state == EnrolmentState.ACTIVE
