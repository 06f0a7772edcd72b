"""Enrolling from a CSV upload: every line enrols or is reported, also after a broken quote."""

from __future__ import annotations

from sqlalchemy.orm import Session

from campaigns.sequences.enrol_lists import enrol_csv
from nurture.models import utcnow
from tests.factories import make_contact
from tests.sequences.helpers import make_sequence


def test_a_broken_quote_skips_its_own_line_and_enrols_the_lines_after_it(
    db: Session, template_id: int
) -> None:
    sequence_id = make_sequence(db, [{"key": "hello", "type": "email", "template_id": template_id}])
    ann = make_contact(db, email="ann@firm.example")
    cid = make_contact(db, email="cid@firm.example")
    db.commit()
    text = 'email,note\nann@firm.example,x\n"bob@firm.example,oops\ncid@firm.example,y\n'

    result = enrol_csv(db, sequence_id, text, now=utcnow())

    assert sorted(result.enrolled) == sorted([ann.id, cid.id])
    assert [(s.line, s.reason.partition(":")[0]) for s in result.skipped] == [(3, "unreadable")]
