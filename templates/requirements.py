"""What a template needs from whoever sends it, and who gives what.

A template *needs* the dotted names it reads (`project.name`, `nps_links`,
`webinar.join_url`), found in the Jinja syntax tree of its subject, preheader, body
and text, minus what every send gives (`COMMON`: the contact, the rep, the brand,
per-send links and the unsubscribe links). A *sender* (an e-mail step, a review
e-mail step, the webinar confirmation...) registers what it gives; a name is given
when a given name is it or one of its parents (`webinar` gives `webinar.title`).

`| default(...)`: the sandbox fails on any use of an undefined value, but `x.y |
default(z)` renders when `y` is missing from `x`, so such a use needs only `x`; a
bare `x | default(z)` needs nothing. Every other use (`if`, loops, output) needs the
whole name: a test like `{% if x.y %}` fails when `y` is missing.

Names are read from the syntax tree, not by rendering: a name a loop or `set`
defines is local and not needed, and a chain stops at a filter, a call or a number
index (`case_study.metrics[0].value` needs `case_study.metrics`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from jinja2 import meta, nodes

from templates.sandbox import environment

# What every send gives: see campaigns.email.recipients and the renderer.
COMMON: frozenset[str] = frozenset(
    {"contact", "rep", "brand", "links", "unsubscribe_url", "preferences_url"}
)

# Plain words for names a marketer may meet in "needs ..." and "filled with samples".
# A name without its own words takes its nearest parent's.
LABELS: Mapping[str, str] = {
    "project": "the project",
    "project.name": "the project's name",
    "nps_links": "the eleven survey links",
    "feedback_url": "the survey follow-up link",
    "testimonial_url": "the testimonial form link",
    "referral_url": "the referral link",
    "referral": "the referred colleague",
    "testimonial": "a client quote",
    "case_study": "the case study",
    "webinar": "the webinar",
    "webinar.register_url": "the webinar's registration link",
    "webinar.join_url": "the webinar's join link",
    "webinar.calendar": "the add-to-calendar links",
    "webinar.starts_in": "how soon the webinar starts",
    "webinar.speakers": "the webinar's speakers",
    "webinar.agenda": "the webinar's agenda",
    "article": "the article",
    "lead": "the lead",
    "handoff": "the hand-off details",
    "task": "the overdue task",
}


@dataclass(frozen=True, slots=True)
class Sender:
    """Something that sends a template and what it gives beyond `COMMON`.

    `key` is stable (`email`, `review_email:nps`, `webinar.confirmation`); `label` says
    it in plain words ("a review e-mail step (NPS survey)").
    """

    key: str
    label: str
    gives: frozenset[str]


_SENDERS: dict[str, Sender] = {}


def register_sender(key: str, label: str, gives: Iterable[str] = ()) -> None:
    """Record what the sender `key` gives; registering again replaces it."""
    _SENDERS[key] = Sender(key, label, frozenset(gives))


def sender(key: str) -> Sender | None:
    """The sender registered as `key`, or None."""
    return _SENDERS.get(key)


def senders() -> tuple[Sender, ...]:
    """Every registered sender, by key."""
    return tuple(_SENDERS[k] for k in sorted(_SENDERS))


def needs(parts: Iterable[tuple[str, bool]]) -> frozenset[str]:
    """The names the sources need beyond `COMMON`; each part is (source, is_html).

    A source that does not parse needs nothing here: the template checks report it.
    """
    found: set[str] = set()
    for source, html in parts:
        found |= _needs_of(source, html)
    return frozenset(n for n in found if not covered(n, COMMON))


def variant_needs(subject: str, preheader: str, body: str, text: str | None) -> frozenset[str]:
    """`needs` of one language variant of a template."""
    return needs([(subject, False), (preheader, False), (body, True), (text or "", False)])


def covered(name: str, gives: Iterable[str]) -> bool:
    """Whether `name` or one of its parents is among `gives`."""
    given = frozenset(gives)
    parts = name.split(".")
    return any(".".join(parts[:i]) in given for i in range(1, len(parts) + 1))


def missing(wanted: Iterable[str], gives: Iterable[str]) -> tuple[str, ...]:
    """The names of `wanted` that `gives` (with `COMMON`) does not give, sorted."""
    given = frozenset(gives) | COMMON
    return tuple(sorted(n for n in set(wanted) if not covered(n, given)))


def label(name: str) -> str:
    """Plain words for one name: its own, else its nearest parent's, else the name."""
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        words = LABELS.get(".".join(parts[:i]))
        if words is not None:
            return words
    return name.replace("_", " ")


def labels(names: Iterable[str]) -> list[str]:
    """Plain words for `names`, each said once, in the names' order."""
    return list(dict.fromkeys(label(n) for n in sorted(names)))


def say(names: Iterable[str]) -> str:
    """`labels` as one phrase: "the project's name and the eleven survey links"."""
    words = labels(names)
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def givers(wanted: Iterable[str]) -> list[Sender]:
    """The registered senders that give everything in `wanted`."""
    names = list(wanted)
    return [s for s in senders() if not missing(names, s.gives)]


@lru_cache(maxsize=512)
def _needs_of(source: str, html: bool) -> frozenset[str]:
    if "{" not in source:
        return frozenset()
    try:
        tree = environment(html=html).parse(source)
    except Exception:  # noqa: BLE001 - the template's own checks report a bad source
        return frozenset()
    free = meta.find_undeclared_variables(tree)
    found: set[str] = set()
    _walk(tree, free, found, optional=False)
    return frozenset(found)


def names_read(source: str) -> dict[str, int]:
    """Every dotted name `source` reads, in full (`| default` or not), with the line of
    its first use; {} when it does not parse (the template's own checks report that)."""
    if "{" not in source:
        return {}
    try:
        tree = environment(html=False).parse(source)
    except Exception:  # noqa: BLE001 - the template's own checks report a bad source
        return {}
    free = meta.find_undeclared_variables(tree)
    found: dict[str, int] = {}
    stack: list[nodes.Node] = [tree]
    while stack:
        node = stack.pop()
        chain = _chain(node)
        if chain is None:
            stack.extend(node.iter_child_nodes())
        elif chain[0] in free:
            name = ".".join(chain)
            found[name] = min(found.get(name, node.lineno), node.lineno)
    return found


def _walk(node: nodes.Node, free: set[str], found: set[str], *, optional: bool) -> None:
    chain = _chain(node)
    if chain is not None:
        if chain[0] in free:
            # Under `default`, the last part may be missing; its parent may not.
            kept = chain[:-1] if optional else chain
            if kept:
                found.add(".".join(kept))
        # Number indexes inside a chain (`x[0]`) hold no further names.
        return
    if isinstance(node, nodes.Filter) and node.name == "default" and node.node is not None:
        _walk(node.node, free, found, optional=True)
        for child in (*node.args, *node.kwargs):
            _walk(child, free, found, optional=False)
        return
    if isinstance(node, nodes.Test) and node.name in ("defined", "undefined"):
        _walk(node.node, free, found, optional=True)
        return
    for child in node.iter_child_nodes():
        _walk(child, free, found, optional=False)


def _chain(node: nodes.Node) -> list[str] | None:
    """`["a", "b", "c"]` for `a.b.c` or `a["b"].c` (loads only); None for anything else.

    A number index ends the chain where it stands: `a.b[0].c` is `["a", "b"]`.
    """
    parts: list[str] = []
    current: nodes.Node = node
    while True:
        if isinstance(current, nodes.Getattr):
            parts.append(current.attr)
            current = current.node
        elif isinstance(current, nodes.Getitem):
            key = current.arg
            if isinstance(key, nodes.Const) and isinstance(key.value, str):
                parts.append(key.value)
            else:
                parts.clear()  # an index by number or expression: keep what is before it
                if not isinstance(key, nodes.Const):
                    return None
            current = current.node
        elif isinstance(current, nodes.Name):
            if current.ctx != "load":
                return None
            return [current.name, *reversed(parts)]
        else:
            return None
