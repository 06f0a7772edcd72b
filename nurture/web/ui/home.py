"""The home page: a dashboard of real figures and the event chart."""

from __future__ import annotations

from litestar import get
from litestar.response import Template

from campaigns.email.by_status import count_with_status
from nurture.models import MessageStatus
from nurture.web.auth import ui_roles
from nurture.web.ui import queries
from nurture.web.ui.params import Db, Me
from nurture.web.ui.render import EVERYONE, page
from nurture.web.ui.timeline import entry


@get("/", guards=[ui_roles(*EVERYONE)], sync_to_thread=True)
def home(db: Db, principal: Me) -> Template:
    series = queries.events_per_day(db)
    return page(
        "home.html",
        principal,
        "home",
        figures=queries.figures(db),
        chart=series.as_json(),
        chart_total=sum(sum(counts) for counts in series.groups.values()),
        chart_days=queries.CHART_DAYS,
        stages=queries.stage_counts(db),
        recent=[(entry(event), contact) for event, contact in queries.recent_events(db)],
        failed_sends=count_with_status(db, MessageStatus.FAILED.value),
    )


handlers = [home]
