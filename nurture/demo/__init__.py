"""The demo consultancy that `nurture demo` and `make run` load: generated, deterministic data.

Composition root: it may use every floor, and nothing below imports it.
"""
