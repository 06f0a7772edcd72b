"""Overdue tasks that asked to escalate: one alert e-mail to the assignee's team lead.

A task step with `"escalate": true` makes its task escalate once it is past due with
no outcome. The sweep claims such tasks with one UPDATE ... RETURNING that sets
`escalated_at`, so two sweeps racing alert once; the lead is the `SalesTeam.lead_id`
of a team the assignee belongs to (none: the claim is kept, nobody is mailed).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from campaigns.delivery.transport import Transport
from campaigns.email.mailconfig import MailConfig

TASK_ESCALATED = "task.escalated"
STARTER_TEMPLATE = "task_overdue"


def escalate_overdue(
    session: Session, *, now: datetime, transport: Transport, config: MailConfig
) -> list[int]:
    """Escalate the tasks overdue at `now`; answers their ids. Commits."""
    raise NotImplementedError
