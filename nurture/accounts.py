"""Users, passwords and API keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from nurture import audit
from nurture.contacts.addresses import normalise_email
from nurture.errors import Conflict, InvalidInput, NotFound
from nurture.models import ApiKey, Role, User, UserSession, utcnow

_hasher = PasswordHasher()
API_KEY_PREFIX = "nk_"
MIN_PASSWORD_LENGTH = 10
# Touch last_used_at at most this often, so authenticated requests stay read-only.
_LAST_USED_GRANULARITY = timedelta(minutes=5)
# A UI session ends this long after sign-in whatever happens, and earlier when unused this long.
SESSION_LIFETIME = timedelta(days=14)
SESSION_IDLE_TIMEOUT = timedelta(days=2)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def parse_role(value: str, field: str = "role") -> Role:
    try:
        return Role(value)
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise InvalidInput.single(field, f"must be one of {allowed}, got {value!r}") from None


def create_user(
    session: Session, *, email: str, password: str, role: str, name: str = "", actor: str
) -> User:
    try:
        address = normalise_email(email)
    except ValueError as exc:
        raise InvalidInput.single("email", str(exc)) from None
    checked_role = parse_role(role)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput.single(
            "password", f"must be at least {MIN_PASSWORD_LENGTH} characters long"
        )
    if session.scalar(select(User.id).where(User.email == address)) is not None:
        raise Conflict(f"a user with e-mail {address} already exists")
    user = User(
        email=address, name=name, role=checked_role.value, password_hash=hash_password(password)
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.created",
        entity_type="user",
        entity_id=user.id,
        changes={"email": address, "role": checked_role.value},
    )
    return user


def authenticate(session: Session, *, email: str, password: str) -> User | None:
    """The active user with these credentials, or None (same cost either way)."""
    try:
        address = normalise_email(email)
    except ValueError:
        address = ""
    user = session.scalar(select(User).where(User.email == address, User.is_active.is_(True)))
    if user is None:
        # Hash anyway so a wrong e-mail takes as long as a wrong password.
        verify_password(_dummy_hash(), password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return user


def set_user_active(session: Session, *, user_id: int, active: bool, actor: str) -> User:
    """(De)activate a user; the last active admin cannot be deactivated, nor can you yourself."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user", user_id)
    if not active and actor == f"user:{user_id}":
        raise Conflict("you cannot deactivate your own account")
    if not active and user.role == Role.ADMIN.value and user.is_active:
        admins = session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.role == Role.ADMIN.value, User.is_active.is_(True))
        )
        if (admins or 0) <= 1:
            raise Conflict("this is the last active admin; make someone else admin first")
    user.is_active = active
    if not active:
        _revoke_user_sessions(session, user_id)
    audit.record(
        session,
        actor=actor,
        action="user.activated" if active else "user.deactivated",
        entity_type="user",
        entity_id=user_id,
    )
    return user


def set_password(session: Session, *, user_id: int, password: str, actor: str) -> User:
    """A new password; every session of the user ends, the one that changed it included."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user", user_id)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput.single(
            "password", f"must be at least {MIN_PASSWORD_LENGTH} characters long"
        )
    user.password_hash = hash_password(password)
    _revoke_user_sessions(session, user_id)
    audit.record(
        session, actor=actor, action="user.password_changed", entity_type="user", entity_id=user_id
    )
    return user


def change_own_password(
    session: Session, *, user_id: int, current: str, new: str, actor: str
) -> User:
    """A user's own change: the current password must be right; every session ends."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user", user_id)
    if not verify_password(user.password_hash, current):
        raise InvalidInput.single("current_password", "is not your current password")
    if len(new) < MIN_PASSWORD_LENGTH:
        raise InvalidInput.single(
            "new_password", f"must be at least {MIN_PASSWORD_LENGTH} characters long"
        )
    if new == current:
        raise InvalidInput.single("new_password", "must differ from the current one")
    return set_password(session, user_id=user_id, password=new, actor=actor)


def start_session(session: Session, user: User) -> str:
    """A new UI session for `user`; returns the token for the cookie (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    # The user's ended sessions are kept until they would have expired, then swept here.
    session.execute(
        delete(UserSession).where(UserSession.user_id == user.id, UserSession.expires_at < now)
    )
    session.add(
        UserSession(
            id=session_id(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + SESSION_LIFETIME,
        )
    )
    session.flush()
    return token


def session_id(token: str) -> str:
    """The stored id of the session that `token` opens."""
    return _digest(token)


def session_user(session: Session, token: str) -> User | None:
    """The active user whose live session `token` opens, or None."""
    row = session.get(UserSession, session_id(token))
    now = utcnow()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    if now - row.last_seen_at > SESSION_IDLE_TIMEOUT:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    # Write at most every few minutes, so most authenticated requests stay read-only.
    if now - row.last_seen_at > _LAST_USED_GRANULARITY:
        row.last_seen_at = now
    return user


def end_session(session: Session, token: str) -> None:
    """Sign out one browser: its token opens nothing any more."""
    session.execute(
        update(UserSession)
        .where(UserSession.id == session_id(token), UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def sign_out_everywhere(session: Session, *, user_id: int, actor: str) -> int:
    """End every session of a user; returns how many were live."""
    if session.get(User, user_id) is None:
        raise NotFound("user", user_id)
    ended = _revoke_user_sessions(session, user_id)
    audit.record(
        session,
        actor=actor,
        action="user.signed_out_everywhere",
        entity_type="user",
        entity_id=user_id,
        changes={"sessions": ended},
    )
    return ended


def _revoke_user_sessions(session: Session, user_id: int) -> int:
    result = session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)


def create_api_key(
    session: Session,
    *,
    name: str,
    role: str = Role.MARKETER.value,
    created_by_id: int | None = None,
    actor: str,
) -> tuple[ApiKey, str]:
    """Store a new key and return it with its plaintext, which is never stored."""
    name = name.strip()
    if not name:
        raise InvalidInput.single("name", "is required")
    checked_role = parse_role(role)
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(
        name=name,
        prefix=prefix,
        secret_hash=_digest(secret),
        role=checked_role.value,
        created_by_id=created_by_id,
    )
    session.add(key)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="apikey.created",
        entity_type="apikey",
        entity_id=key.id,
        changes={"name": name, "role": checked_role.value},
    )
    return key, f"{API_KEY_PREFIX}{prefix}_{secret}"


def verify_api_key(session: Session, token: str) -> ApiKey | None:
    """The live key that `token` names, or None."""
    if not token.startswith(API_KEY_PREFIX):
        return None
    prefix, _, secret = token[len(API_KEY_PREFIX) :].partition("_")
    if not prefix or not secret:
        return None
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if key is None or key.revoked_at is not None:
        return None
    if not hmac.compare_digest(key.secret_hash, _digest(secret)):
        return None
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at > _LAST_USED_GRANULARITY:
        key.last_used_at = now
    return key


def revoke_api_key(session: Session, *, key_id: int, actor: str) -> ApiKey:
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFound("API key", key_id)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        audit.record(
            session, actor=actor, action="apikey.revoked", entity_type="apikey", entity_id=key_id
        )
    return key


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_hex(16))
