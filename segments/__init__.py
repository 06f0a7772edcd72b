"""Segments: the rule schema and its validation, the compiler to SQL, and membership refresh."""
