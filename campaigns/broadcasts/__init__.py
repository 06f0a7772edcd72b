"""One-off sends of a template to a segment or list, with an optional test phase (issue 14)."""
