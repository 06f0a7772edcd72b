"""Dependencies shared by handlers: a database session per request, the caller."""

from __future__ import annotations

from collections.abc import Iterator

from litestar import Request
from litestar.di import Provide
from sqlalchemy.orm import Session

from nurture.db import session_factory
from nurture.web.auth import current_principal
from nurture.web.state import settings_of


def provide_db(request: Request) -> Iterator[Session]:  # type: ignore[type-arg]
    """A session per request: committed when the handler returns, rolled back if it raises."""
    session = session_factory(settings_of(request.app).database_url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


DEPENDENCIES = {
    "db": Provide(provide_db),
    "principal": Provide(current_principal, sync_to_thread=False),
}
