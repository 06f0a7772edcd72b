"""The public testimonial form: edit, choose the signature, consent, approve; withdraw."""

from __future__ import annotations

from datetime import timedelta

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.orm import Session

from nurture.config import Settings
from nurture.models import Testimonial as Quote
from nurture.models import utcnow
from templates.render import signer_for
from templates.tokens import TokenSigner
from tests.reviews_web.helpers import HUMAN_AGENT, form_path, make_testimonial

Client = TestClient[Litestar]
HUMAN = {"accept": "text/html", "user-agent": HUMAN_AGENT}
QUOTE = "They found savings we had missed for years, and explained every one of them."
CONSENT_EN = (
    "I agree that {brand} may publish these words, signed as I chose above, on its website "
    "and in its marketing. I can withdraw this consent at any time."
)


@pytest.fixture
def signer(settings: Settings) -> TokenSigner:
    return signer_for(settings.secret_key)


def _stored(db: Session, testimonial_id: int) -> Quote:
    db.expire_all()
    found = db.get(Quote, testimonial_id)
    assert found is not None
    return found


def test_the_form_shows_the_draft_the_signatures_and_the_consent(
    db: Session, client: Client, signer: TokenSigner
) -> None:
    testimonial = make_testimonial(db)

    page = client.get(form_path(signer, testimonial), headers=HUMAN)

    assert page.status_code == 200
    assert "The audit found savings we had missed for years." in page.text
    assert "It will read: — Emma Lawson, Harbor Freight Logistics" in page.text
    assert "Name and company" in page.text
    assert "Job title only" in page.text
    assert "Anonymously" in page.text
    assert '<label for="pp-consent">' in page.text
    assert _stored(db, testimonial.id).status == "requested"


def test_approving_keeps_the_words_the_signature_and_the_consent_as_shown(
    db: Session, client: Client, signer: TokenSigner
) -> None:
    testimonial = make_testimonial(db)
    path = form_path(signer, testimonial)
    brand = client.get(path, headers=HUMAN).text.split('class="pp-brand-name">')[1].split("<")[0]

    sent = client.post(
        path,
        data={"quote": QUOTE, "attribution": "name_company", "consent": "yes"},
        headers=HUMAN,
        follow_redirects=False,
    )

    assert sent.status_code == 303
    assert sent.headers["location"] == f"{path}/thanks"
    stored = _stored(db, testimonial.id)
    assert stored.status == "approved"
    assert stored.quote == QUOTE
    assert stored.display_name == "Emma Lawson, Harbor Freight Logistics"
    assert stored.consent["wording"] == CONSENT_EN.format(brand=brand)
    assert stored.consent["locale"] == "en"
    thanks = client.get(sent.headers["location"], headers=HUMAN)
    assert "Thank you!" in thanks.text
    assert QUOTE in thanks.text
    assert f"{path}/withdraw" in thanks.text


def test_a_short_quote_and_no_consent_come_back_with_the_fields_named(
    db: Session, client: Client, signer: TokenSigner
) -> None:
    testimonial = make_testimonial(db)

    sent = client.post(
        form_path(signer, testimonial),
        data={"quote": "Too short", "attribution": "anonymous"},
        headers=HUMAN,
    )

    assert sent.status_code == 422
    assert "Your testimonial needs between 20 and 1000 characters." in sent.text
    assert "Please tick the box to agree" in sent.text
    assert ">Too short</textarea>" in sent.text
    assert 'value="anonymous" aria-describedby="pp-attr-anonymous-reads" checked' in sent.text
    assert _stored(db, testimonial.id).status == "requested"


def test_withdrawing_asks_first_and_then_removes_the_words(
    db: Session, client: Client, signer: TokenSigner
) -> None:
    testimonial = make_testimonial(db)
    path = form_path(signer, testimonial)
    client.post(path, data={"quote": QUOTE, "attribution": "anonymous", "consent": "yes"})

    ask = client.get(f"{path}/withdraw", headers=HUMAN)
    assert ask.status_code == 200
    assert "Yes, withdraw my consent" in ask.text
    assert _stored(db, testimonial.id).status == "approved"

    done = client.post(f"{path}/withdraw", headers=HUMAN, follow_redirects=False)
    assert done.status_code == 303
    stored = _stored(db, testimonial.id)
    assert (stored.status, stored.quote, stored.display_name) == ("withdrawn", "", None)
    page = client.get(done.headers["location"], headers=HUMAN)
    assert "Your consent is withdrawn" in page.text
    assert QUOTE not in page.text
    # Again: nothing more to withdraw, the same answer.
    again = client.post(f"{path}/withdraw", headers=HUMAN, follow_redirects=False)
    assert again.status_code == 303


def test_an_expired_link_still_shows_approved_words_and_withdraws_but_approves_nothing(
    db: Session, client: Client, signer: TokenSigner
) -> None:
    testimonial = make_testimonial(db)
    client.post(
        form_path(signer, testimonial),
        data={"quote": QUOTE, "attribution": "anonymous", "consent": "yes"},
    )
    assert testimonial.contact_id is not None
    old = signer.testimonial(
        testimonial.id, testimonial.contact_id, utcnow().date() - timedelta(days=1)
    )

    assert QUOTE in client.get(f"/testimonial/{old}", headers=HUMAN).text
    edit = client.post(
        f"/testimonial/{old}",
        data={"quote": QUOTE + " Again.", "attribution": "anonymous", "consent": "yes"},
    )
    assert edit.status_code == 400
    assert client.post(f"/testimonial/{old}/withdraw", follow_redirects=False).status_code == 303
    assert _stored(db, testimonial.id).status == "withdrawn"


def test_forged_and_wrong_purpose_links_are_refused(
    db: Session, client: Client, signer: TokenSigner
) -> None:
    testimonial = make_testimonial(db)
    assert testimonial.contact_id is not None
    survey_token = signer.survey(1, testimonial.contact_id, utcnow().date() + timedelta(days=5))
    foreign = signer.testimonial(
        testimonial.id, testimonial.contact_id + 1000, utcnow().date() + timedelta(days=5)
    )

    for token in (survey_token, foreign, "x" * 30):
        assert client.get(f"/testimonial/{token}", headers=HUMAN).status_code == 400
        post = client.post(
            f"/testimonial/{token}",
            data={"quote": QUOTE, "attribution": "anonymous", "consent": "yes"},
            headers=HUMAN,
        )
        assert post.status_code == 400
        assert "This link does not work" in post.text
        assert client.post(f"/testimonial/{token}/withdraw").status_code == 400
    assert _stored(db, testimonial.id).status == "requested"


def test_a_russian_client_reads_the_form_in_russian_and_consents_to_russian_words(
    db: Session, client: Client, signer: TokenSigner
) -> None:
    testimonial = make_testimonial(db, locale="ru")
    path = form_path(signer, testimonial)

    page = client.get(path, headers=HUMAN)
    client.post(path, data={"quote": QUOTE, "attribution": "title_only", "consent": "yes"})

    assert '<html lang="ru">' in page.text
    assert "Как вас подписать?" in page.text
    stored = _stored(db, testimonial.id)
    assert stored.consent["locale"] == "ru"
    assert stored.consent["wording"].startswith("Я согласен(на), что")
