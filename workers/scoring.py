"""Actors for scoring (issue 13): load ids, call the domain."""
