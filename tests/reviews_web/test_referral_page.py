"""The public referral page: a stranger leaves their details; the answer never tells who
is already known; bad forms come back with the field named; posts are throttled."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.models import Contact, Event, Referral
from nurture.ratelimit import Limit
from nurture.web.public import referral_form
from tests.factories import make_contact
from tests.reviews_web.helpers import HUMAN_AGENT, make_code

Client = TestClient[Litestar]
HUMAN = {"accept": "text/html", "user-agent": HUMAN_AGENT, "accept-language": "en-GB,en;q=0.9"}
RUSSIAN = {**HUMAN, "accept-language": "ru-RU,ru;q=0.9"}


def _form(email: str, **fields: str) -> dict[str, str]:
    return {
        "first_name": "Noah",
        "last_name": "Berg",
        "email": email,
        "company": "Berg Shipping",
        "consent": "yes",
        **fields,
    }


def _contacts(db: Session) -> int:
    db.expire_all()
    count = db.scalar(select(func.count()).select_from(Contact)) or 0
    db.rollback()
    return count


def test_the_page_names_the_advocate_and_changes_nothing(db: Session, client: Client) -> None:
    code = make_code(db, first_name="Emma")
    before = _contacts(db)

    page = client.get(f"/refer/{code.code}", headers=HUMAN)

    assert page.status_code == 200
    assert "Emma thinks we could help you" in page.text
    assert "Emma from Harbor Freight Logistics works with" in page.text
    for label in ("First name", "Last name", "Work e-mail", "Company"):
        assert f">{label}</label>" in page.text
    assert _contacts(db) == before


def test_a_new_colleague_becomes_a_lead_referred_by_the_advocate(
    db: Session, client: Client
) -> None:
    code = make_code(db)

    sent = client.post(
        f"/refer/{code.code}",
        data=_form("noah@berg.example"),
        headers=HUMAN,
        follow_redirects=False,
    )

    assert sent.status_code == 303
    assert sent.headers["location"] == f"/refer/{code.code}/thanks"
    db.expire_all()
    lead = db.scalar(select(Contact).where(Contact.email == "noah@berg.example"))
    assert lead is not None
    assert lead.referred_by_id == code.contact_id
    assert (lead.first_name, lead.last_name) == ("Noah", "Berg")
    referral = db.scalar(select(Referral).where(Referral.referred_contact_id == lead.id))
    assert referral is not None
    assert referral.status == "lead"
    assert db.scalar(select(Event.id).where(Event.type == "referral.submitted")) is not None
    thanks = client.get(sent.headers["location"], headers=HUMAN)
    assert "We have your details and will be in touch soon." in thanks.text


def test_a_duplicate_and_a_known_person_get_the_very_same_answer_as_a_new_lead(
    db: Session, client: Client
) -> None:
    code = make_code(db)
    make_contact(db, email="known@berg.example")
    db.commit()
    path = f"/refer/{code.code}"

    answers = [
        client.post(path, data=_form(address), headers=HUMAN, follow_redirects=False)
        for address in ("new@berg.example", "new@berg.example", "known@berg.example")
    ]
    pages = [client.get(a.headers["location"], headers=HUMAN).text for a in answers]

    assert {a.status_code for a in answers} == {303}
    assert {a.headers["location"] for a in answers} == {f"{path}/thanks"}
    assert pages[0] == pages[1] == pages[2]
    db.expire_all()
    refused = db.scalars(select(Referral.refusal).where(Referral.status == "refused")).all()
    assert sorted(r or "" for r in refused) == ["duplicate", "known"]


def test_the_advocate_using_their_own_link_is_told_so(db: Session, client: Client) -> None:
    code = make_code(db)
    advocate = db.get(Contact, code.contact_id)
    assert advocate is not None
    assert advocate.email is not None

    sent = client.post(
        f"/refer/{code.code}", data=_form(advocate.email), headers=HUMAN, follow_redirects=False
    )

    assert sent.headers["location"] == f"/refer/{code.code}/thanks?own=1"
    assert "This is your own link" in client.get(sent.headers["location"], headers=HUMAN).text


def test_a_bad_form_comes_back_with_the_fields_named_and_what_was_typed(
    db: Session, client: Client
) -> None:
    code = make_code(db)
    before = _contacts(db)

    sent = client.post(
        f"/refer/{code.code}",
        data={"first_name": "", "last_name": "Berg", "email": "not-an-address", "company": "B&B"},
        headers=HUMAN,
    )

    assert sent.status_code == 422
    assert "Please enter your first name." in sent.text
    assert "Please enter a valid work e-mail address." in sent.text
    assert "Please tick the box so that we may contact you." in sent.text
    assert 'value="not-an-address"' in sent.text
    assert 'value="B&amp;B"' in sent.text
    assert 'id="pp-email" name="email"' in sent.text
    assert 'aria-invalid="true" aria-describedby="pp-email-error"' in sent.text
    assert _contacts(db) == before


def test_an_unknown_code_is_a_friendly_not_found(db: Session, client: Client) -> None:
    for answer in (
        client.get("/refer/nosuchcode", headers=HUMAN),
        client.post("/refer/nosuchcode", data=_form("a@b.example"), headers=HUMAN),
        client.get("/refer/nosuchcode/thanks", headers=HUMAN),
    ):
        assert answer.status_code == 404
        assert "This page does not exist" in answer.text


@pytest.mark.parametrize(
    ("advocate_locale", "headers", "expected"),
    [
        ("en", RUSSIAN, "ru"),
        ("ru", {"accept": "text/html"}, "ru"),
        ("ru", {"accept": "text/html", "accept-language": "de-DE,de;q=0.9"}, "ru"),
        ("ru", HUMAN, "en"),
    ],
)
def test_the_page_speaks_the_visitors_language_else_the_advocates(
    db: Session, client: Client, advocate_locale: str, headers: dict[str, str], expected: str
) -> None:
    code = make_code(db, locale=advocate_locale, first_name="Emma")

    page = client.get(f"/refer/{code.code}", headers=headers)

    assert f'<html lang="{expected}">' in page.text
    title = "Emma считает, что мы можем вам помочь" if expected == "ru" else "Emma thinks"
    assert title in page.text


def test_a_russian_form_answers_in_russian(db: Session, client: Client) -> None:
    code = make_code(db)

    sent = client.post(f"/refer/{code.code}", data={**_form("x"), "locale": "ru"}, headers=HUMAN)

    assert sent.status_code == 422
    assert "Введите правильный рабочий e-mail." in sent.text


def test_submissions_are_throttled_per_address(
    db: Session, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Windows far longer than the test, so no window boundary falls inside it.
    monkeypatch.setattr(referral_form, "SUBMISSIONS_PER_ADDRESS", Limit("test-ref-ip", 2, 10**9))
    first, second = make_code(db), make_code(db)

    answers = [
        client.post(f"/refer/{code.code}", data=_form(f"p{n}@berg.example"), headers=HUMAN)
        for n, code in enumerate((first, second, second))
    ]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert int(answers[-1].headers["retry-after"]) > 0
    assert "Too many attempts" in answers[-1].text


def test_submissions_are_throttled_per_code(
    db: Session, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(referral_form, "SUBMISSIONS_PER_CODE", Limit("test-ref-code", 2, 10**9))
    busy, other = make_code(db), make_code(db)

    answers = [
        client.post(f"/refer/{code.code}", data=_form(f"q{n}@berg.example"), headers=HUMAN)
        for n, code in enumerate((busy, busy, busy, other))
    ]

    assert [a.status_code for a in answers] == [200, 200, 429, 200]
    assert _contacts(db) == 2 + 3  # two advocates, and the three leads let through
