"""SQL pieces that differ between SQLite and PostgreSQL, as compile-time constructs.

The compiler builds one dialect-neutral expression; these elements render
themselves for the dialect that executes it, so the same rule gives the same
answer on both databases.
"""

from __future__ import annotations

import hashlib
import sqlite3
from typing import Any

from sqlalchemy import Boolean, Float, String, case, func, literal, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeEngine

_SQLITE_SHA256 = "nurture_sha256"
_SQLITE_TYPES = {
    "string": "('text')",
    "number": "('integer', 'real')",
    "boolean": "('true', 'false')",
}


class JsonValue(ColumnElement[Any]):
    """`column[key]` when the stored JSON value has type `kind`, else NULL.

    kind is "string", "number" or "boolean"; "present" gives a boolean: the key
    holds something other than JSON null. Guarding by type matters: a cast of
    "abc" to a number would abort the whole query on PostgreSQL.
    """

    inherit_cache = True
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("json_key", InternalTraversal.dp_string),
        ("kind", InternalTraversal.dp_string),
    ]

    def __init__(self, column: ColumnElement[Any], key: str, kind: str) -> None:
        self.column = column
        self.json_key = key
        self.kind = kind
        types: dict[str, TypeEngine[Any]] = {"number": Float(), "string": String()}
        self.type = types.get(kind, Boolean())


@compiles(JsonValue, "postgresql")
def _json_value_pg(element: JsonValue, compiler: SQLCompiler, **kw: Any) -> str:
    key = literal(element.json_key, String())
    node = element.column.op("->")(key)
    typeof = func.jsonb_typeof(node)
    as_text = element.column.op("->>", return_type=String())(key)
    expr: ColumnElement[Any]
    if element.kind == "present":
        expr = func.coalesce(typeof, "null") != "null"
    elif element.kind == "number":
        expr = case((typeof == "number", func.cast(as_text, Float())))
    elif element.kind == "string":
        expr = case((typeof == "string", as_text))
    else:
        expr = case((typeof == "boolean", as_text == "true"))
    return compiler.process(expr, **kw)


@compiles(JsonValue, "sqlite")
def _json_value_sqlite(element: JsonValue, compiler: SQLCompiler, **kw: Any) -> str:
    # Quoted, so a key is never read as a nested path.
    path = literal('$."' + element.json_key + '"', String())
    typeof = func.json_type(element.column, path)
    expr: ColumnElement[Any]
    if element.kind == "present":
        expr = func.coalesce(typeof, "null") != "null"
    elif element.kind == "boolean":
        expr = case((typeof.in_(["true", "false"]), typeof == "true"))
    else:
        types: ColumnElement[Any] = literal_column(_SQLITE_TYPES[element.kind])
        expr = case((typeof.op("IN")(types), func.json_extract(element.column, path)))
    return compiler.process(expr, **kw)


class EmailHash(ColumnElement[str]):
    """Hex SHA-256 of a (lower-cased) address column: how suppressions are keyed.

    PostgreSQL computes it natively; SQLite calls a function that
    `prepare_connection` registers on the connection.
    """

    inherit_cache = True
    type = String()
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]

    def __init__(self, column: ColumnElement[Any]) -> None:
        self.column = column


@compiles(EmailHash, "postgresql")
def _email_hash_pg(element: EmailHash, compiler: SQLCompiler, **kw: Any) -> str:
    digest = func.sha256(func.convert_to(element.column, "UTF8"))
    return compiler.process(func.encode(digest, "hex"), **kw)


@compiles(EmailHash, "sqlite")
def _email_hash_sqlite(element: EmailHash, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(getattr(func, _SQLITE_SHA256)(element.column), **kw)


def _sha256(value: str | None) -> str | None:
    return None if value is None else hashlib.sha256(value.encode()).hexdigest()


def prepare_connection(session: Session) -> None:
    """Make the session's connection able to run compiled rules (call before executing).

    Only SQLite needs anything: the SHA-256 function behind EmailHash. Cheap
    and idempotent, so every segment query runs it.
    """
    dbapi: Any = session.connection().connection.dbapi_connection
    if isinstance(dbapi, sqlite3.Connection):
        dbapi.create_function(_SQLITE_SHA256, 1, _sha256, deterministic=True)
