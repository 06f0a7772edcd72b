"""Sequences and broadcasts: steps, enrolment state machine, scheduler, A/B tests, delivery."""
