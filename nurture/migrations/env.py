"""Alembic environment: runs on the URL that nurture.migrate passes in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

import nurture.models  # noqa: F401  (registers every table on Base.metadata)
from nurture.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url")
if not url:
    raise RuntimeError("nurture.migrate sets sqlalchemy.url before running migrations")

if context.is_offline_mode():
    context.configure(
        url=url, target_metadata=Base.metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=Base.metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
    else:
        engine = create_engine(url, poolclass=pool.NullPool)
        with engine.connect() as conn:
            # render_as_batch: SQLite cannot ALTER most things; batch mode rebuilds tables.
            context.configure(connection=conn, target_metadata=Base.metadata, render_as_batch=True)
            with context.begin_transaction():
                context.run_migrations()
