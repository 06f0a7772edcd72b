"""The referral page a referred colleague fills in: public, no login.

`GET /refer/{code}` says whose link it is (the advocate's first name and company,
nothing more) and asks for first and last name, work e-mail, company and consent.
`POST /refer/{code}` hands the form to `referrals.submit` and answers
`/refer/{code}/thanks` whether the person became a new lead, was referred before or
was already known, so the page never tells who is in the database; only the
advocate's own address gets "this is your own link". A form that does not validate
comes back (422) with what was typed and the field named. Posts are rate limited per
client address and per code.

The visitor is a stranger: the page speaks their browser's language when it is one
we have, else the advocate's.
"""

from __future__ import annotations

from typing import Any

import anyio
from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from nurture.db import session_scope
from nurture.errors import InvalidInput, NotFound
from nurture.models import utcnow
from nurture.ratelimit import Limit
from nurture.reviews import referrals
from nurture.web import throttle
from nurture.web.public import review_pages
from nurture.web.public.review_copy import language_of
from nurture.web.state import settings_of
from nurture.web.ui.language import Language
from workers.actors import hand_over

FIELDS = ("first_name", "last_name", "email", "company")
# A person refers a handful of colleagues; a flood through one link or from one
# address is somebody testing addresses, or a bot.
SUBMISSIONS_PER_ADDRESS = Limit("referral-address", 20, 3600)
SUBMISSIONS_PER_CODE = Limit("referral-code", 60, 3600)
_ERRORS = {**{name: f"err_{name}" for name in FIELDS}, "consent": "err_r_consent"}


def _page_view(request: Request[Any, Any, Any], code: str) -> referrals.ReferralPage:
    with session_scope(settings_of(request.app).database_url) as session:
        return referrals.page_view(session, code)


def _form(
    request: Request[Any, Any, Any],
    view: referrals.ReferralPage,
    language: Language,
    *,
    typed: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Template:
    return review_pages.page(
        request,
        "referral_form.html",
        language=language,
        status_code=422 if errors else 200,
        view=view,
        values=typed or dict.fromkeys((*FIELDS, "consent"), ""),
        errors=errors or {},
        fields=FIELDS,
    )


@get("/refer/{code:str}", sync_to_thread=True, name="referral-page")
def referral_page(request: Request[Any, Any, Any], code: FromPath[str]) -> Template:
    """The form; a GET changes nothing."""
    try:
        view = _page_view(request, code)
    except NotFound as error:
        return review_pages.refused(request, error)
    return _form(request, view, review_pages.browser_language(request, view.locale))


def _submit(
    request: Request[Any, Any, Any], code: str, typed: dict[str, str], language: Language
) -> tuple[referrals.ReferralPage, referrals.Submitted | None, dict[str, str]]:
    form = referrals.ReferralForm(
        email=typed["email"],
        first_name=typed["first_name"],
        last_name=typed["last_name"],
        company=typed["company"],
        consent=typed["consent"] == "yes",
        locale=language,
    )
    with session_scope(settings_of(request.app).database_url, write=True) as session:
        view = referrals.page_view(session, code)
        try:
            done = referrals.submit(session, code, form, now=utcnow())
        except InvalidInput as invalid:
            session.rollback()
            errors = {p.field: _ERRORS.get(p.field, "err_other") for p in invalid.problems}
            if not errors.keys() <= _ERRORS.keys():
                # A problem with no field of ours to show it at: name the e-mail, the one
                # field every refusal is about.
                errors = {k: v for k, v in errors.items() if k in _ERRORS} or {"email": "err_email"}
            return view, None, errors
        hand_over(session, done.event_ids)
    return view, done, {}


@post("/refer/{code:str}", status_code=303, name="referral-submit")
async def referral_submit(
    request: Request[Any, Any, Any], code: FromPath[str]
) -> Redirect | Template:
    """Record the submission; the same thank-you page whoever it turns out to be."""
    form = await request.form()
    # The language the form was shown in, so its answer speaks it too.
    shown = review_pages.field(form, "locale")
    language = language_of(shown) if shown else review_pages.browser_language(request)
    limits = [
        (SUBMISSIONS_PER_ADDRESS, throttle.client_address(request)),
        (SUBMISSIONS_PER_CODE, code[:40]),
    ]
    refusal = await anyio.to_thread.run_sync(review_pages.throttled, request, limits, language)
    if refusal is not None:
        return refusal
    typed = {name: review_pages.field(form, name) for name in (*FIELDS, "consent")}
    try:
        view, done, errors = await anyio.to_thread.run_sync(_submit, request, code, typed, language)
    except NotFound as error:
        return review_pages.refused(request, error, language)
    if errors or done is None:
        return _form(request, view, language, typed=typed, errors=errors)
    own = "?own=1" if done.outcome == "self" else ""
    return Redirect(f"/refer/{code}/thanks{own}", status_code=303)


@get("/refer/{code:str}/thanks", sync_to_thread=True, name="referral-thanks")
def referral_thanks(
    request: Request[Any, Any, Any], code: FromPath[str], own: FromQuery[str] = ""
) -> Template:
    try:
        view = _page_view(request, code)
    except NotFound as error:
        return review_pages.refused(request, error)
    return review_pages.page(
        request,
        "referral_thanks.html",
        language=review_pages.browser_language(request, view.locale),
        view=view,
        own=own == "1",
    )


handlers = [referral_page, referral_submit, referral_thanks]
