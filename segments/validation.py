"""Checks of a rule that need the database: referenced segments exist, and no cycles.

The compiler never reads the database; whatever it needs to trust about
other segments is established here, when a rule is saved.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from nurture.errors import DomainError, InvalidInput, Problem
from nurture.models import Segment
from segments.schema import Rule, SegmentCondition, parse_rule, referenced_segments, walk


def validate_rule(session: Session, document: object, *, segment_id: int | None = None) -> Rule:
    """Parse `document` and check its segment references for the segment `segment_id`
    (None: a segment not saved yet). InvalidInput names the path of each bad condition."""
    rule = parse_rule(document)
    references = referenced_segments(rule.root)
    if not references:
        return rule
    graph = dependency_graph(session)
    if segment_id is not None:
        graph[segment_id] = references
    problems: list[Problem] = []
    for path, node in walk(rule.root):
        if not isinstance(node, SegmentCondition):
            continue
        if node.segment_id not in graph:
            problems.append(Problem(f"{path}.segment", f"no segment with id {node.segment_id}"))
        elif segment_id is not None:
            cycle = _path_to(graph, node.segment_id, segment_id)
            if cycle is not None:
                chain = " → ".join(str(i) for i in cycle)
                problems.append(
                    Problem(f"{path}.segment", f"would make a cycle of segments ({chain})")
                )
    if problems:
        raise InvalidInput(problems)
    return rule


def dependency_graph(session: Session) -> dict[int, set[int]]:
    """Every segment id -> the ids of the segments its stored rule refers to."""
    graph: dict[int, set[int]] = {}
    for segment_id, document in session.execute(select(Segment.id, Segment.rule)):
        graph[segment_id] = stored_references(document)
    return graph


def stored_references(document: object) -> set[int]:
    if document is None:
        return set()
    try:
        return referenced_segments(parse_rule(document).root)
    except InvalidInput:
        # A stored rule was valid when saved; if the schema moved on, it depends on nothing.
        return set()


def dependency_order(graph: dict[int, set[int]], ids: Iterable[int]) -> list[int]:
    """`ids` ordered so that each segment comes after the segments it refers to."""
    wanted = set(ids)
    order: list[int] = []
    state: dict[int, int] = {}

    def visit(node: int) -> None:
        if state.get(node) == 2:
            return
        if state.get(node) == 1:
            raise CycleError(node)
        state[node] = 1
        for dependency in sorted(graph.get(node, ())):
            visit(dependency)
        state[node] = 2
        if node in wanted:
            order.append(node)

    for node in sorted(wanted):
        visit(node)
    return order


def dependents(graph: dict[int, set[int]], ids: Iterable[int]) -> set[int]:
    """`ids` and every segment that refers to them, directly or through others."""
    found = set(ids)
    frontier = set(found)
    while frontier:
        frontier = {s for s, refs in graph.items() if refs & frontier and s not in found}
        found |= frontier
    return found


class CycleError(DomainError):
    """Stored segments refer to each other in a circle (validation prevents this)."""

    def __init__(self, segment_id: int) -> None:
        super().__init__(f"segment {segment_id} is part of a cycle of segment references")


def _path_to(graph: dict[int, set[int]], start: int, goal: int) -> list[int] | None:
    """A chain of references from `start` to `goal`, or None."""
    stack: list[list[int]] = [[start]]
    seen: set[int] = set()
    while stack:
        chain = stack.pop()
        node = chain[-1]
        if node == goal:
            return chain
        if node in seen:
            continue
        seen.add(node)
        stack.extend([*chain, nxt] for nxt in sorted(graph.get(node, ()), reverse=True))
    return None
