"""The Litestar application: JSON API, marketer and sales UI, public pages, operations endpoints."""
