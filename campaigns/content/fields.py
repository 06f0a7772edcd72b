"""Reading one library item's fields from plain values (JSON or an HTML form).

Every problem is collected before anything is raised, so a caller sees all of
them at once, each naming its field. Form posts send text only, so numbers,
times and lists are also accepted as text ("50", "2026-12-01T10:00",
"a, b" or one `label: value` per line for metrics).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from nurture.errors import InvalidInput, Problem

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_TAGS = 30
MAX_TAG_LENGTH = 80
MAX_METRICS = 10
MAX_INT = 1_000_000


class FieldReader:
    """Cleans the fields it is asked for; `partial` (an update) skips absent ones."""

    def __init__(self, data: Mapping[str, Any], *, partial: bool) -> None:
        self._data = data
        self._partial = partial
        self.problems: list[Problem] = []
        self.values: dict[str, Any] = {}
        self._known: set[str] = set()

    def _raw(self, name: str, *, required: bool) -> tuple[bool, Any]:
        """(present, value); an absent optional field on create reads as None."""
        self._known.add(name)
        if name not in self._data:
            if self._partial:
                return False, None
            if required:
                self.problems.append(Problem(name, "is required"))
                return False, None
            return True, None
        value = self._data[name]
        if isinstance(value, str):
            value = value.strip()
            if value == "":
                value = None
        if value is None and required:
            self.problems.append(Problem(name, "is required"))
            return False, None
        return True, value

    def _fail(self, name: str, message: str) -> None:
        self.problems.append(Problem(name, message))

    def text(self, name: str, *, max_length: int, required: bool = False) -> None:
        present, value = self._raw(name, required=required)
        if not present:
            return
        if value is not None and not isinstance(value, str):
            return self._fail(name, "must be text")
        if value is not None and len(value) > max_length:
            return self._fail(name, f"must be at most {max_length} characters")
        self.values[name] = value

    def slug(self, name: str, *, max_length: int) -> None:
        present, value = self._raw(name, required=True)
        if not present:
            return
        if not isinstance(value, str) or not SLUG.match(value):
            return self._fail(name, "must be lower-case letters, digits and single hyphens")
        if len(value) > max_length:
            return self._fail(name, f"must be at most {max_length} characters")
        self.values[name] = value

    def tag(self, name: str, *, required: bool = False) -> None:
        """A lower-cased label such as an industry or a topic."""
        present, value = self._raw(name, required=required)
        if not present:
            return
        if value is not None and not isinstance(value, str):
            return self._fail(name, "must be text")
        if value is not None and len(value) > MAX_TAG_LENGTH:
            return self._fail(name, f"must be at most {MAX_TAG_LENGTH} characters")
        self.values[name] = None if value is None else value.lower()

    def url(self, name: str) -> None:
        present, value = self._raw(name, required=False)
        if not present:
            return
        if value is not None and (
            not isinstance(value, str) or not re.match(r"^https?://[^\s/]+\S*$", value)
        ):
            return self._fail(name, "must be an http:// or https:// address")
        if value is not None and len(value) > 500:
            return self._fail(name, "must be at most 500 characters")
        self.values[name] = value

    def integer(
        self, name: str, *, minimum: int, required: bool = False, default: int | None = None
    ) -> None:
        present, value = self._raw(name, required=required)
        if not present:
            return
        if value is None:
            self.values[name] = default
            return
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            return self._fail(name, "must be a whole number")
        if not minimum <= value <= MAX_INT:
            return self._fail(name, f"must be between {minimum} and {MAX_INT}")
        self.values[name] = value

    def moment(self, name: str, *, required: bool = False) -> None:
        """An ISO 8601 time; one without a zone is taken as UTC (what the UI's form says)."""
        present, value = self._raw(name, required=required)
        if not present or value is None:
            return
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                return self._fail(name, "must be a date and time such as 2026-12-01T10:00:00Z")
        if not isinstance(value, datetime):
            return self._fail(name, "must be a date and time such as 2026-12-01T10:00:00Z")
        self.values[name] = (
            value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        )

    def tags(self, name: str) -> None:
        """A list of labels, or one text of labels separated by commas or new lines."""
        present, value = self._raw(name, required=False)
        if not present:
            return
        if value is None:
            value = []
        if isinstance(value, str):
            value = re.split(r"[,\n]", value)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return self._fail(name, "must be a list of text labels")
        cleaned = _unique(v.strip().lower() for v in value if v.strip())
        if len(cleaned) > MAX_TAGS:
            return self._fail(name, f"must have at most {MAX_TAGS} labels")
        if any(len(v) > MAX_TAG_LENGTH for v in cleaned):
            return self._fail(name, f"labels must be at most {MAX_TAG_LENGTH} characters")
        self.values[name] = cleaned

    def metrics(self, name: str) -> None:
        """Result figures: `[{"label": ..., "value": ...}]`, or lines of `label: value`."""
        present, value = self._raw(name, required=False)
        if not present:
            return
        if value is None:
            value = []
        if isinstance(value, str):
            value = [_metric_line(line) for line in value.splitlines() if line.strip()]
        if not isinstance(value, list):
            return self._fail(name, "must be a list of {label, value} objects")
        if len(value) > MAX_METRICS:
            return self._fail(name, f"must have at most {MAX_METRICS} entries")
        cleaned: list[dict[str, str]] = []
        for index, item in enumerate(value):
            ok = (
                isinstance(item, dict)
                and set(item) == {"label", "value"}
                and all(isinstance(v, str) and 0 < len(v.strip()) <= 200 for v in item.values())
            )
            if not ok:
                self.problems.append(
                    Problem(name, "needs a label and a value (text, 1-200 characters)", index)
                )
                continue
            cleaned.append({"label": item["label"].strip(), "value": item["value"].strip()})
        self.values[name] = cleaned

    def finish(self) -> dict[str, Any]:
        """The cleaned values, or InvalidInput naming every problem and unknown field."""
        for unknown in sorted(set(self._data) - self._known):
            self.problems.append(Problem(unknown, "is not a known field"))
        if self.problems:
            raise InvalidInput(self.problems)
        return self.values


def _metric_line(line: str) -> object:
    label, sep, value = line.partition(":")
    return {"label": label.strip(), "value": value.strip()} if sep else line


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
