"""`column IN (values)` that keeps the same SQL text whatever the number of values.

On PostgreSQL the values travel as one array parameter, `column = ANY(:values)`:
the statement text stays constant, so psycopg and the server parse and plan it once
per connection instead of once per chunk (a 500-item IN list is 500 placeholders,
and converting that query costs more than running it). An array, not a subquery over
a JSON document: the planner sees the values as a constant it can hash or walk an
index with, whatever the table's statistics say (a `IN (SELECT jsonb_array_elements
...)` on a freshly filled table was planned as a nested loop, 170 ms for 500 ids).
SQLite gets a plain IN.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, String, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import QueryableAttribute, Session


def among(
    session: Session,
    column: ColumnElement[Any] | QueryableAttribute[Any],
    values: Collection[int] | Collection[str],
    *,
    integers: bool = False,
) -> ColumnElement[bool]:
    """A condition true where `column` holds one of `values`."""
    if session.get_bind().dialect.name != "postgresql":
        return column.in_(list(values))
    element = BigInteger() if integers else String()
    return column == any_(bindparam(None, list(values), type_=ARRAY(element)))
