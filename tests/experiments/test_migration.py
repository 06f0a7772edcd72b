"""The exp1 migration creates exactly the experiment and broadcast tables the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from nurture.db import get_engine
from nurture.models import Base

_OURS = ("experiment", "broadcast", "'overrides'")


def test_migrated_experiment_tables_match_the_models(db_url: str) -> None:
    with get_engine(db_url).connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    ours = [d for d in differences if any(name in repr(d) for name in _OURS)]
    assert ours == []
