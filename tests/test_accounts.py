"""Account rules that hold whichever page or command asks."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from nurture import accounts
from nurture.errors import Conflict
from tests.factories import make_user


def test_last_active_admin_cannot_be_deactivated(db: Session) -> None:
    admin = make_user(db, role="admin")
    with pytest.raises(Conflict, match="last active admin"):
        accounts.set_user_active(db, user_id=admin.id, active=False, actor="cli")
    second = make_user(db, role="admin")
    accounts.set_user_active(db, user_id=admin.id, active=False, actor=f"user:{second.id}")
    assert admin.is_active is False


def test_nobody_can_deactivate_themselves(db: Session) -> None:
    make_user(db, role="admin")
    me = make_user(db, role="admin")
    with pytest.raises(Conflict, match="your own account"):
        accounts.set_user_active(db, user_id=me.id, active=False, actor=f"user:{me.id}")


def test_api_key_is_verified_only_with_its_secret(db: Session) -> None:
    key, plaintext = accounts.create_api_key(db, name="CRM", actor="cli")
    assert accounts.verify_api_key(db, plaintext) == key
    assert (
        accounts.verify_api_key(db, plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B")) is None
    )
    accounts.revoke_api_key(db, key_id=key.id, actor="cli")
    assert accounts.verify_api_key(db, plaintext) is None


def test_wrong_password_and_unknown_email_both_fail(db: Session) -> None:
    user = make_user(db, role="sales")
    assert (
        accounts.authenticate(db, email=user.email.upper(), password="correct horse battery")
        == user
    )
    assert accounts.authenticate(db, email=user.email, password="wrong password!") is None
    assert accounts.authenticate(db, email="nobody@nurture.test", password="x" * 12) is None
