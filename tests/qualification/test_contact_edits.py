"""An edited contact's grade, score and qualification follow the edit at once, through the
API and the contact page, instead of waiting for the daily rescore."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.orm import Session

from nurture.models import Contact, HandoffState
from nurture.scoring import store
from tests.factories import make_api_key, make_user
from tests.qualification.helpers import enable, events, handoffs, lead, rep
from tests.scoring.helpers import fit_rule
from tests.ui.helpers import login, post_form

PARTNER = {"field": "title", "op": "contains", "value": "partner"}
# Qualified on fit alone: grade B or better, not a customer.
FIT_ONLY = {
    "version": 1,
    "rule": {"all": [{"field": "fit_grade", "op": "at_least", "value": "B"}]},
}


def _set_up(db: Session) -> Contact:
    store.update_settings(db, {"grade_a": 40, "grade_b": 25, "grade_c": 10}, actor="test")
    fit_rule(db, PARTNER, 30)
    enable(db, mql_rule=FIT_ONLY, fallback_owner_id=rep(db).id)
    contact = lead(db, score=0, grade="D", title="Associate")
    db.commit()
    return contact


def test_an_api_edit_regrades_and_qualifies_the_contact(
    client: TestClient[Litestar], db: Session
) -> None:
    contact = _set_up(db)
    _, secret = make_api_key(db, role="marketer")
    db.commit()

    answer = client.patch(
        f"/api/v1/contacts/{contact.id}",
        headers={"Authorization": f"Bearer {secret}"},
        json={"title": "Senior Partner"},
    )

    assert answer.status_code == 200, answer.text
    db.expire_all()
    stored = db.get(Contact, contact.id)
    assert stored is not None
    assert (stored.fit_grade, stored.lifecycle_stage) == ("B", "mql")
    [handoff] = handoffs(db, contact.id)
    assert handoff.state == HandoffState.PENDING.value
    assert len(events(db, "lead.qualified")) == 1


def test_a_page_edit_regrades_the_contact(client: TestClient[Litestar], db: Session) -> None:
    contact = _set_up(db)
    editor = make_user(db, role="marketer")
    db.commit()
    login(client, editor)

    answer = post_form(
        client,
        f"/contacts/{contact.id}/edit",
        {"email": contact.email or "", "title": "Partner", "lifecycle_stage": "lead"},
    )

    assert answer.status_code == 303, answer.text
    db.expire_all()
    stored = db.get(Contact, contact.id)
    assert stored is not None
    assert stored.fit_grade == "B"
    assert len(handoffs(db, contact.id)) == 1


def test_an_edit_that_changes_no_rule_input_qualifies_nobody(
    client: TestClient[Litestar], db: Session
) -> None:
    contact = _set_up(db)
    _, secret = make_api_key(db, role="marketer")
    db.commit()

    answer = client.patch(
        f"/api/v1/contacts/{contact.id}",
        headers={"Authorization": f"Bearer {secret}"},
        json={"first_name": "Ann"},
    )

    assert answer.status_code == 200, answer.text
    db.expire_all()
    stored = db.get(Contact, contact.id)
    assert stored is not None
    assert (stored.fit_grade, stored.lifecycle_stage) == ("D", "lead")
    assert handoffs(db, contact.id) == []
