"""The reviews settings row: referral sequence, thank-you stages and template, reward."""

from __future__ import annotations
