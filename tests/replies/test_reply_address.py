"""Reply addresses: signed, case-proof, and good for nothing but replies."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from campaigns.email.reply_address import message_of_address, reply_address
from nurture.config import Settings, SettingsError
from templates.tokens import TokenSigner

SECRET = "reply-secret-" + "z" * 40
DOMAIN = "replies.firm.example"


@pytest.mark.parametrize("message_id", [1, 127, 128, 2**31, 2**62])
def test_a_reply_address_names_its_message(message_id: int) -> None:
    address = reply_address(SECRET, DOMAIN, message_id)

    assert len(address.partition("@")[0]) <= 64  # the longest local part SMTP allows
    assert message_of_address(SECRET, address, DOMAIN) == message_id
    assert message_of_address(SECRET, f"<{address}>", DOMAIN) == message_id


def test_mail_systems_may_change_the_case_of_a_reply_address() -> None:
    address = reply_address(SECRET, DOMAIN, 42)

    assert message_of_address(SECRET, address.upper(), DOMAIN) == 42


def test_a_reply_address_at_another_domain_or_with_another_key_names_nothing() -> None:
    address = reply_address(SECRET, DOMAIN, 42)
    local = address.partition("@")[0]

    assert message_of_address(SECRET, f"{local}@elsewhere.example", DOMAIN) is None
    assert message_of_address("other-secret-" + "q" * 40, address, DOMAIN) is None


def test_a_changed_token_names_nothing() -> None:
    address = reply_address(SECRET, DOMAIN, 42)
    local, _, domain = address.partition("@")
    middle = len(local) // 2
    flipped = local[:middle] + ("a" if local[middle] != "a" else "b") + local[middle + 1 :]
    # The last character also carries unused bits; setting them makes no new address.
    padded = local[:-1] + chr(ord(local[-1]) + 1) if local[-1] not in "z7" else local

    assert message_of_address(SECRET, f"{flipped}@{domain}", DOMAIN) is None
    assert message_of_address(SECRET, f"reply+@{domain}", DOMAIN) is None
    if padded != local:
        assert message_of_address(SECRET, f"{padded}@{domain}", DOMAIN) is None
    assert message_of_address(SECRET, f"sales@{domain}", DOMAIN) is None


def test_an_open_token_of_the_same_message_is_no_reply_address() -> None:
    # The open pixel's token, written the way reply addresses are, must not verify.
    token = TokenSigner(SECRET).open(42)
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    local = "reply+" + base64.b32encode(raw).decode().rstrip("=").lower()

    assert message_of_address(SECRET, f"{local}@{DOMAIN}", DOMAIN) is None


def test_the_reply_domain_setting_is_checked_and_normalised(tmp_path: Path) -> None:
    env = {"NURTURE_DATA_DIR": str(tmp_path), "NURTURE_SECRET_KEY": SECRET}

    assert Settings.from_env(env).reply_domain is None
    shouted = {**env, "NURTURE_REPLY_DOMAIN": "Replies.Firm.Example."}
    assert Settings.from_env(shouted).reply_domain == DOMAIN
    with pytest.raises(SettingsError, match="NURTURE_REPLY_DOMAIN"):
        Settings.from_env({**env, "NURTURE_REPLY_DOMAIN": "not a domain"})
