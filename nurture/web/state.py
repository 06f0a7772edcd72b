"""Access to what create_app stores on the application (settings, broker)."""

from __future__ import annotations

from typing import Any

from litestar import Litestar

from nurture.config import Settings


def settings_of(app: Litestar) -> Settings:
    settings: Any = app.state.settings
    if not isinstance(settings, Settings):
        raise RuntimeError("create_app() stores the settings on app.state")
    return settings
