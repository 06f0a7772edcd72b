"""The testimonial form a promoter edits and approves: public, no login.

`GET /testimonial/{token}` shows the draft quote to edit, the three ways to be named
(each showing how the quote will be signed) and the consent checkbox; once approved
it shows the approved words and the way to withdraw. `POST /testimonial/{token}`
approves (the consent kept with the exact wording shown) and goes to
`/testimonial/{token}/thanks`. Withdrawing has a confirmation step:
`GET /testimonial/{token}/withdraw` asks, `POST` withdraws. The signed token alone
authorises; GETs change nothing.
"""

from __future__ import annotations

import contextlib
from datetime import date
from typing import Any

import anyio
from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from nurture.db import session_scope
from nurture.errors import Conflict, DomainError, InvalidInput, NotFound
from nurture.models import Attribution, TestimonialStatus, utcnow
from nurture.ratelimit import Limit
from nurture.reviews import testimonials
from nurture.web import throttle
from nurture.web.mail import mail_config, page_brand
from nurture.web.public import review_pages
from nurture.web.public.review_copy import language_of, texts
from nurture.web.state import settings_of
from templates.tokens import TokenError, TokenExpired

ATTRIBUTIONS = [a.value for a in Attribution]
FORMS_PER_ADDRESS = Limit("testimonial-form-address", 60, 60)
_ERRORS = {"quote": "err_quote", "attribution": "err_attribution", "consent": "err_consent"}
_APPROVED = {TestimonialStatus.APPROVED.value, TestimonialStatus.HIDDEN.value}


def _view(request: Request[Any, Any, Any], token: str) -> testimonials.TestimonialForm:
    """The testimonial a token opens. An expired link still shows approved words and
    the way to withdraw them (consent can be taken back at any time), not the form."""
    signer = mail_config(request.app).signer
    with session_scope(settings_of(request.app).database_url) as session:
        try:
            return testimonials.form_view(session, token, signer=signer, today=utcnow().date())
        except TokenExpired:
            view = testimonials.form_view(session, token, signer=signer, today=date.min)
            if view.status == TestimonialStatus.REQUESTED.value:
                raise
            return view


def _refused(request: Request[Any, Any, Any], token: str, error: DomainError) -> Template:
    """The refusal page; an expired link is still ours, so it speaks its contact's language."""
    language = review_pages.browser_language(request)
    if isinstance(error, TokenExpired):
        signer = mail_config(request.app).signer
        with (
            contextlib.suppress(DomainError),
            session_scope(settings_of(request.app).database_url) as session,
        ):
            view = testimonials.form_view(session, token, signer=signer, today=date.min)
            language = language_of(view.locale)
    return review_pages.refused(request, error, language)


def _consent_wording(request: Request[Any, Any, Any], locale: str) -> str:
    brand = page_brand(request.app).get("name", "")
    return texts(language_of(locale))["t_consent"].format(brand=brand)


def _render(
    request: Request[Any, Any, Any],
    view: testimonials.TestimonialForm,
    token: str,
    *,
    thanks: bool = False,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
) -> Template:
    """The page for the testimonial's state: the form, the approved words, or withdrawn."""
    language = language_of(view.locale)
    if view.status == TestimonialStatus.WITHDRAWN.value:
        return review_pages.page(
            request, "testimonial_withdrawn.html", language=language, view=view
        )
    if view.status in _APPROVED and not errors:
        return review_pages.page(
            request,
            "testimonial_done.html",
            language=language,
            view=view,
            token=token,
            thanks=thanks,
            signature=view.signatures.get(view.attribution or "", ""),
        )
    values = typed or {
        "quote": view.quote,
        "attribution": view.attribution or Attribution.NAME_COMPANY.value,
        "consent": "",
    }
    return review_pages.page(
        request,
        "testimonial_form.html",
        language=language,
        status_code=422 if errors else 200,
        view=view,
        token=token,
        values=values,
        errors=errors or {},
        attributions=[a for a in ATTRIBUTIONS if a in view.signatures],
        quote_min=testimonials.QUOTE_MIN,
        quote_max=testimonials.QUOTE_MAX,
        consent_wording=_consent_wording(request, view.locale),
    )


@get("/testimonial/{token:str}", sync_to_thread=True, name="testimonial-form")
def testimonial_page(request: Request[Any, Any, Any], token: FromPath[str]) -> Template:
    """The form (or, once approved, the approved words); a GET changes nothing."""
    try:
        view = _view(request, token)
    except (TokenError, NotFound) as error:
        return _refused(request, token, error)
    return _render(request, view, token)


@get("/testimonial/{token:str}/thanks", sync_to_thread=True, name="testimonial-thanks")
def thanks_page(request: Request[Any, Any, Any], token: FromPath[str]) -> Template:
    try:
        view = _view(request, token)
    except (TokenError, NotFound) as error:
        return _refused(request, token, error)
    return _render(request, view, token, thanks=True)


def _approve(
    request: Request[Any, Any, Any], token: str, typed: dict[str, str]
) -> tuple[testimonials.TestimonialForm, dict[str, str]]:
    signer = mail_config(request.app).signer
    now = utcnow()
    with session_scope(settings_of(request.app).database_url, write=True) as session:
        view = testimonials.form_view(session, token, signer=signer, today=now.date())
        try:
            testimonials.approve(
                session,
                token,
                signer=signer,
                quote=typed["quote"],
                attribution=typed["attribution"],
                consent=typed["consent"] == "yes",
                now=now,
                wording=_consent_wording(request, view.locale),
                locale=view.locale,
            )
        except InvalidInput as invalid:
            session.rollback()
            return view, {
                p.field: _ERRORS[p.field] for p in invalid.problems if p.field in _ERRORS
            } or {"quote": "err_quote"}
    return view, {}


@post("/testimonial/{token:str}", status_code=303, name="testimonial-approve")
async def approve(request: Request[Any, Any, Any], token: FromPath[str]) -> Redirect | Template:
    """Approve the quote as edited, with the attribution and consent chosen."""
    form = await request.form()
    language = review_pages.browser_language(request)
    limits = [(FORMS_PER_ADDRESS, throttle.client_address(request))]
    refusal = await anyio.to_thread.run_sync(review_pages.throttled, request, limits, language)
    if refusal is not None:
        return refusal
    typed = {name: review_pages.field(form, name) for name in ("quote", "attribution", "consent")}
    try:
        view, errors = await anyio.to_thread.run_sync(_approve, request, token, typed)
    except (TokenError, NotFound) as error:
        return await anyio.to_thread.run_sync(_refused, request, token, error)
    except Conflict:
        # Approved or withdrawn meanwhile (a second tab): the page shows which.
        return Redirect(f"/testimonial/{token}", status_code=303)
    if errors:
        return _render(request, view, token, errors=errors, typed=typed)
    return Redirect(f"/testimonial/{token}/thanks", status_code=303)


@get("/testimonial/{token:str}/withdraw", sync_to_thread=True, name="testimonial-withdraw-page")
def withdraw_page(request: Request[Any, Any, Any], token: FromPath[str]) -> Template:
    """Asks before withdrawing; a GET changes nothing."""
    try:
        view = _view(request, token)
    except (TokenError, NotFound) as error:
        return _refused(request, token, error)
    if view.status == TestimonialStatus.WITHDRAWN.value:
        return _render(request, view, token)
    return review_pages.page(
        request,
        "testimonial_withdraw.html",
        language=language_of(view.locale),
        view=view,
        token=token,
    )


def _withdraw(request: Request[Any, Any, Any], token: str) -> None:
    signer = mail_config(request.app).signer
    with session_scope(settings_of(request.app).database_url, write=True) as session:
        testimonials.withdraw(session, token, by="client", now=utcnow(), signer=signer)


@post("/testimonial/{token:str}/withdraw", status_code=303, name="testimonial-withdraw")
async def withdraw(request: Request[Any, Any, Any], token: FromPath[str]) -> Redirect | Template:
    """Withdraw consent: the quote is gone everywhere; back to the page, which says so."""
    language = review_pages.browser_language(request)
    limits = [(FORMS_PER_ADDRESS, throttle.client_address(request))]
    refusal = await anyio.to_thread.run_sync(review_pages.throttled, request, limits, language)
    if refusal is not None:
        return refusal
    try:
        await anyio.to_thread.run_sync(_withdraw, request, token)
    except (TokenError, NotFound) as error:
        return await anyio.to_thread.run_sync(_refused, request, token, error)
    except Conflict:
        pass  # already withdrawn: the page says so
    return Redirect(f"/testimonial/{token}", status_code=303)


handlers = [testimonial_page, thanks_page, approve, withdraw_page, withdraw]
