"""Compiled templates, cached by variant id (a variant row never changes once written)."""

from __future__ import annotations

import threading
from collections import OrderedDict

from nurture.models import EmailTemplateVariant
from templates.render import CompiledTemplate, compile_template

_SIZE = 128
_lock = threading.Lock()
_cache: OrderedDict[tuple[int, bool], CompiledTemplate] = OrderedDict()


def compiled_variant(variant: EmailTemplateVariant, *, tracking: bool) -> CompiledTemplate:
    """The variant compiled once per process; safe to share between threads."""
    key = (variant.id, tracking)
    with _lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    # Compiled outside the lock: MJML takes a while, and two threads compiling the
    # same variant at once only waste a little work.
    compiled = compile_template(
        variant.subject, variant.preheader, variant.body, variant.text_body, tracking=tracking
    )
    remember(variant.id, tracking, compiled)
    return compiled


def remember(variant_id: int, tracking: bool, compiled: CompiledTemplate) -> None:
    """Keep an already compiled variant (saving a template compiles it anyway)."""
    with _lock:
        _cache[(variant_id, tracking)] = compiled
        _cache.move_to_end((variant_id, tracking))
        while len(_cache) > _SIZE:
            _cache.popitem(last=False)
