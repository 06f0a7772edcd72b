"""`nurture users ...` and `nurture apikeys ...`."""

from __future__ import annotations

import click
from sqlalchemy import select

from nurture import accounts
from nurture.cli.root import load_settings, main
from nurture.db import session_scope
from nurture.errors import DomainError
from nurture.models import ApiKey, Role, User

ROLES = click.Choice([r.value for r in Role])


@main.group()
def users() -> None:
    """People who log in to the web UI."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--role", type=ROLES, required=True)
@click.option("--name", default="")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    envvar="NURTURE_NEW_PASSWORD",
    help="Prompted for when not given (or set NURTURE_NEW_PASSWORD).",
)
def create_user(email: str, role: str, name: str, password: str) -> None:
    """Create a user."""
    try:
        with session_scope(load_settings().database_url) as session:
            user = accounts.create_user(
                session, email=email, password=password, role=role, name=name, actor="cli"
            )
            click.echo(f"created {user.role} {user.email} (id {user.id})")
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None


@users.command("list")
def list_users() -> None:
    """List users."""
    with session_scope(load_settings().database_url) as session:
        for user in session.scalars(select(User).order_by(User.id)):
            state = "" if user.is_active else "  (deactivated)"
            click.echo(f"{user.id:>5}  {user.role:<9} {user.email}{state}")


@main.group()
def apikeys() -> None:
    """API keys for integrations (CRM, webinar and project tools)."""


@apikeys.command("create")
@click.option("--name", required=True, help="What the key is for, e.g. 'HubSpot sync'.")
@click.option("--role", type=ROLES, default=Role.MARKETER.value, show_default=True)
def create_key(name: str, role: str) -> None:
    """Create a key and print it once; only a hash is stored."""
    try:
        with session_scope(load_settings().database_url) as session:
            key, plaintext = accounts.create_api_key(session, name=name, role=role, actor="cli")
            click.echo(
                f"API key {key.id} ({key.name}, role {key.role}); "
                "store it now, it is not shown again:"
            )
            click.echo(plaintext)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None


@apikeys.command("list")
def list_keys() -> None:
    """List keys (never their secrets)."""
    with session_scope(load_settings().database_url) as session:
        for key in session.scalars(select(ApiKey).order_by(ApiKey.id)):
            state = "revoked" if key.revoked_at else "active"
            used = key.last_used_at.isoformat(timespec="minutes") if key.last_used_at else "never"
            click.echo(f"{key.id:>5}  {state:<8} {key.role:<9} last used {used:<17} {key.name}")


@apikeys.command("revoke")
@click.argument("key_id", type=int)
def revoke_key(key_id: int) -> None:
    """Revoke a key; it stops working within 30 seconds."""
    try:
        with session_scope(load_settings().database_url) as session:
            accounts.revoke_api_key(session, key_id=key_id, actor="cli")
            click.echo(f"revoked API key {key_id}")
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
