"""What one entrance accepts, another can name: the shared shape rules of nurture.validation."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from nurture.contacts import check_contact_input
from nurture.errors import InvalidInput
from nurture.events import ItemRejected, parse_item
from nurture.validation import MAX_ID, decode_cursor, encode_cursor, parse_id
from segments.schema import parse_rule

# Mostly the characters keys are made of, plus the ones that slip past a `$` anchor.
KEY_TEXT = st.text(
    alphabet=st.sampled_from("abcxyzAZ_09.-\n\r\t \x00é"), min_size=0, max_size=70
) | st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,63}\n?", fullmatch=True)
EVENT_TEXT = st.text(alphabet=st.sampled_from("abz09._-\nA "), min_size=0, max_size=110) | (
    st.from_regex(r"[a-z0-9._-]{1,100}\n?", fullmatch=True)
)


def _api_accepts_attribute(db: Session, key: str) -> bool:
    try:
        check_contact_input(db, {"attributes": {key: "x"}}, partial=True)
    except InvalidInput:
        return False
    return True


def _segment_names_attribute(key: str) -> bool:
    rule = {"version": 1, "rule": {"field": f"attributes.{key}", "op": "is_set"}}
    try:
        parse_rule(rule)
    except InvalidInput:
        return False
    return True


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=KEY_TEXT)
def test_every_attribute_key_the_api_stores_can_be_named_in_a_segment_rule(
    db: Session, key: str
) -> None:
    assert _api_accepts_attribute(db, key) == _segment_names_attribute(key)


def test_a_key_with_a_trailing_newline_is_refused_by_both() -> None:
    assert not _segment_names_attribute("plan\n")


def test_a_key_with_a_trailing_newline_is_refused_by_the_api(db: Session) -> None:
    assert not _api_accepts_attribute(db, "plan\n")
    assert _api_accepts_attribute(db, "plan")


@settings(max_examples=300)
@given(kind=EVENT_TEXT)
def test_every_event_type_the_api_stores_can_be_named_in_a_segment_rule(kind: str) -> None:
    try:
        parse_item({"type": kind, "email": "lead@firm.example"}, 0)
        stored = True
    except ItemRejected:
        stored = False
    try:
        parse_rule({"version": 1, "rule": {"event": kind, "op": "at_least", "times": 1}})
        named = True
    except InvalidInput:
        named = False
    assert stored == named


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1),
        ("42", 42),
        (str(MAX_ID), MAX_ID),
        (str(MAX_ID + 1), None),
        ("0", None),
        ("²", None),  # a digit to str.isdigit(), not to int()
        ("٣", None),  # an Arabic-Indic digit: int() takes it, an id field must not
        ("-1", None),
        (" 1", None),
        ("1\n", None),
        ("", None),
        ("9" * 30, None),
    ],
)
def test_ids_are_ascii_digits_within_the_database_range(text: str, expected: int | None) -> None:
    assert parse_id(text) == expected


def test_a_cursor_reads_back_what_it_wrote_and_names_its_field_when_forged() -> None:
    assert decode_cursor(encode_cursor({"id": 7}), "id") == 7
    with pytest.raises(InvalidInput) as caught:
        decode_cursor("not-a-cursor!", "id", field="after")
    assert [p.field for p in caught.value.problems] == ["after"]
