"""Reviews > Settings (issue 15): the sequence a referred colleague enters, the stages at
which the advocate is thanked and with which template, and the reward's wording."""

from __future__ import annotations

from typing import Any

from litestar import get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import select

from nurture.errors import InvalidInput, Problem
from nurture.models import EmailTemplate, Sequence
from nurture.reviews import review_settings
from nurture.web.auth import ui_roles
from nurture.web.ui.params import Db, FormData, Me
from nurture.web.ui.render import MARKETING, page

_PATH = "/reviews/settings"


@get(_PATH, guards=[ui_roles(*MARKETING)], sync_to_thread=True)
def review_settings_page(db: Db, principal: Me, saved: FromQuery[str] = "") -> Template:
    row = review_settings.get(db)
    db.commit()
    form = {
        "referral_sequence_id": str(row.referral_sequence_id or ""),
        "thank_stages": list(row.thank_stages or []),
        "thank_template_id": str(row.thank_template_id or ""),
        "reward_text": row.reward_text,
    }
    notice = "Review settings saved." if saved else ""
    return _page(db, principal, form=form, notice=notice)


@post(_PATH, guards=[ui_roles(*MARKETING)], sync_to_thread=True)
def save_review_settings(db: Db, principal: Me, data: FormData) -> Template | Redirect:
    form: dict[str, Any] = {
        "referral_sequence_id": str(data.get("referral_sequence_id", "")).strip(),
        "thank_stages": [s for s in review_settings.THANK_STAGES if data.get(f"stage_{s}")],
        "thank_template_id": str(data.get("thank_template_id", "")).strip(),
        "reward_text": str(data.get("reward_text", "")),
    }
    try:
        checked = review_settings.check(form)
        review_settings.save(db, checked, actor=principal.actor)
    except InvalidInput as exc:
        db.rollback()
        return _page(db, principal, form=form, errors=_errors(exc.problems), status=422)
    db.commit()
    return Redirect(f"{_PATH}?saved=1", status_code=303)


def _errors(problems: list[Problem]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for problem in problems:
        errors[problem.field] = "; ".join(
            filter(None, [errors.get(problem.field), problem.message])
        )
    return errors


def _page(
    db: Db,
    principal: Me,
    *,
    form: dict[str, Any],
    errors: dict[str, str] | None = None,
    notice: str = "",
    status: int = 200,
) -> Template:
    sequences = list(
        db.execute(select(Sequence.id, Sequence.name, Sequence.status).order_by(Sequence.name))
    )
    templates = list(
        db.execute(
            select(EmailTemplate.id, EmailTemplate.name)
            .where(EmailTemplate.kind == "marketing")
            .order_by(EmailTemplate.name)
        )
    )
    return page(
        "reviews/settings.html",
        principal,
        "reviews",
        status_code=status,
        tab="settings",
        form=form,
        errors=errors or {},
        notice=notice,
        sequences=sequences,
        templates=templates,
        stages=review_settings.THANK_STAGES,
    )


handlers = [review_settings_page, save_review_settings]
