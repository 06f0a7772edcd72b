"""Colour contrast as WCAG 2 defines it: relative luminance of sRGB colours and their ratio.

AA asks for 4.5:1 between text and its background, 3:1 for large text (24 px, or
18.66 px = 14 pt when bold). Colours are read from CSS as templates write them:
#rgb, #rrggbb, rgb(), and the few names people type.
"""

from __future__ import annotations

import math
import re
from typing import TypeAlias

RGB: TypeAlias = tuple[int, int, int]

NORMAL_MINIMUM = 4.5
LARGE_MINIMUM = 3.0
LARGE_PX = 24.0
LARGE_BOLD_PX = 18.66

_NAMES: dict[str, RGB] = {
    "white": (255, 255, 255),
    "black": (0, 0, 0),
    "red": (255, 0, 0),
    "green": (0, 128, 0),
    "blue": (0, 0, 255),
    "gray": (128, 128, 128),
    "grey": (128, 128, 128),
    "silver": (192, 192, 192),
    "yellow": (255, 255, 0),
    "orange": (255, 165, 0),
    "navy": (0, 0, 128),
}
_HEX = re.compile(r"#([0-9a-f]{3}|[0-9a-f]{6})")
_FUNCTION = re.compile(
    r"rgba?\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*(?:,\s*([\d.]+)\s*)?\)"
)
_PX = re.compile(r"([\d.]+)\s*px")


def parse_colour(value: str) -> RGB | None:
    """The colour `value` names, or None when it is not one solid colour we can read
    (transparent, a gradient, a CSS variable, a half-transparent rgba)."""
    text = value.strip().lower().removesuffix("!important").strip()
    hex_match = _HEX.fullmatch(text)
    if hex_match:
        digits = hex_match.group(1)
        if len(digits) == 3:
            digits = "".join(c * 2 for c in digits)
        return (int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16))
    function = _FUNCTION.fullmatch(text)
    if function:
        if function.group(4) is not None and float(function.group(4)) < 1:
            return None
        channels = tuple(min(255, int(function.group(i))) for i in (1, 2, 3))
        return (channels[0], channels[1], channels[2])
    return _NAMES.get(text)


def hex_of(colour: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*colour)


def luminance(colour: RGB) -> float:
    """Relative luminance (0 black .. 1 white) of an sRGB colour."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def ratio(first: RGB, second: RGB) -> float:
    """The contrast ratio of two colours, 1 (none) to 21 (black on white)."""
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def shown(value: float) -> str:
    """A ratio as a reader sees it, rounded down, so a failing 4.499 never shows as 4.5."""
    return f"{math.floor(value * 100) / 100:g}:1"


def parse_px(value: str | None) -> float | None:
    """Pixels from a CSS size such as "16px" (None for em, %, or nothing)."""
    if not value:
        return None
    match = _PX.fullmatch(value.strip().lower())
    return float(match.group(1)) if match else None


def is_bold(weight: str | None) -> bool:
    text = (weight or "").strip().lower()
    return text in ("bold", "bolder") or (text.isdigit() and int(text) >= 700)


def minimum_for(size_px: float | None, weight: str | None) -> float:
    """The AA minimum for text of this size and weight (normal text when unknown)."""
    if size_px is None:
        return NORMAL_MINIMUM
    if size_px >= LARGE_PX or (size_px >= LARGE_BOLD_PX and is_bold(weight)):
        return LARGE_MINIMUM
    return NORMAL_MINIMUM
