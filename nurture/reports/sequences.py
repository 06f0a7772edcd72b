"""Sequence performance: what each sequence sent, how people answered, and the qualified
leads it produced. Two grouped statements over every sequence.

The cohort is the enrolments that began in the period (for contacts the filter
keeps); every figure follows those enrolments to today.

- `enrolled`: contacts with such an enrolment.
- `delivered`: e-mails those enrolments sent that the relay accepted (status `sent`;
  a later bounce notice turns a message into `bounced` and it stops counting).
- `opened`, `clicked`: delivered e-mails that a person opened / clicked at least once;
  opens and clicks flagged as a machine (scanners, privacy proxies) do not count.
- `replied`: e-mails answered by a person (`email.replied`; automatic answers are
  `email.auto_replied` and do not count).
- `qualified`: enrolled contacts that reached MQL (or a later stage) at or after
  the start of their enrolment. Every sequence a lead was in before qualifying gets
  the credit, so the column adds up to more than the number of qualified leads
  when sequences overlap.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, case, exists, func, select
from sqlalchemy.orm import Session

from nurture.models import EmailMessage, Enrolment, Event, MessageStatus, Sequence, StepRun
from nurture.reports.filters import ReportFilter, contact_matches
from nurture.reports.stages import FUNNEL, QUALIFIED, reached, within

OPENED = "email.opened"
CLICKED = "email.clicked"
REPLIED = "email.replied"


@dataclass(frozen=True, slots=True)
class SequenceFigures:
    sequence_id: int
    name: str
    status: str
    enrolled: int
    delivered: int
    opened: int
    clicked: int
    replied: int
    qualified: int

    @property
    def open_rate(self) -> float | None:
        return self.opened / self.delivered if self.delivered else None

    @property
    def click_rate(self) -> float | None:
        return self.clicked / self.delivered if self.delivered else None

    @property
    def reply_rate(self) -> float | None:
        return self.replied / self.delivered if self.delivered else None

    @property
    def qualified_rate(self) -> float | None:
        return self.qualified / self.enrolled if self.enrolled else None


def sequence_performance(session: Session, flt: ReportFilter) -> list[SequenceFigures]:
    """Every sequence, by name, with its figures for the filter's cohort of enrolments."""
    cohort = and_(within(Enrolment.enrolled_at, flt), contact_matches(flt, Enrolment.contact_id))
    mail = _mail_figures(session, cohort)
    r = reached(flt)
    qualified_at = r.c[f"r{FUNNEL.index(QUALIFIED) + 1}"]
    people = {
        int(sequence_id): (int(enrolled), int(qualified or 0))
        for sequence_id, enrolled, qualified in session.execute(
            select(
                Enrolment.sequence_id,
                func.count(func.distinct(Enrolment.contact_id)),
                func.count(
                    func.distinct(
                        case((qualified_at >= Enrolment.enrolled_at, Enrolment.contact_id))
                    )
                ),
            )
            .outerjoin(r, r.c.contact_id == Enrolment.contact_id)
            .where(cohort)
            .group_by(Enrolment.sequence_id)
        )
    }
    out = []
    for sequence in session.scalars(select(Sequence).order_by(Sequence.name, Sequence.id)):
        enrolled, qualified = people.get(sequence.id, (0, 0))
        delivered, opened, clicked, replied = mail.get(sequence.id, (0, 0, 0, 0))
        out.append(
            SequenceFigures(
                sequence.id,
                sequence.name,
                sequence.status,
                enrolled,
                delivered,
                opened,
                clicked,
                replied,
                qualified,
            )
        )
    return out


def _mail_figures(
    session: Session, cohort: ColumnElement[bool]
) -> dict[int, tuple[int, int, int, int]]:
    """Per sequence: delivered, opened, clicked, replied (numbers of e-mails)."""
    # The step run keeps the id of the message it sent (as the sequence funnel reads it).
    message_of_run = StepRun.detail["message_id"].as_integer()
    delivered = EmailMessage.status == MessageStatus.SENT.value

    def answered(kind: str, *, people_only: bool) -> ColumnElement[int]:
        conditions = [
            Event.contact_id == EmailMessage.contact_id,
            Event.type == kind,
            Event.properties["message_id"].as_integer() == EmailMessage.id,
        ]
        if people_only:
            conditions.append(Event.properties["machine"].as_string().is_(None))
        return func.coalesce(
            func.sum(case((and_(delivered, exists().where(*conditions)), 1), else_=0)), 0
        )

    rows = session.execute(
        select(
            Enrolment.sequence_id,
            func.coalesce(func.sum(case((delivered, 1), else_=0)), 0),
            answered(OPENED, people_only=True),
            answered(CLICKED, people_only=True),
            answered(REPLIED, people_only=False),
        )
        .select_from(StepRun)
        .join(Enrolment, Enrolment.id == StepRun.enrolment_id)
        .join(EmailMessage, EmailMessage.id == message_of_run)
        .where(cohort)
        .group_by(Enrolment.sequence_id)
    )
    return {int(sequence_id): (int(d), int(o), int(c), int(r)) for sequence_id, d, o, c, r in rows}
