"""The sequence list's Failed count and the steps' failed counts are one definition: a
person whose e-mail failed at a step, or whose enrolment the engine stopped there."""

from __future__ import annotations

import re

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from campaigns.sequences.conditions import effect_key
from campaigns.sequences.engine import Mailer
from campaigns.sequences.funnel import funnel
from campaigns.sequences.listing import failed_counts
from nurture.models import EmailMessage, EmailTemplate, MessageStatus, utcnow
from tests.email.conftest import make_template
from tests.factories import make_contact, make_user
from tests.sequences.helpers import drive, enrol, make_sequence, outcomes, reload
from tests.ui.helpers import HTML, Client, login
from tests.ui_failures.helpers import RENDER_ERROR


def _give_up(db: Session, message_id: int) -> None:
    """What the retry loop leaves when a deferred message runs out of attempts."""
    db.execute(
        update(EmailMessage)
        .where(EmailMessage.id == message_id)
        .values(status=MessageStatus.FAILED.value, last_error=RENDER_ERROR)
    )
    db.commit()


def _walk(db: Session, mailer: Mailer) -> tuple[int, int]:
    """Two people through [intro, outro]: the outro's template is gone, so both stop
    there; the first one's intro e-mail later fails for good."""
    intro = make_template(db, name="Intro")
    outro = make_template(db, name="Outro")
    sequence = make_sequence(
        db,
        [
            {"key": "intro", "type": "email", "template_id": intro},
            {"key": "outro", "type": "email", "template_id": outro},
        ],
    )
    db.execute(delete(EmailTemplate).where(EmailTemplate.id == outro))
    db.commit()
    now = utcnow()
    first, second = (enrol(db, sequence, make_contact(db).id, now) for _ in range(2))
    for enrolment in (first, second):
        drive(db, enrolment, now, mailer)
        assert reload(db, enrolment).state == "failed"
    _give_up(db, _message_of(db, first))
    return sequence, first


def _message_of(db: Session, enrolment_id: int) -> int:
    found = db.scalar(
        select(EmailMessage.id).where(
            EmailMessage.idempotency_key == effect_key(enrolment_id, "intro")
        )
    )
    assert found is not None
    return found


def test_the_steps_and_the_list_count_the_same_failures(db: Session, mailer: Mailer) -> None:
    sequence, first = _walk(db, mailer)
    assert outcomes(db, first)["intro"] == "sent"  # what the step saw when it ran

    steps = funnel(db, sequence)
    assert steps.step("intro").outcomes == {"failed": 1, "sent": 1}
    assert steps.step("outro").outcomes == {"failed": 2}
    assert failed_counts(db, [sequence]) == {sequence: 3}


def test_a_completed_enrolment_whose_mail_failed_counts_as_failed(
    db: Session, mailer: Mailer, template_id: int
) -> None:
    sequence = make_sequence(db, [{"key": "intro", "type": "email", "template_id": template_id}])
    enrolment = enrol(db, sequence, make_contact(db).id, utcnow())
    drive(db, enrolment, utcnow(), mailer)
    assert reload(db, enrolment).state == "completed"
    _give_up(db, _message_of(db, enrolment))

    assert funnel(db, sequence).step("intro").outcomes == {"failed": 1}
    assert failed_counts(db, [sequence]) == {sequence: 1}


def test_the_sequence_list_shows_the_failures(client: Client, db: Session, mailer: Mailer) -> None:
    sequence, _ = _walk(db, mailer)
    user = make_user(db)
    db.commit()
    login(client, user)

    page = client.get("/sequences", headers=HTML).text
    cell = re.search(r'<td data-label="Failed" class="num" data-count="failed">(.*?)</td>', page)
    assert cell
    assert f'href="/sequences/{sequence}#steps-title">3</a>' in cell.group(1)
