"""The arithmetic scoring needs, rendered for each database.

Times become seconds since 1970 (`Epoch`), so decay and period buckets are plain
float arithmetic the same on SQLite and PostgreSQL; rounding is half away from
zero on both (PostgreSQL's round of a double would round half to even).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, Integer, Numeric, cast, func, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal


class Epoch(ColumnElement[float]):
    """Seconds since 1970-01-01 UTC of a UTCDateTime column."""

    inherit_cache = True
    type = Float()
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]

    def __init__(self, column: ColumnElement[Any]) -> None:
        self.column = column


@compiles(Epoch, "postgresql")
def _epoch_pg(element: Epoch, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(EXTRACT(EPOCH FROM {compiler.process(element.column, **kw)}) AS DOUBLE PRECISION)"


@compiles(Epoch, "sqlite")
def _epoch_sqlite(element: Epoch, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps naive UTC text; julianday counts days from 4714 BC noon.
    return f"((julianday({compiler.process(element.column, **kw)}) - 2440587.5) * 86400.0)"


class RoundInt(ColumnElement[int]):
    """A number rounded to the nearest integer, halves away from zero."""

    inherit_cache = True
    type = Integer()
    _traverse_internals = [("value", InternalTraversal.dp_clauseelement)]

    def __init__(self, value: ColumnElement[Any]) -> None:
        self.value = value


@compiles(RoundInt, "postgresql")
def _round_pg(element: RoundInt, compiler: SQLCompiler, **kw: Any) -> str:
    expr = cast(func.round(cast(element.value, Numeric())), Integer())
    return compiler.process(expr, **kw)


@compiles(RoundInt, "sqlite")
def _round_sqlite(element: RoundInt, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(cast(func.round(element.value), Integer()), **kw)


class FloorOf(ColumnElement[int]):
    """The largest integer not above a number; NULL stays NULL."""

    inherit_cache = True
    type = Integer()
    _traverse_internals = [("value", InternalTraversal.dp_clauseelement)]

    def __init__(self, value: ColumnElement[Any]) -> None:
        self.value = value


@compiles(FloorOf, "postgresql")
def _floor_pg(element: FloorOf, compiler: SQLCompiler, **kw: Any) -> str:
    return f"floor({compiler.process(element.value, **kw)})"


@compiles(FloorOf, "sqlite")
def _floor_sqlite(element: FloorOf, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLAlchemy replaces SQLite's floor() with Python's math.floor, which fails on
    # NULL and costs a call per row; truncation corrected for negatives does neither.
    value = compiler.process(element.value, **kw)
    return f"(CAST({value} AS INTEGER) - ({value} < CAST({value} AS INTEGER)))"


def floor_of(value: ColumnElement[Any]) -> ColumnElement[int]:
    return FloorOf(value)


def exp_of(value: ColumnElement[Any]) -> ColumnElement[float]:
    return func.exp(value, type_=Float())


def double(value: float) -> ColumnElement[float]:
    """A float constant written into the statement: the same SQL text for every run
    with the same settings, and no bind parameter type guessing."""
    return literal_column(repr(float(value)), Float())
