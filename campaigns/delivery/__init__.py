"""Delivery channels: SMTP with a connection pool, the capture mailbox, relay webhooks."""
