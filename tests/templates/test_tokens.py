"""Tokens are compact and refuse tampering, foreign keys, wrong purposes and garbage."""

from __future__ import annotations

from datetime import date

import pytest

from templates.tokens import (
    ClickRef,
    ReviewRef,
    TokenExpired,
    TokenForged,
    TokenMalformed,
    TokenSigner,
    TokenWrongPurpose,
    UnsubscribeRef,
)

SIGNER = TokenSigner("a" * 40)


def test_click_token_round_trips_and_is_url_safe() -> None:
    token = SIGNER.click(123_456_789, 7)
    assert SIGNER.verify_click(token) == ClickRef(123_456_789, 7)
    assert len(token) <= 40
    assert all(c.isalnum() or c in "-_" for c in token)


def test_unsubscribe_token_with_and_without_message() -> None:
    assert SIGNER.verify_unsubscribe(SIGNER.unsubscribe(5, 9)) == UnsubscribeRef(5, 9)
    assert SIGNER.verify_unsubscribe(SIGNER.unsubscribe(5)) == UnsubscribeRef(5, None)


def test_open_token_round_trips() -> None:
    assert SIGNER.verify_open(SIGNER.open(42)) == 42


def test_every_changed_character_is_refused() -> None:
    token = SIGNER.click(1000, 2)
    for position in range(len(token)):
        replacement = "A" if token[position] != "A" else "B"
        tampered = token[:position] + replacement + token[position + 1 :]
        with pytest.raises((TokenForged, TokenMalformed)):
            SIGNER.verify_click(tampered)


def test_token_signed_with_another_key_is_refused() -> None:
    foreign = TokenSigner("b" * 40).click(1000, 2)
    with pytest.raises(TokenForged):
        SIGNER.verify_click(foreign)


def test_token_cannot_serve_another_purpose() -> None:
    with pytest.raises(TokenWrongPurpose):
        SIGNER.verify_unsubscribe(SIGNER.click(5, 0))
    with pytest.raises(TokenWrongPurpose):
        SIGNER.verify_click(SIGNER.open(5))
    with pytest.raises(TokenWrongPurpose):
        SIGNER.verify_open(SIGNER.unsubscribe(5))


@pytest.mark.parametrize(
    "garbage", ["", "abc", "!" * 30, "A" * 200, "AQH" + "=" * 30, "AAAAAAAAAAAAAAAAAAAAAAAAAAAA"]
)
def test_malformed_tokens_are_refused(garbage: str) -> None:
    with pytest.raises((TokenMalformed, TokenForged)):
        SIGNER.verify_click(garbage)


def test_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        TokenSigner("short")


def test_survey_token_names_its_survey_and_contact_until_its_last_day() -> None:
    token = SIGNER.survey(31, 7, date(2027, 3, 1))
    assert SIGNER.verify_survey(token, today=date(2027, 3, 1)) == ReviewRef(31, 7, date(2027, 3, 1))
    with pytest.raises(TokenExpired):
        SIGNER.verify_survey(token, today=date(2027, 3, 2))


def test_survey_and_testimonial_tokens_do_not_stand_in_for_each_other() -> None:
    survey = SIGNER.survey(31, 7, date(2027, 3, 1))
    testimonial = SIGNER.testimonial(31, 7, date(2027, 3, 1))
    assert survey != testimonial
    with pytest.raises(TokenWrongPurpose):
        SIGNER.verify_testimonial(survey, today=date(2027, 1, 1))
    with pytest.raises(TokenWrongPurpose):
        SIGNER.verify_survey(testimonial, today=date(2027, 1, 1))
    with pytest.raises(TokenForged):
        TokenSigner("b" * 40).verify_survey(survey, today=date(2027, 1, 1))
