"""Lifecycle stages, MQL rules, routing and the hand-off to sales (issue 13)."""
