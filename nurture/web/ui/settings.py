"""Settings: the caller's own account, and for admins users, API keys and the audit log."""

from __future__ import annotations

from litestar import get
from litestar.response import Template

from nurture.models import User
from nurture.web.auth import ui_roles
from nurture.web.ui.params import Db, Me
from nurture.web.ui.render import EVERYONE, page


@get("/settings", guards=[ui_roles(*EVERYONE)], sync_to_thread=True)
def settings_home(db: Db, principal: Me) -> Template:
    return page("settings/index.html", principal, "settings", user=db.get(User, principal.id))


handlers = [settings_home]
