"""Small MJML documents and settings shared by the template tests."""

from __future__ import annotations

import re

SECRET = "test-secret-" + "s" * 32
BASE_URL = "https://mail.example.test"


def mjml(inner: str, head: str = "") -> str:
    """A complete MJML document with `inner` inside one section and column."""
    return (
        f"<mjml>\n<mj-head>{head}</mj-head>\n<mj-body>\n<mj-section>\n<mj-column>\n"
        f"{inner}\n</mj-column>\n</mj-section>\n</mj-body>\n</mjml>\n"
    )


def squeeze(html: str) -> str:
    """HTML with the whitespace between tags removed (MJML drops it in some places)."""
    return re.sub(r">\s+<", "><", html)
