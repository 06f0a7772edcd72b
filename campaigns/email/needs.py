"""What a stored template needs from its sender (see templates.requirements), and the
sentence that says a sender falls short, for steps and broadcasts alike."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from nurture.models import EmailTemplate, EmailTemplateVersion
from templates import requirements
from templates.library import StarterTemplate


@dataclass(frozen=True, slots=True)
class TemplateNeeds:
    """A template's name and the names its current version needs (all languages)."""

    name: str
    needs: frozenset[str]


def version_needs(version: EmailTemplateVersion) -> frozenset[str]:
    """The names any language of `version` needs beyond what every send gives."""
    found: frozenset[str] = frozenset()
    for variant in version.variants:
        found |= requirements.variant_needs(
            variant.subject, variant.preheader, variant.body, variant.text_body
        )
    return found


def templates_needs(session: Session, template_ids: Iterable[int]) -> dict[int, TemplateNeeds]:
    """`TemplateNeeds` of the current version of each template that exists."""
    wanted = sorted(set(template_ids))
    if not wanted:
        return {}
    rows = session.execute(
        select(EmailTemplate.id, EmailTemplate.name, EmailTemplateVersion)
        .join(
            EmailTemplateVersion,
            (EmailTemplateVersion.template_id == EmailTemplate.id)
            & (EmailTemplateVersion.number == EmailTemplate.current_version),
        )
        .where(EmailTemplate.id.in_(wanted))
        .options(selectinload(EmailTemplateVersion.variants))
    ).all()
    return {tid: TemplateNeeds(name, version_needs(version)) for tid, name, version in rows}


def shortfall(
    template: TemplateNeeds, gives: Iterable[str], sender_label: str, *, alternatives: str = ""
) -> str | None:
    """None when `gives` covers what `template` needs; else a sentence for a marketer:
    "“NPS survey” needs the project's name and the eleven survey links, which a plain
    e-mail step does not give." followed by `alternatives` when given."""
    lacking = requirements.missing(template.needs, gives)
    if not lacking:
        return None
    sentence = (
        f"“{template.name}” needs {requirements.say(lacking)}, which {sender_label} does not give."
    )
    return f"{sentence} {alternatives}" if alternatives else sentence


@dataclass(frozen=True, slots=True)
class StarterUse:
    """Who can send a starter template: the senders that give all it needs, in plain
    words; `unbuilt` names (in plain words) what no sender gives yet."""

    senders: list[str]
    unbuilt: str


def starter_use(starter: StarterTemplate) -> StarterUse:
    """Which registered senders can send `starter`, computed from what they give."""
    wanted: frozenset[str] = frozenset()
    for variant in starter.variants.values():
        wanted |= requirements.variant_needs(variant.subject, variant.preheader, variant.body, None)
    fitting = requirements.givers(wanted)
    if fitting:
        return StarterUse([s.label for s in fitting], "")
    given = frozenset().union(*(s.gives for s in requirements.senders()))
    # Given in parts by different senders but by none whole: name all of it.
    lacking = requirements.missing(wanted, given) or tuple(wanted)
    return StarterUse([], requirements.say(lacking))
