"""`column IN (values)` that keeps the same SQL text whatever the number of values.

On PostgreSQL the values travel as one JSON array parameter, expanded by the server:
the statement text stays constant, so psycopg and the server parse and plan it once
per connection instead of once per chunk (a 500-item IN list is 500 placeholders,
and converting that query costs more than running it). SQLite gets a plain IN.
"""

from __future__ import annotations

from collections.abc import Collection

import msgspec
from sqlalchemy import BigInteger, ColumnElement, String, cast, func, literal, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import InstrumentedAttribute, Session


def among(
    session: Session,
    column: InstrumentedAttribute[int] | InstrumentedAttribute[str],
    values: Collection[int] | Collection[str],
    *,
    integers: bool = False,
) -> ColumnElement[bool]:
    """A condition true where `column` holds one of `values`."""
    if session.get_bind().dialect.name != "postgresql":
        return column.in_(list(values))
    document = cast(literal(msgspec.json.encode(list(values)).decode(), String), JSONB)
    element = func.jsonb_array_elements_text(document)
    if integers:
        return column.in_(select(cast(element, BigInteger)))
    return column.in_(select(element))
