"""The click redirector and the open pixel, against mail that really went over SMTP."""

from __future__ import annotations

from datetime import timedelta

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.config import Settings
from nurture.models import Contact, EmailMessage, Event
from nurture.web.app import create_app
from nurture.web.public.state import tracking_of
from templates.tokens import TokenSigner
from tests.email.smtpd import Behaviour
from tests.web_email.conftest import Headers, wait_for_events
from tests.web_email.mail import click_tokens, html_of, last_mail, open_token, send

BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari"
Client = TestClient[Litestar]


def _sent_a_while_ago(db: Session, app: Litestar, message_id: int) -> None:
    # Clicks within seconds of delivery look like link scanners; a person reads later.
    message = db.get(EmailMessage, message_id, populate_existing=True)
    assert message is not None
    assert message.sent_at is not None
    message.sent_at -= timedelta(minutes=5)
    db.commit()
    tracking_of(app).messages.forget(message_id)


def _events(db: Session, kind: str) -> list[Event]:
    db.expire_all()
    return list(db.scalars(select(Event).where(Event.type == kind).order_by(Event.id)))


def test_click_redirects_to_the_stored_target_and_records_the_click(
    client: Client,
    app: Litestar,
    db: Session,
    template_id: int,
    contact: Contact,
    headers: Headers,
    behaviour: Behaviour,
) -> None:
    message_id = send(client, template_id, contact.id, headers)
    _sent_a_while_ago(db, app, message_id)
    tokens = click_tokens(last_mail(behaviour))
    assert len(tokens) == 2

    answers = [
        client.get(f"/t/c/{t}", headers={"user-agent": BROWSER}, follow_redirects=False)
        for t in tokens
    ]

    assert [a.status_code for a in answers] == [302, 302]
    assert [a.headers["location"] for a in answers] == [
        "https://example.net/guide?c=1",
        "https://example.net/webinar",
    ]
    assert "no-store" in answers[0].headers["cache-control"]
    wait_for_events(app)
    clicks = _events(db, "email.clicked")
    assert [(e.contact_id, e.properties["link_index"]) for e in clicks] == [
        (contact.id, 0),
        (contact.id, 1),
    ]
    assert clicks[0].properties["url"] == "https://example.net/guide?c=1"
    assert not clicks[0].properties.get("machine")
    assert all(e.source == "tracking" and e.idempotency_key for e in clicks)


def test_repeated_clicks_are_each_recorded(
    client: Client,
    app: Litestar,
    db: Session,
    template_id: int,
    contact: Contact,
    headers: Headers,
    behaviour: Behaviour,
) -> None:
    send(client, template_id, contact.id, headers)
    token = click_tokens(last_mail(behaviour))[0]
    for _ in range(3):
        assert client.get(f"/t/c/{token}", follow_redirects=False).status_code == 302
    wait_for_events(app)
    assert len(_events(db, "email.clicked")) == 3


def test_tampered_foreign_and_wrong_purpose_tokens_answer_400_and_redirect_nowhere(
    client: Client,
    app: Litestar,
    db: Session,
    template_id: int,
    contact: Contact,
    headers: Headers,
    behaviour: Behaviour,
) -> None:
    message_id = send(client, template_id, contact.id, headers)
    mail = last_mail(behaviour)
    good = click_tokens(mail)[0]
    flipped = good[:-3] + ("A" if good[-3] != "A" else "B") + good[-2:]
    foreign = TokenSigner("another-installation-secret-" + "y" * 20).click(message_id, 0)
    as_open = open_token(mail)
    bad = [flipped, foreign, "not-a-token", as_open, good + "x"]

    answers = [client.get(f"/t/c/{t}", follow_redirects=False) for t in bad]

    assert [a.status_code for a in answers] == [400, 400, 400, 400, 400]
    assert all("location" not in a.headers for a in answers)
    wait_for_events(app)
    assert _events(db, "email.clicked") == []


def test_a_genuine_token_for_an_unknown_link_answers_404(
    client: Client, app: Litestar, template_id: int, contact: Contact, headers: Headers
) -> None:
    message_id = send(client, template_id, contact.id, headers)
    signer = tracking_of(app).signer
    for token in (signer.click(message_id, 7), signer.click(message_id + 1000, 0)):
        answer = client.get(f"/t/c/{token}", follow_redirects=False)
        assert answer.status_code == 404
        assert "location" not in answer.headers


def test_open_pixel_is_an_uncacheable_gif_and_records_the_open(
    client: Client,
    app: Litestar,
    db: Session,
    template_id: int,
    contact: Contact,
    headers: Headers,
    behaviour: Behaviour,
) -> None:
    message_id = send(client, template_id, contact.id, headers)
    token = open_token(last_mail(behaviour))

    answer = client.get(f"/t/o/{token}", headers={"user-agent": BROWSER})

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/gif"
    assert answer.content.startswith(b"GIF89a")
    assert len(answer.content) < 64
    assert "no-store" in answer.headers["cache-control"]
    wait_for_events(app)
    opens = _events(db, "email.opened")
    assert [(e.contact_id, e.properties["message_id"]) for e in opens] == [(contact.id, message_id)]
    assert not opens[0].properties.get("machine")
    assert client.get(f"/t/o/{click_tokens(last_mail(behaviour))[0]}").status_code == 400


def test_machine_opens_and_clicks_are_flagged_and_kept_out_of_human_counts(
    client: Client,
    app: Litestar,
    db: Session,
    template_id: int,
    contact: Contact,
    headers: Headers,
    behaviour: Behaviour,
) -> None:
    message_id = send(client, template_id, contact.id, headers)
    mail = last_mail(behaviour)
    link, pixel = click_tokens(mail)[0], open_token(mail)
    # Straight after delivery: a scanner following every link.
    client.get(f"/t/c/{link}", headers={"user-agent": BROWSER}, follow_redirects=False)
    client.head(f"/t/c/{link}", headers={"user-agent": BROWSER})
    client.get(f"/t/c/{link}", headers={"user-agent": "Mimecast-LinkScanner/2.0"})
    client.get(f"/t/o/{pixel}", headers={"user-agent": "Mozilla/5.0"})  # Apple MPP proxy
    client.get(f"/t/o/{pixel}", headers={"user-agent": BROWSER})
    _sent_a_while_ago(db, app, message_id)
    client.get(f"/t/c/{link}", headers={"user-agent": BROWSER}, follow_redirects=False)
    wait_for_events(app)

    reasons = [e.properties.get("machine_reason") for e in _events(db, "email.clicked")]
    assert reasons == ["too_soon_after_delivery", "head_request", "scanner_agent", None]
    opened = [e.properties.get("machine_reason") for e in _events(db, "email.opened")]
    assert opened == ["apple_mpp", None]
    shown = client.get(f"/api/v1/messages/{message_id}", headers=headers).json()
    assert shown["clicks"] == {"human": 1, "machine": 3}
    assert shown["opens"] == {"human": 1, "machine": 1}


def test_tracking_is_off_for_templates_that_turn_it_off(
    client: Client, db: Session, contact: Contact, headers: Headers, behaviour: Behaviour
) -> None:
    from campaigns.email.store import VariantInput, create_template
    from tests.web_email.conftest import BODY

    template = create_template(
        db,
        name="Untracked",
        tracking=False,
        actor="test",
        variants={"en": VariantInput("Hi", BODY)},
    )
    db.commit()
    send(client, template.id, contact.id, headers)
    mail = last_mail(behaviour)
    assert click_tokens(mail) == []
    assert 'href="https://example.net/guide?c=1"' in html_of(mail)
    assert "/t/o/" not in html_of(mail)


def test_clicks_buffered_at_shutdown_are_written_before_the_app_stops(
    settings: Settings, db: Session, template_id: int, contact: Contact, headers: Headers
) -> None:
    app = create_app(settings)
    with TestClient(app) as client:
        message_id = send(client, template_id, contact.id, headers)
        token = tracking_of(app).signer.click(message_id, 1)
        # Never flushed by time: the batch interval is far longer than this test.
        tracking_of(app).recorder._interval = 3600
        answers = [client.get(f"/t/c/{token}", follow_redirects=False) for _ in range(25)]
        assert {a.status_code for a in answers} == {302}
    assert len(_events(db, "email.clicked")) == 25
