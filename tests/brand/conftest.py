"""The e-mail fixtures (a real SMTP server on loopback, mail settings) for brand tests."""

from __future__ import annotations

from tests.email.conftest import mail_config, smtp

__all__ = ["mail_config", "smtp"]
