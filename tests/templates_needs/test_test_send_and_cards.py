"""A test send fills what the template needs with labelled samples and says so; starter
cards say which starters no feature can send yet; a render failure on a real send is
final, with its reason."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.orm import Session

from campaigns.delivery.factory import transport_for
from campaigns.email import pipeline, retry
from campaigns.email.mailconfig import MailConfig
from campaigns.email.store import VariantInput, create_template
from nurture.config import Settings
from nurture.models import Contact, EmailMessage, MessageStatus
from tests.email.smtpd import Behaviour
from tests.ui.helpers import HTML, post_form
from tests.web_email.editor_forms import sign_in

Client = TestClient[Litestar]


def test_a_test_send_of_the_nps_starter_arrives_filled_with_named_samples(
    client: Client, db: Session, starters: dict[str, int], contact: Contact, behaviour: Behaviour
) -> None:
    sign_in(client, db, "marketer", "me@firm.example")
    answer = post_form(client, f"/content/{starters['nps']}/test-send", {"contact_id": contact.id})
    assert answer.status_code == 200, answer.text
    assert "Sent to me@firm.example" in answer.text
    assert "Filled with samples: the eleven survey links, the project&#39;s name" in answer.text
    assert [r.rcpt_tos for r in behaviour.received] == [["me@firm.example"]]


def test_a_test_send_names_only_what_it_filled(
    client: Client, db: Session, starters: dict[str, int], contact: Contact
) -> None:
    sign_in(client, db, "marketer", "me@firm.example")
    # The referral thank-you gets its referral from the feature; a test has none: filled.
    answer = post_form(
        client, f"/content/{starters['referral_thanks']}/test-send", {"contact_id": contact.id}
    )
    assert "Filled with samples: the referred colleague, the referral link" in answer.text
    plain = post_form(client, f"/content/{_plainest(db)}/test-send", {"contact_id": contact.id})
    assert "Sent to" in plain.text
    assert "Filled with samples" not in plain.text


def _plainest(db: Session) -> int:
    """A template needing only what every send gives."""
    body = (
        "<mjml><mj-body><mj-section><mj-column><mj-text>Hi {{ contact.first_name }}"
        '</mj-text><mj-text><a href="{{ unsubscribe_url }}">Unsubscribe</a></mj-text>'
        "</mj-column></mj-section></mj-body></mjml>"
    )
    made = create_template(
        db,
        name="Plain",
        topic="newsletters",
        actor="test",
        variants={"en": VariantInput("Hi", body, "")},
    )
    db.commit()
    return made.id


def test_starter_cards_say_which_starter_comes_from_a_feature_not_built_yet(
    client: Client, db: Session
) -> None:
    sign_in(client, db, "marketer")
    page = client.get("/content", headers=HTML).text
    educational = page[page.index('data-starter="educational"') :]
    educational = educational[: educational.index("</li>")]
    assert "it needs the article, which comes from a feature not built yet" in educational
    nps = page[page.index('data-starter="nps"') :]
    nps = nps[: nps.index("</li>")]
    assert "sent by a review e-mail step asking for an NPS score" in nps
    assert "not built yet" not in nps


def test_a_render_failure_on_a_real_send_is_final_with_its_reason(
    db: Session, settings: Settings, starters: dict[str, int], contact: Contact
) -> None:
    transport = transport_for(settings)
    message = pipeline.send_to_contact(
        db,
        starters["nps"],
        contact.id,
        idempotency_key="real:nps",
        transport=transport,
        config=MailConfig.from_settings(settings),
    )
    assert message.status == MessageStatus.FAILED.value
    assert message.last_error is not None
    assert message.last_error.startswith("the template could not be filled: ")
    assert "'project' is undefined" in message.last_error
    assert message.next_attempt_at is None
    assert retry.retry_due(db, transport=transport) == []
    db.expire_all()
    again = db.get(EmailMessage, message.id)
    assert again is not None
    assert again.status == MessageStatus.FAILED.value
    assert again.attempts == 1
