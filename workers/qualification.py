"""Actors for qualification (issue 13): load ids, call the domain."""
