"""Compiled templates, cached by variant id (a variant row never changes once written)
and by the subject and preheader an experiment's variant puts in its place."""

from __future__ import annotations

import threading
from collections import OrderedDict

from campaigns.email.overrides import Overrides
from nurture.models import EmailTemplateVariant
from templates.render import CompiledTemplate, compile_template

_SIZE = 128
_lock = threading.Lock()
_Key = tuple[int, bool, str | None, str | None]
_cache: OrderedDict[_Key, CompiledTemplate] = OrderedDict()


def compiled_variant(
    variant: EmailTemplateVariant, *, tracking: bool, overrides: Overrides | None = None
) -> CompiledTemplate:
    """The variant compiled once per process (per overridden subject and preheader);
    safe to share between threads."""
    subject, preheader = overrides.texts if overrides is not None else (None, None)
    key = (variant.id, tracking, subject, preheader)
    with _lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    # Compiled outside the lock: MJML takes a while, and two threads compiling the
    # same variant at once only waste a little work.
    compiled = compile_template(
        variant.subject if subject is None else subject,
        variant.preheader if preheader is None else preheader,
        variant.body,
        variant.text_body,
        tracking=tracking,
    )
    _keep(key, compiled)
    return compiled


def remember(variant_id: int, tracking: bool, compiled: CompiledTemplate) -> None:
    """Keep an already compiled variant (saving a template compiles it anyway)."""
    _keep((variant_id, tracking, None, None), compiled)


def _keep(key: _Key, compiled: CompiledTemplate) -> None:
    with _lock:
        _cache[key] = compiled
        _cache.move_to_end(key)
        while len(_cache) > _SIZE:
            _cache.popitem(last=False)
