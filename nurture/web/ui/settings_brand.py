"""Settings → Brand (admins and marketers): the name, accent colour, logo, postal
address and font every e-mail and public page uses (see campaigns.email.brand)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from campaigns.email import brand
from nurture.errors import InvalidInput
from nurture.web.auth import ui_roles
from nurture.web.mail import forget_page_brand, mail_config
from nurture.web.state import settings_of
from nurture.web.ui.params import Db, FormData, Me
from nurture.web.ui.render import MARKETING, page

PATH = "/settings/brand"


@get(PATH, guards=[ui_roles(*MARKETING)], sync_to_thread=True)
def brand_page(
    request: Request[Any, Any, Any], db: Db, principal: Me, saved: FromQuery[str] = ""
) -> Template:
    form = brand.stored(db).as_dict()
    notice = "Brand saved: new e-mails, previews and public pages use it." if saved else ""
    return _page(request, principal, form=form, notice=notice)


@post(PATH, guards=[ui_roles(*MARKETING)], sync_to_thread=True)
def save_brand(
    request: Request[Any, Any, Any], db: Db, principal: Me, data: FormData
) -> Template | Redirect:
    form = {name: str(data.get(name, "")) for name in brand.FIELDS}
    try:
        brand.save(db, form, actor=principal.actor, base_url=settings_of(request.app).base_url)
    except InvalidInput as exc:
        db.rollback()
        errors: dict[str, str] = {}
        for problem in exc.problems:
            said = errors.get(problem.field)
            errors[problem.field] = f"{said}; {problem.message}" if said else problem.message
        return _page(request, principal, form=form, errors=errors, status=422)
    db.commit()
    forget_page_brand(request.app)
    return Redirect(f"{PATH}?saved=1", status_code=303)


def _page(
    request: Request[Any, Any, Any],
    principal: Me,
    *,
    form: dict[str, str],
    errors: dict[str, str] | None = None,
    notice: str = "",
    status: int = 200,
) -> Template:
    default = mail_config(request.app).brand
    return page(
        "settings/brand.html",
        principal,
        "settings",
        status_code=status,
        form=form,
        errors=errors or {},
        notice=notice,
        default=default,
        fonts=[(key, label) for key, (label, _) in brand.FONTS.items()],
        own_images=settings_of(request.app).base_url.rstrip("/") + "/img/",
    )


handlers = [brand_page, save_brand]
