"""Outbound webhooks for the firm's CRM: subscriptions, Standard Webhooks signing, deliveries."""
