"""The Content-Disposition header of a download, safe for any file name (RFC 6266, RFC 5987).

HTTP headers are Latin-1 on the wire, so a segment called "Résumé 日本" in a
plain `filename="..."` fails to encode (a 500). The header carries an ASCII
fallback for old clients and the real name, percent-encoded as UTF-8, in
`filename*`, which every current browser prefers.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

# RFC 5987 attr-char beyond letters and digits: everything else is percent-encoded.
_ATTR_PUNCTUATION = "!#$&+-.^_`|~"
# Path separators, quotes, control characters: never part of a suggested name.
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\"]+')
_NOT_FALLBACK = re.compile(r"[^A-Za-z0-9._-]")


def attachment(filename: str, *, default: str = "download") -> str:
    """`attachment; filename="<ascii>"; filename*=UTF-8''<utf-8>` for `filename`.

    The ASCII name drops accents ("é" -> "e") and turns other characters into
    "-"; a name left empty becomes `default`.
    """
    name = _UNSAFE.sub("-", unicodedata.normalize("NFC", filename)).strip(" .-") or default
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    fallback = _ascii(stem) or _ascii(default) or "download"
    if suffix and _ascii(suffix):
        fallback = f"{fallback}.{_ascii(suffix)}"
    encoded = quote(name, safe=_ATTR_PUNCTUATION)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _NOT_FALLBACK.sub("-", plain).strip(".-")
