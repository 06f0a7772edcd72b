"""E-mail rendering: sandboxed MJML + Jinja, tracking, unsubscribe tokens, starter library."""
