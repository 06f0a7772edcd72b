"""The web1 migration creates exactly the registrations table the model describes."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from nurture.db import get_engine
from nurture.models import Base


def test_migrated_registrations_table_matches_the_model(db_url: str) -> None:
    with get_engine(db_url).connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    ours = [d for d in differences if "webinar_registrations" in repr(d)]
    assert ours == []
