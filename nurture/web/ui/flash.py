"""What a form's answer says, carried across its redirect (Post/Redirect/Get).

A handler that changed something puts a small report in the signed, encrypted session
cookie and redirects; the page it redirects to takes it once. A reload then shows the
page without the report, never a "resubmit the form?" or a 405. Keep values small
(a cookie holds a few KB): counts and the first lines, not whole lists.
"""

from __future__ import annotations

from typing import Any

from litestar import Request

_KEY = "flash"


def put(request: Request[Any, Any, Any], name: str, value: Any) -> None:
    """Keep `value` (JSON-able) for the next page that takes `name`."""
    session = dict(request.session or {})
    session[_KEY] = {**session.get(_KEY, {}), name: value}
    request.set_session(session)


def take(request: Request[Any, Any, Any], name: str) -> Any:
    """The value put under `name`, once; None when there is none."""
    session = dict(request.session or {})
    kept = dict(session.get(_KEY, {}))
    if name not in kept:
        return None
    value = kept.pop(name)
    if kept:
        session[_KEY] = kept
    else:
        session.pop(_KEY, None)
    request.set_session(session)
    return value
