"""Static lists: manual add and remove, CSV import with unknown e-mails reported by line."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from nurture.errors import Conflict, InvalidInput
from segments import lists, store
from tests.factories import make_contact
from tests.segments.helpers import NOW, member_ids, rule, segment_events


def test_added_contacts_enter_the_list_once(db: Session) -> None:
    alice = make_contact(db)
    list_id = store.create_segment(db, name="VIP", kind="static").id

    first = lists.add_members(db, list_id, [alice.id], now=NOW)
    second = lists.add_members(db, list_id, [alice.id], now=NOW)

    assert (first.entered, second.entered) == ([alice.id], [])
    assert segment_events(db, "segment.entered", list_id) == [alice.id]


def test_removed_contacts_leave_the_list_once(db: Session) -> None:
    alice = make_contact(db)
    list_id = store.create_segment(db, name="VIP", kind="static").id
    lists.add_members(db, list_id, [alice.id], now=NOW)

    first = lists.remove_members(db, list_id, [alice.id], now=NOW)
    second = lists.remove_members(db, list_id, [alice.id], now=NOW)

    assert (first.exited, second.exited) == ([alice.id], [])
    assert member_ids(db, list_id) == set()
    assert segment_events(db, "segment.exited", list_id) == [alice.id]


def test_adding_an_unknown_contact_names_its_index_and_adds_nothing(db: Session) -> None:
    alice = make_contact(db)
    list_id = store.create_segment(db, name="VIP", kind="static").id

    with pytest.raises(InvalidInput) as caught:
        lists.add_members(db, list_id, [alice.id, 987654])

    assert (caught.value.problems[0].field, caught.value.problems[0].index) == ("contact_ids", 1)
    assert member_ids(db, list_id) == set()


def test_a_dynamic_segment_cannot_be_edited_by_hand(db: Session) -> None:
    alice = make_contact(db)
    segment_id = store.create_segment(db, name="All", rule=rule({"all": []})).id
    with pytest.raises(Conflict, match="dynamic"):
        lists.add_members(db, segment_id, [alice.id])


def test_csv_import_adds_known_addresses_and_reports_the_rest_by_line(db: Session) -> None:
    alice = make_contact(db, email="alice@law.example")
    bob = make_contact(db, email="bob@law.example")
    list_id = store.create_segment(db, name="Webinar guests", kind="static").id
    lists.add_members(db, list_id, [bob.id], now=NOW)
    csv_text = (
        "Name,Email\n"
        "Alice, ALICE@law.example \n"
        "Bob,bob@law.example\n"
        "Carol,carol@nowhere.example\n"
        "\n"
        "Dan,not-an-address\n"
    )

    result = lists.import_csv(db, list_id, csv_text, now=NOW)

    assert result.added == [alice.id]
    assert result.already_members == 1
    assert result.unknown == [(4, "carol@nowhere.example")]
    assert [line for line, _ in result.invalid] == [6]
    assert member_ids(db, list_id) == {alice.id, bob.id}


def test_csv_without_header_reads_the_first_column(db: Session) -> None:
    alice = make_contact(db, email="alice@law.example")
    list_id = store.create_segment(db, name="Guests", kind="static").id

    result = lists.import_csv(db, list_id, "alice@law.example,x\nzed@law.example,y\n", now=NOW)

    assert result.added == [alice.id]
    assert result.unknown == [(2, "zed@law.example")]


def test_csv_import_reports_a_broken_quote_by_line_and_reads_every_line_after_it(
    db: Session,
) -> None:
    people = [make_contact(db, email=f"{name}@law.example") for name in ("ann", "cyd", "dee")]
    list_id = store.create_segment(db, name="Guests", kind="static").id
    csv_text = (
        "Name,Email\n"
        "Ann,ann@law.example\n"
        '"Bob,bob@law.example\n'
        "Cyd,cyd@law.example\n"
        "Dee,dee@law.example\n"
        "Eve,eve@law.example\n"
    )

    result = lists.import_csv(db, list_id, csv_text, now=NOW)

    assert sorted(result.added) == sorted(p.id for p in people)
    assert [line for line, _ in result.invalid] == [3]
    assert "quote" in result.invalid[0][1]
    assert result.unknown == [(6, "eve@law.example")]
    # Every data line is accounted for: added, unknown or invalid.
    assert len(result.added) + len(result.unknown) + len(result.invalid) == 5


def test_rules_can_use_a_static_list(db: Session) -> None:
    alice = make_contact(db)
    make_contact(db)
    list_id = store.create_segment(db, name="Guests", kind="static").id
    lists.add_members(db, list_id, [alice.id], now=NOW)

    preview = store.preview(db, rule({"segment": list_id, "op": "member"}), now=NOW)

    assert (preview.count, [c.id for c in preview.contacts]) == (1, [alice.id])
