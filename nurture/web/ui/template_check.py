"""The editor's pre-save check: the form as typed (not saved) checked for every language.

An htmx fragment: the editor page loads it when it opens (so the saved version's
findings show on the template page) and again on "Check again". It reads the same
fields as the preview and saves nothing; no finding stops a save.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Request, post
from litestar.params import FromPath
from litestar.response import Template
from sqlalchemy.orm import Session

from campaigns.email.store import VariantInput
from campaigns.email.template_check import check_template
from nurture.web.auth import ui_roles
from nurture.web.mail import mail_config
from nurture.web.ui import content_form as form
from nurture.web.ui.params import Db, FormData
from nurture.web.ui.render import EVERYONE, fragment
from templates.checks import Finding

_KIND_NAMES = {"raw": "HTML/MJML", "case_study": "case study"}


def kind_name(kind: str | None) -> str:
    """A block kind in plain words."""
    return "" if kind is None else _KIND_NAMES.get(kind, kind.replace("_", " "))


def by_locale(findings: list[Finding]) -> list[tuple[str, list[Finding]]]:
    """Findings grouped by language, errors first within each."""
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(finding.locale, []).append(finding)
    return [
        (locale, sorted(items, key=lambda f: f.severity != "error"))
        for locale, items in sorted(groups.items())
    ]


@post("/content/{template_id:int}/check", guards=[ui_roles(*EVERYONE)], sync_to_thread=True)
def check_form(
    request: Request[Any, Any, Any], db: Db, template_id: FromPath[int], data: FormData
) -> Template:
    """The findings for the editor's unsaved fields (every language that holds anything)."""
    variants = form.inputs(form.from_form(data))
    if not variants:
        return fragment("content/_check.html", result=None, groups=[], active="", kind_name=None)
    return check_fragment(
        request,
        db,
        template_id,
        variants,
        active=data.get("active_locale") or "en",
        block_links=data.get("block_links") == "1",
    )


def check_fragment(
    request: Request[Any, Any, Any],
    db: Session,
    template_id: int,
    variants: Mapping[str, VariantInput],
    *,
    active: str,
    block_links: bool,
) -> Template:
    """The check card's list for `variants` (unsaved), grouped by language, errors first."""
    result = check_template(db, template_id, config=mail_config(request.app), variants=variants)
    return fragment(
        "content/_check.html",
        result=result,
        groups=by_locale(result.findings),
        checked=sorted(variants),
        active=active,
        kind_name=kind_name,
        block_links=block_links,
    )


handlers = [check_form]
