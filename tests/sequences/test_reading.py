"""What the sequence pages read, asked without HTTP: the list, where live people are,
the versions left to map, what the builder offers and who a list enrolment took."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from campaigns.content import library
from campaigns.content.kinds import SERVICES
from campaigns.email.store import archive_template
from campaigns.sequences import catalogue, changes, enrol_lists, listing, mapping, versions
from nurture.contacts.erasure import erase_contact
from nurture.errors import NotFound
from nurture.models import Contact, Enrolment, EnrolmentState, Sequence, utcnow
from segments.store import create_segment
from tests.email.conftest import make_template
from tests.factories import make_contact
from tests.sequences.helpers import enrol, make_sequence


def wait(key: str) -> dict[str, Any]:
    return {"key": key, "type": "wait", "duration": {"days": 3}}


def test_the_sequence_list_puts_the_latest_change_first_with_current_versions(
    db: Session,
) -> None:
    first = make_sequence(db, [wait("a")])
    second = make_sequence(db, [wait("a")])
    third = make_sequence(db, [wait("a")])
    versions.edit_sequence(db, first, steps_definition={"steps": [wait("b")]})
    now = utcnow()
    for offset, sequence_id in enumerate([second, third, first]):
        db.execute(
            update(Sequence)
            .where(Sequence.id == sequence_id)
            .values(updated_at=now + timedelta(minutes=offset))
        )
    db.commit()

    page, total = listing.sequence_page(db, offset=0, limit=2)
    rest, _ = listing.sequence_page(db, offset=2, limit=2)

    assert total == 3
    assert [(row.sequence.id, row.version) for row in page] == [(first, 2), (third, 1)]
    assert [row.sequence.id for row in rest] == [second]


def test_live_people_are_counted_by_step_of_one_version(db: Session) -> None:
    start = utcnow()
    sequence = make_sequence(db, [wait("a"), wait("b")])
    v1 = versions.get_sequence(db, sequence).current_version_id
    assert v1 is not None
    at_a = [enrol(db, sequence, make_contact(db).id, start) for _ in range(3)]
    db.execute(update(Enrolment).where(Enrolment.id == at_a[0]).values(step_key="b"))
    db.execute(
        update(Enrolment)
        .where(Enrolment.id == at_a[1])
        .values(state=EnrolmentState.COMPLETED.value, step_key=None)
    )
    v2 = versions.edit_sequence(db, sequence, steps_definition={"steps": [wait("a")]}).id
    enrol(db, sequence, make_contact(db).id, start)  # joins v2
    db.commit()

    assert listing.live_by_step(db, sequence_id=sequence, version_id=v1) == {"a": 1, "b": 1}
    assert listing.live_by_step(db, sequence_id=sequence, version_id=v2) == {"a": 1}


def test_only_older_versions_with_live_people_can_be_mapped(db: Session) -> None:
    start = utcnow()
    sequence = make_sequence(db, [wait("a")])
    on_v1 = enrol(db, sequence, make_contact(db).id, start)
    v2 = versions.edit_sequence(db, sequence, steps_definition={"steps": [wait("b")]})
    enrol(db, sequence, make_contact(db).id, start)
    versions.edit_sequence(db, sequence, steps_definition={"steps": [wait("c")]})
    db.commit()

    older = mapping.mappable_versions(db, sequence_id=sequence)
    assert [(info.version.number, info.live) for info in older] == [(2, 1), (1, 1)]

    changes.stop_enrolment(db, sequence, on_v1, actor="user:1", now=start)
    db.commit()
    older = mapping.mappable_versions(db, sequence_id=sequence)
    assert [info.version.id for info in older] == [v2.id]


def test_a_version_is_found_by_id_or_named_missing(db: Session) -> None:
    sequence = make_sequence(db, [wait("a")])
    version_id = versions.get_sequence(db, sequence).current_version_id
    assert version_id is not None

    assert versions.get_version(db, version_id=version_id).sequence_id == sequence
    with pytest.raises(NotFound):
        versions.get_version(db, version_id=version_id + 1000)


def test_the_builder_offers_live_templates_and_every_segment_and_service_by_name(
    db: Session,
) -> None:
    kept = make_template(db, name="Welcome")
    archived = make_template(db, name="Old news")
    archive_template(db, archived, actor="test")
    create_segment(db, name="Zeta list", kind="static")
    create_segment(db, name="Alpha list", kind="static")
    library.create(db, SERVICES, actor="test", data={"slug": "audit", "name": "Security audit"})
    library.create(db, SERVICES, actor="test", data={"slug": "cloud", "name": "Cloud move"})
    db.commit()

    offered = catalogue.choices(db)

    assert [(t.key, t.name) for t in offered.templates] == [(kept, "Welcome")]
    assert [s.name for s in offered.segments] == ["Alpha list", "Zeta list"]
    assert [(s.key, s.name) for s in offered.services] == [
        ("cloud", "Cloud move"),
        ("audit", "Security audit"),
    ]
    # An older step may still name an archived template: its name stays known.
    assert catalogue.template_names(db) == {kept: "Welcome", archived: "Old news"}


def test_sample_contacts_are_the_newest_with_an_address(db: Session) -> None:
    older = make_contact(db, first_name="Ada", last_name="Lovelace")
    erased = make_contact(db)
    no_address = make_contact(db)
    newest = make_contact(db, first_name="Grace", last_name=None)
    erase_contact(db, erased.id, actor="test")
    # No form makes a contact without an address; older rows may have none.
    db.execute(update(Contact).where(Contact.id == no_address.id).values(email=None))
    db.commit()

    samples = catalogue.sample_contacts(db, limit=2)
    assert [(c.id, c.first_name, c.last_name) for c in samples] == [
        (newest.id, "Grace", None),
        (older.id, "Ada", "Lovelace"),
    ]
    assert samples[1].email == older.email


def test_a_list_enrolment_reports_addresses_by_contact(db: Session) -> None:
    ada = make_contact(db)
    erased = make_contact(db)
    erase_contact(db, erased.id, actor="test")
    db.commit()

    found = enrol_lists.addresses(db, contact_ids=[ada.id, erased.id, ada.id, 999_999])

    assert found == {ada.id: ada.email, erased.id: None}
    assert enrol_lists.addresses(db, contact_ids=[]) == {}
