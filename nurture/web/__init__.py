"""The Litestar application: JSON API, marketer and sales UI, public pages, operations endpoints.

Composition root: it may import every floor; nothing outside `nurture.web` imports it.
"""
