"""The preferences page and RFC 8058 one-click unsubscribe, from mail sent over SMTP."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nurture.contacts import is_suppressed
from nurture.models import Contact, Event, TopicOptOut
from templates.tokens import TokenSigner
from tests.email.smtpd import Behaviour
from tests.web_email.conftest import Headers
from tests.web_email.mail import last_mail, send, unsubscribe_token

Client = TestClient[Litestar]
HTML = {"accept": "text/html"}
ONE_CLICK = {"content-type": "application/x-www-form-urlencoded"}


def _token(
    client: Client, template_id: int, contact: Contact, headers: Headers, b: Behaviour
) -> str:
    send(client, template_id, contact.id, headers)
    return unsubscribe_token(last_mail(b))


def _count(db: Session, kind: str) -> int:
    return db.scalar(select(func.count()).select_from(Event).where(Event.type == kind)) or 0


def test_one_click_post_without_cookies_unsubscribes_and_repeating_it_changes_nothing(
    client: Client,
    app: Litestar,
    db: Session,
    template_id: int,
    contact: Contact,
    headers: Headers,
    behaviour: Behaviour,
) -> None:
    token = _token(client, template_id, contact, headers, behaviour)
    mail = last_mail(behaviour)
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # A mail client's POST: no cookies, no CSRF token, no JavaScript.
    client.cookies.clear()
    answers = [
        client.post(f"/u/{token}", content=b"List-Unsubscribe=One-Click", headers=ONE_CLICK)
        for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [200, 200]
    assert "set-cookie" not in answers[0].headers
    db.expire_all()
    assert is_suppressed(db, "ada@client.example")
    assert _count(db, "email.unsubscribed") == 1

    again = client.post(
        f"/api/v1/templates/{template_id}/send", json={"contact_id": contact.id}, headers=headers
    )
    assert again.json()["status"] == "suppressed"
    assert len(behaviour.received) == 1


def test_one_click_as_multipart_form_data_works_too(
    client: Client,
    db: Session,
    template_id: int,
    contact: Contact,
    headers: Headers,
    behaviour: Behaviour,
) -> None:
    token = _token(client, template_id, contact, headers, behaviour)
    answer = client.post(f"/u/{token}", files={"List-Unsubscribe": (None, "One-Click")})
    assert answer.status_code == 200
    db.expire_all()
    assert is_suppressed(db, "ada@client.example")


def test_preferences_page_shows_topics_and_changes_nothing_when_opened(
    client: Client,
    db: Session,
    template_id: int,
    contact: Contact,
    headers: Headers,
    behaviour: Behaviour,
) -> None:
    token = _token(client, template_id, contact, headers, behaviour)
    for _ in range(2):
        page = client.get(f"/u/{token}", headers=HTML)
        assert page.status_code == 200
    assert "a***@client.example" in page.text
    assert "Newsletters and insights" in page.text
    assert "Unsubscribe from all" in page.text
    assert "ada@client.example" not in page.text
    db.expire_all()
    assert not is_suppressed(db, "ada@client.example")
    assert _count(db, "email.unsubscribed") == 0


def test_saving_topics_opts_out_of_the_others_and_the_topic_mail_is_not_sent(
    client: Client,
    db: Session,
    template_id: int,
    contact: Contact,
    headers: Headers,
    behaviour: Behaviour,
) -> None:
    token = _token(client, template_id, contact, headers, behaviour)
    answer = client.post(
        f"/u/{token}",
        data={"action": "save", "topics": ["webinars", "case_studies"]},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/u/{token}?done=saved"
    db.expire_all()
    opted = set(db.scalars(select(TopicOptOut.topic).where(TopicOptOut.contact_id == contact.id)))
    assert "newsletters" in opted
    assert "webinars" not in opted
    shown = client.get(answer.headers["location"], headers=HTML)
    assert "Your preferences are saved." in shown.text
    # The template's topic is newsletters: the next send is suppressed.
    again = client.post(
        f"/api/v1/templates/{template_id}/send", json={"contact_id": contact.id}, headers=headers
    )
    assert again.json()["status"] == "suppressed"


def test_unsubscribe_from_all_then_resubscribe_from_the_page(
    client: Client,
    db: Session,
    template_id: int,
    contact: Contact,
    headers: Headers,
    behaviour: Behaviour,
) -> None:
    token = _token(client, template_id, contact, headers, behaviour)
    gone = client.post(f"/u/{token}", data={"action": "unsubscribe_all"}, follow_redirects=False)
    assert gone.status_code == 303
    db.expire_all()
    assert is_suppressed(db, "ada@client.example")
    assert "Subscribe again" in client.get(f"/u/{token}", headers=HTML).text
    back = client.post(f"/u/{token}", data={"action": "resubscribe"}, follow_redirects=False)
    assert back.status_code == 303
    db.expire_all()
    assert not is_suppressed(db, "ada@client.example")


def test_russian_contacts_get_the_page_in_russian(
    client: Client,
    db: Session,
    template_id: int,
    headers: Headers,
    behaviour: Behaviour,
) -> None:
    from tests.factories import make_contact

    person = make_contact(db, email="ivan@client.example", first_name="Иван", locale="ru")
    db.commit()
    token = _token(client, template_id, person, headers, behaviour)
    page = client.get(f"/u/{token}", headers=HTML)
    assert "Настройки рассылки" in page.text
    assert "Отписаться от всех писем" in page.text


def test_forged_tokens_and_unknown_actions_are_refused(
    client: Client,
    app: Litestar,
    db: Session,
    template_id: int,
    contact: Contact,
    headers: Headers,
    behaviour: Behaviour,
) -> None:
    token = _token(client, template_id, contact, headers, behaviour)
    foreign = TokenSigner("another-installation-secret-" + "y" * 20).unsubscribe(contact.id)
    assert client.get(f"/u/{foreign}", headers=HTML).status_code == 400
    refused = client.post(f"/u/{foreign}", content=b"List-Unsubscribe=One-Click", headers=ONE_CLICK)
    assert refused.status_code == 400
    assert client.post(f"/u/{token}", data={"action": "drop_tables"}).status_code == 422
    db.expire_all()
    assert not is_suppressed(db, "ada@client.example")


def test_a_test_sends_link_names_nobody_and_changes_nothing(
    client: Client, app: Litestar, db: Session, contact: Contact
) -> None:
    from nurture.web.public.state import tracking_of

    token = tracking_of(app).signer.unsubscribe(0)
    page = client.get(f"/u/{token}", headers=HTML)
    assert page.status_code == 200
    assert "test e-mail" in page.text
    one_click = client.post(f"/u/{token}", content=b"List-Unsubscribe=One-Click", headers=ONE_CLICK)
    assert one_click.status_code == 200
    db.expire_all()
    assert not is_suppressed(db, "ada@client.example")
