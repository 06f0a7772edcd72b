"""Referral codes, the public submission and its refusals, statuses, rewards."""

from __future__ import annotations
