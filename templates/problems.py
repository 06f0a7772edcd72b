"""What can be wrong with a template, located by part and line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from nurture.errors import DomainError, InvalidInput, Problem

Part = Literal["subject", "preheader", "body", "text"]


@dataclass(frozen=True, slots=True)
class TemplateProblem:
    """One problem in one part of a template; `line` is 1-based in that part's source."""

    line: int | None
    message: str
    part: Part

    def describe(self) -> str:
        where = self.part if self.line is None else f"{self.part}, line {self.line}"
        return f"{where}: {self.message}"


class TemplateInvalid(InvalidInput):
    """A template cannot be saved or compiled; `template_problems` says where and why.

    It is an `InvalidInput`, so the web layer answers 4xx with one problem per entry
    (field = part, message starting with the line).
    """

    def __init__(self, problems: list[TemplateProblem]) -> None:
        self.template_problems = problems
        super().__init__(
            [
                Problem(p.part, p.message if p.line is None else f"line {p.line}: {p.message}")
                for p in problems
            ]
        )


class TemplateRenderError(DomainError):
    """Rendering failed for one recipient (an undefined value, a refused operation)."""

    def __init__(self, problem: TemplateProblem) -> None:
        self.problem = problem
        super().__init__(problem.describe())
