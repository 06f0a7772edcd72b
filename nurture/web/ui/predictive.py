"""The predictive model's page: the published model (held-out AUC, calibration chart and
table, the weights), the latest fit and why it was refused, a refit button."""

from __future__ import annotations

from typing import Any

from litestar import get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from nurture.errors import InvalidInput
from nurture.scoring import predictive
from nurture.scoring.features import NEGATIVE_MIN_AGE_DAYS
from nurture.web.api.predictive import FitOut, fit_out, model_out, request_and_send
from nurture.web.auth import Principal, ui_roles
from nurture.web.ui.params import Db, FormData, Me
from nurture.web.ui.render import EVERYONE, MARKETING, page

VIEW = [ui_roles(*EVERYONE)]
REFIT = [ui_roles(*MARKETING)]
HISTORY = 10
WEIGHTS_SHOWN = 15


def _page(db: Db, principal: Principal, *, status: int = 200, **extra: Any) -> Template:
    model = model_out(db)
    published = model.published
    weights = (
        sorted(published.coefficients, key=lambda c: -abs(c.coefficient))[:WEIGHTS_SHOWN]
        if published
        else []
    )
    return page(
        "scoring/model.html",
        principal,
        "scoring",
        status_code=status,
        model=model,
        weights=weights,
        chart=_chart(published),
        fits=[fit_out(f) for f in predictive.recent_fits(db, limit=HISTORY)],
        can_refit=principal.role in MARKETING,
        default_l2=predictive.DEFAULT_L2,
        negative_age_days=NEGATIVE_MIN_AGE_DAYS,
        **extra,
    )


def _chart(fit: FitOut | None) -> dict[str, Any] | None:
    """Calibration deciles for Chart.js: predicted against observed, in percent."""
    if fit is None or not fit.calibration:
        return None
    return {
        "labels": [f"{n + 1}" for n in range(len(fit.calibration))],
        "predicted": [round(b.mean_predicted * 100, 1) for b in fit.calibration],
        "observed": [round(b.observed_rate * 100, 1) for b in fit.calibration],
    }


@get("/scoring/model", guards=VIEW, sync_to_thread=True)
def model_page(db: Db, principal: Me, requested: FromQuery[int | None] = None) -> Template:
    return _page(db, principal, requested=requested)


@post("/scoring/model/fit", guards=REFIT, sync_to_thread=True)
def refit(db: Db, principal: Me, data: FormData) -> Template | Redirect:
    text = (data.get("l2") or "").strip()
    try:
        l2 = float(text) if text else predictive.DEFAULT_L2
    except ValueError:
        l2 = float("nan")
    try:
        fit = request_and_send(db, principal, trigger="manual", l2=l2)
    except InvalidInput as exc:
        db.rollback()
        return _page(db, principal, status=422, problems=exc.problems, l2_text=text)
    return Redirect(f"/scoring/model?requested={fit.id}", status_code=303)


handlers = [model_page, refit]
