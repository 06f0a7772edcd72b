"""Nurture: marketing automation and lead nurturing for firms that sell services.

This package holds the core (settings, database, models, event ingest), the
domain modules built on it, and the composition root (web app, CLI).
"""
