"""Public endpoints that recipients reach from their mail, without logging in:
tracked links and the open pixel (`/t/...`), the preferences page (`/u/...`), e-mail
images (`/img/...`)."""

from __future__ import annotations

from litestar import Router

from nurture.web.public import (
    bench,
    images,
    referral_form,
    surveys,
    testimonial_form,
    tracking,
    unsubscribe,
    webinars,
)
from nurture.web.public.state import tracking_lifespan

public_router = Router(
    path="/",
    route_handlers=[
        *tracking.handlers,
        *unsubscribe.handlers,
        *webinars.handlers,
        *surveys.handlers,
        *testimonial_form.handlers,
        *referral_form.handlers,
        *bench.handlers,
        *images.handlers,
    ],
    include_in_schema=False,
)

__all__ = ["public_router", "tracking_lifespan"]
