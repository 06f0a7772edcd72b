"""Actors for webhooks (issue 13): load ids, call the domain."""
