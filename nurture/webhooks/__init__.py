"""Outbound webhooks for the firm's CRM: subscriptions (`subscriptions`), Standard
Webhooks signing (`signing`), queueing events and replays (`queueing`), the body
(`payload`), sending with retries (`delivery`) and the delivery log (`log`)."""
