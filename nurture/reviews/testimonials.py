"""Testimonials: the request, the client's approval with consent, the library, withdrawal."""

from __future__ import annotations
