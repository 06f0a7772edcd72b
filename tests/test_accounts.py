"""Account rules that hold whichever page or command asks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture import accounts
from nurture.errors import Conflict, InvalidInput
from nurture.models import AuditEntry, UserSession, utcnow
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


def test_a_session_token_opens_its_user_until_it_ends(db: Session) -> None:
    user = make_user(db)
    token = accounts.start_session(db, user)
    assert accounts.session_user(db, token) is user
    assert accounts.session_user(db, token + "x") is None
    row = db.get(UserSession, accounts.session_id(token))
    assert row is not None
    assert token not in row.id  # only a hash is kept
    accounts.end_session(db, token)
    db.expire_all()
    assert accounts.session_user(db, token) is None


def test_a_session_past_its_lifetime_opens_nothing(db: Session) -> None:
    user = make_user(db)
    token = accounts.start_session(db, user)
    row = db.get(UserSession, accounts.session_id(token))
    assert row is not None
    row.expires_at = utcnow() - timedelta(seconds=1)
    assert accounts.session_user(db, token) is None


def test_sign_out_everywhere_ends_only_that_users_sessions(db: Session) -> None:
    user, other = make_user(db), make_user(db)
    tokens = [accounts.start_session(db, user) for _ in range(2)]
    kept = accounts.start_session(db, other)
    assert accounts.sign_out_everywhere(db, user_id=user.id, actor="user:1") == 2
    db.expire_all()
    assert all(accounts.session_user(db, t) is None for t in tokens)
    assert accounts.session_user(db, kept) is not None
    actions = db.scalars(select(AuditEntry.action).where(AuditEntry.entity_id == str(user.id)))
    assert "user.signed_out_everywhere" in list(actions)


def test_deactivation_ends_the_users_sessions(db: Session) -> None:
    make_user(db, role="admin")
    user = make_user(db)
    token = accounts.start_session(db, user)
    accounts.set_user_active(db, user_id=user.id, active=False, actor="cli")
    accounts.set_user_active(db, user_id=user.id, active=True, actor="cli")
    db.expire_all()
    assert accounts.session_user(db, token) is None


def test_a_new_password_ends_sessions_and_must_be_long_enough(db: Session) -> None:
    user = make_user(db)
    token = accounts.start_session(db, user)
    with pytest.raises(InvalidInput, match="at least"):
        accounts.set_password(db, user_id=user.id, password="short", actor="cli")
    assert accounts.session_user(db, token) is user
    accounts.set_password(db, user_id=user.id, password="a long new password", actor="cli")
    db.expire_all()
    assert accounts.session_user(db, token) is None
    assert accounts.authenticate(db, email=user.email, password="a long new password") is user
