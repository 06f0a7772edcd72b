"""E-mail: template storage with versions, the send pipeline, preferences and bounces.

Read campaigns/email/README in the docstrings of each module: `store` (templates),
`pipeline` (sending), `retry` (deferred and interrupted messages), `preferences`
(topics, unsubscribe), `bounces` (relay notifications), `messages` (read side).
"""
