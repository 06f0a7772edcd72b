"""What the segments API answers and accepts (documented in /schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from nurture.models import Segment
from nurture.web.api.schemas import ContactOut
from segments.lists import CsvImport
from segments.membership import Change


class SegmentOut(msgspec.Struct):
    id: int
    name: str
    description: str | None
    kind: str
    rule: dict[str, Any] | None
    revision: int
    size: int
    created_at: datetime
    updated_at: datetime
    refreshed_at: datetime | None


class SegmentList(msgspec.Struct):
    items: list[SegmentOut]


class SegmentIn(msgspec.Struct, forbid_unknown_fields=True):
    """A dynamic segment (with a rule) or a static list (kind `static`, no rule)."""

    name: Annotated[str, Meta(max_length=200, examples=["Legal partners DACH"])]
    kind: Annotated[str, Meta(examples=["dynamic"])] = "dynamic"
    rule: dict[str, Any] | None = None
    description: str | None = None


class SegmentPatch(msgspec.Struct, forbid_unknown_fields=True):
    """The parts to change; parts left out keep their value."""

    name: str | None = None
    description: str | None = None
    rule: dict[str, Any] | None = None


class DuplicateIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str


class RuleDocument(msgspec.Struct):
    """A rule document: `{"version": 1, "rule": {...}}` (see GET /api/v1/segments/fields)."""

    version: int
    rule: dict[str, Any]


class PreviewOut(msgspec.Struct):
    """How many contacts match now, and the first 20 of them by id."""

    count: int
    sample: list[ContactOut]


class MemberPageOut(msgspec.Struct):
    """One page of members by contact id; pass `next_cursor` back as `cursor` (null: no more)."""

    items: list[ContactOut]
    next_cursor: str | None


class ContactIdsIn(msgspec.Struct, forbid_unknown_fields=True):
    contact_ids: Annotated[list[int], Meta(max_length=10_000)]


class ChangeOut(msgspec.Struct):
    """Contacts that entered and left; `size` after a full refresh."""

    entered: list[int]
    exited: list[int]
    size: int | None = None


class LineOut(msgspec.Struct):
    line: int
    value: str


class CsvImportOut(msgspec.Struct):
    """Added contact ids, how many were members already, and lines not used with why."""

    added: list[int]
    already_members: int
    unknown: list[LineOut]
    invalid: list[LineOut]


def segment_out(segment: Segment, size: int) -> SegmentOut:
    return SegmentOut(
        id=segment.id,
        name=segment.name,
        description=segment.description,
        kind=segment.kind,
        rule=segment.rule,
        revision=segment.revision,
        size=size,
        created_at=segment.created_at,
        updated_at=segment.updated_at,
        refreshed_at=segment.refreshed_at,
    )


def change_out(change: Change) -> ChangeOut:
    return ChangeOut(entered=change.entered, exited=change.exited, size=change.size)


def import_out(result: CsvImport) -> CsvImportOut:
    return CsvImportOut(
        added=result.added,
        already_members=result.already_members,
        unknown=[LineOut(line, email) for line, email in result.unknown],
        invalid=[LineOut(line, reason) for line, reason in result.invalid],
    )
