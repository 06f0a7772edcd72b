"""The reader's own link to a webinar's public registration page.

The public page (`/w/{token}`, nurture.web.public.webinars) registers the contact its
signed token names, with one click and no login; there is no anonymous registration
page. So a webinar card in an ordinary e-mail cannot carry one fixed link: the
renderer, which knows the recipient, signs one per recipient (`registration_url`),
and the sandbox's `registration_link` filter writes it where the card asks.
"""

from __future__ import annotations

from collections.abc import Callable

from templates.tokens import TokenSigner

# The recipient a render has no contact for (samples, internal mail): the link is
# well formed and registers nobody (the public page answers "not found").
NO_CONTACT = 0


def registration_url(base_url: str, signer: TokenSigner, contact_id: int, webinar_id: int) -> str:
    """The contact's own link to the public registration page of the webinar."""
    return f"{base_url.rstrip('/')}/w/{signer.webinar(contact_id, webinar_id)}"


def registration_links(
    base_url: str, signer: TokenSigner, contact_id: int | None
) -> Callable[[object], str]:
    """What the renderer hands the `registration_link` filter for one recipient."""
    contact = NO_CONTACT if contact_id is None else contact_id

    def link(webinar_id: object) -> str:
        return registration_url(base_url, signer, contact, _webinar_id(webinar_id))

    return link


def _webinar_id(value: object) -> int:
    # The card writes the id as a quoted number; a hand-written template may not quote it.
    if value == "":
        raise ValueError("registration_link: no webinar is picked")
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"registration_link needs a webinar id, not {value!r}")
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"registration_link needs a webinar id, not {value!r}") from None
    if number < 1:
        raise ValueError(f"registration_link needs a webinar id, not {value!r}")
    return number
