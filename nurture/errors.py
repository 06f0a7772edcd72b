"""Domain errors. The web layer maps them to HTTP answers in one place."""

from __future__ import annotations

from dataclasses import dataclass


class DomainError(Exception):
    """Base of every error a domain function raises on purpose."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the input: where (`field`, and `index` in a batch) and why."""

    field: str
    message: str
    index: int | None = None

    def describe(self) -> str:
        where = self.field if self.index is None else f"[{self.index}].{self.field}"
        return f"{where}: {self.message}"


class InvalidInput(DomainError):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(p.describe() for p in problems))

    @classmethod
    def single(cls, field: str, message: str, index: int | None = None) -> InvalidInput:
        return cls([Problem(field, message, index)])


class NotFound(DomainError):
    def __init__(self, entity: str, key: object) -> None:
        self.entity = entity
        self.key = key
        super().__init__(f"no {entity} with id {key}")


class Conflict(DomainError):
    """The request is valid but clashes with what is stored (a duplicate name, say)."""
