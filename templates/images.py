"""Images for e-mail: checked by their content, turned upright, stripped and resized.

`prepare(data, width=...)` takes an upload's bytes and the width (CSS px) of the block
that shows it, and answers the bytes to store: the same format (PNG, JPEG, GIF or
WebP, found from the content, never from a name or a Content-Type), at most twice the
block's width for sharp screens and never wider than the upload, turned upright by
its EXIF orientation, in sRGB, and without metadata (EXIF with its GPS position and
camera serial, XMP, comments, the ICC profile once the colours are converted).

Refusals are InvalidInput naming `file` or `width`. Decoding is the risk, so the
size is checked before any pixel is decoded: at most MAX_BYTES of upload, MAX_PIXELS
per frame (a small file may claim 100,000 x 100,000 pixels, a "decompression bomb")
and MAX_ANIMATION_PIXELS over all frames of an animation.

Animated GIF, WebP and PNG (APNG) keep their frames, timings and loop: each frame is
resized alike. A JPEG with more pictures after the first (MPO, from many cameras) is
its first picture. Pillow hands over each frame whole (already drawn over the previous ones), so
the output is a clean sequence of full frames; its GIF writer stores only the part of
each frame that changed.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageOps, ImageSequence, UnidentifiedImageError

from nurture.errors import InvalidInput

MIN_WIDTH = 16
MAX_WIDTH = 600  # CSS px: the body width of our layouts
SCALE = 2  # pixels per CSS px in the stored image, for high-density screens
MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 48 MP phone photo is 8000 x 6000; 40 MP leaves room for most
MAX_FRAMES = 300
MAX_ANIMATION_PIXELS = 100_000_000
JPEG_QUALITY = 82
WEBP_QUALITY = 82

# Pillow's names for the formats we take, and how they are served.
MEDIA_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
# Pillow's name for a JPEG that carries more pictures after the first (many cameras and
# phones write them): a JPEG, of which the first picture is the photo.
_MULTI_PICTURE = "MPO"
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}
NOT_AN_IMAGE = "is not a PNG, JPEG, GIF or WebP image"
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
# Fast octree: 0.4 ms for a 240 x 135 frame where median cut took 167 ms (a 20-frame
# animation went from 4.4 s to well under one), and dithered it looks alike.
_QUANTIZE = Image.Quantize.FASTOCTREE
_GIF_LONGEST_MS = 0xFFFF * 10
_ORIENTATION = 0x0112  # the EXIF tag
_DIGITS = re.compile(r"[0-9]{1,6}")
_PALETTED = ("image/png", "image/gif")
# Decoders report a damaged file with any of these.
_DAMAGED = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError)


@dataclass(frozen=True, slots=True)
class PreparedImage:
    """What to store and serve: the bytes, their type and size in pixels, their SHA-256."""

    data: bytes
    media_type: str
    width: int
    height: int
    frames: int

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.media_type]


def check_width(width: object) -> int:
    """The block width in CSS px, from a number or its text; InvalidInput naming `width`."""
    if isinstance(width, bool):
        value = None
    elif isinstance(width, int):
        value = width
    elif isinstance(width, str) and _DIGITS.fullmatch(width.strip()):
        value = int(width.strip())
    else:
        value = None
    if value is None or not MIN_WIDTH <= value <= MAX_WIDTH:
        raise InvalidInput.single(
            "width", f"must be a whole number of pixels from {MIN_WIDTH} to {MAX_WIDTH}"
        )
    return value


def prepare(data: bytes, *, width: int) -> PreparedImage:
    """The upload as it is stored for a block `width` CSS px wide (see the module's doc)."""
    width = check_width(width)
    if not data:
        raise InvalidInput.single("file", "is empty")
    if len(data) > MAX_BYTES:
        raise InvalidInput.single(
            "file",
            f"is {_megabytes(len(data))}; the largest image taken is {_megabytes(MAX_BYTES)}",
        )
    try:
        with _open(data) as image:
            return _prepare(image, width * SCALE)
    except InvalidInput:
        raise
    except Image.DecompressionBombError:
        raise _too_many_pixels() from None
    except _DAMAGED:
        raise InvalidInput.single("file", "is damaged or cut short: it cannot be read") from None


def _open(data: bytes) -> Image.Image:
    try:
        # `formats` limits the sniffing to our four: anything else is "not an image".
        image = Image.open(io.BytesIO(data), formats=list(MEDIA_TYPES))
    except UnidentifiedImageError:
        raise InvalidInput.single("file", NOT_AN_IMAGE) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own guard (far above ours) warns, or raises, while opening; where
        # warnings are errors (the tests) the warning arrives raised.
        raise _too_many_pixels() from None
    if image.format not in MEDIA_TYPES and image.format != _MULTI_PICTURE:
        image.close()
        raise InvalidInput.single("file", NOT_AN_IMAGE)
    return image


def _prepare(image: Image.Image, limit: int) -> PreparedImage:
    # Only the header is read so far: refuse what is too big before decoding a pixel.
    w, h = image.size
    if w < 1 or h < 1 or w * h > MAX_PIXELS:
        raise _too_many_pixels((w, h))
    still_jpeg = image.format == _MULTI_PICTURE
    media_type = MEDIA_TYPES["JPEG" if still_jpeg else str(image.format)]
    frames = 1 if still_jpeg else getattr(image, "n_frames", 1)
    if frames > 1:
        if frames > MAX_FRAMES or w * h * frames > MAX_ANIMATION_PIXELS:
            raise InvalidInput.single(
                "file",
                f"is an animation of {frames} frames of {w} x {h} pixels; take at most "
                f"{MAX_FRAMES} frames and {MAX_ANIMATION_PIXELS // 1_000_000} million "
                "pixels in all (make it shorter or smaller)",
            )
        return _animation(image, media_type, limit)
    if media_type == "image/jpeg":
        # Decode a large photo at 1/2, 1/4 or 1/8 scale when that is still wide enough
        # (once upright: a photo lying on its side shows its height as its width).
        sideways = image.getexif().get(_ORIENTATION) in (5, 6, 7, 8)
        shown_w, shown_h = (h, w) if sideways else (w, h)
        wanted = (limit, -(-shown_h * limit // shown_w))
        image.draft("RGB", (wanted[1], wanted[0]) if sideways else wanted)
    upright = ImageOps.exif_transpose(image)
    if upright.mode == "P" and upright.width <= limit and media_type in _PALETTED:
        # A logo or an icon that needs no resizing keeps its palette (and its small size).
        return _encode([upright], media_type, info={})
    return _encode([_fit(_srgb(upright), limit)], media_type, info={})


def _animation(image: Image.Image, media_type: str, limit: int) -> PreparedImage:
    frames: list[Image.Image] = []
    durations: list[int] = []
    for frame in ImageSequence.Iterator(image):
        rgba = frame.convert("RGBA")
        # Read after decoding: the WebP reader sets a frame's duration as it loads it.
        durations.append(int(frame.info.get("duration", 100)))
        frames.append(_fit(rgba, limit))
    # GIF keeps a frame's time in 16 bits of centiseconds, and Pillow's writer adds up
    # the times of frames that came out identical: cap each so that even their sum fits.
    longest = _GIF_LONGEST_MS // len(frames)
    durations = [min(max(d, 0), longest) for d in durations]
    info = {"loop": int(image.info.get("loop", 0)), "duration": durations}
    return _encode(frames, media_type, info=info)


def _srgb(image: Image.Image) -> Image.Image:
    """The image in sRGB without its ICC profile (mail clients mostly ignore profiles,
    and a wide-gamut photo shown as sRGB looks washed out)."""
    profile = image.info.get("icc_profile")
    if not profile or image.mode not in ("RGB", "RGBA"):
        return _plain_mode(image)
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        converted = ImageCms.profileToProfile(image, source, _SRGB, outputMode=image.mode)
    except (ImageCms.PyCMSError, OSError):
        # A broken profile: the pixels are still the best guess.
        converted = None
    return _plain_mode(converted or image)


def _plain_mode(image: Image.Image) -> Image.Image:
    """Palette, 16-bit, CMYK and other modes as RGB(A) or L, which resize and encode alike."""
    if image.mode in ("RGB", "RGBA", "L", "LA"):
        return image
    if image.mode == "P" and "transparency" not in image.info:
        return image.convert("RGB")
    if image.mode in ("P", "PA") or image.has_transparency_data:
        return image.convert("RGBA")
    return image.convert("RGB")


def _fit(image: Image.Image, limit: int) -> Image.Image:
    """At most `limit` pixels wide, keeping the proportions; never enlarged."""
    w, h = image.size
    if w <= limit:
        return image
    height = max(1, round(h * limit / w))
    return image.resize((limit, height), Image.Resampling.LANCZOS, reducing_gap=3.0)


def _encode(
    frames: list[Image.Image], media_type: str, *, info: dict[str, object]
) -> PreparedImage:
    for frame in frames:
        # Writers copy some metadata from `info` (PNG text and EXIF, GIF comments): keep
        # only what draws the picture.
        frame.info = {k: v for k, v in frame.info.items() if k == "transparency"}
    out = io.BytesIO()
    first = frames[0]
    many = len(frames) > 1
    if media_type == "image/jpeg":
        first.convert("RGB" if first.mode != "L" else "L").save(
            out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True
        )
    elif media_type == "image/png":
        # An animated PNG (APNG) stays animated, like GIF and WebP.
        extra = {"save_all": True, "append_images": frames[1:], **info} if many else {}
        first.save(out, "PNG", optimize=True, **extra)
    elif media_type == "image/gif":
        paletted = [_gif_frame(f) for f in frames]
        extra = {"save_all": True, "append_images": paletted[1:], "disposal": 2} if many else {}
        paletted[0].save(out, "GIF", optimize=True, **info, **extra)
    else:
        extra = {"save_all": True, "append_images": frames[1:]} if many else {}
        first.save(out, "WEBP", quality=WEBP_QUALITY, method=4, **info, **extra)
    return PreparedImage(out.getvalue(), media_type, first.width, first.height, len(frames))


def _gif_frame(image: Image.Image) -> Image.Image:
    """A frame in GIF's 256-colour palette; pixels mostly transparent stay transparent
    (Pillow's own RGBA-to-GIF conversion drops transparency)."""
    if image.mode == "P":
        return image
    rgba = image.convert("RGBA")
    alpha = rgba.getchannel("A")
    if alpha.getextrema()[0] == 255:
        return rgba.convert("RGB").quantize(256, method=_QUANTIZE)
    paletted = rgba.convert("RGB").quantize(255, method=_QUANTIZE)
    clear = alpha.point(lambda a: 255 if a < 128 else 0)
    paletted.paste(255, mask=clear)
    paletted.info["transparency"] = 255
    return paletted


def _too_many_pixels(size: tuple[int, int] | None = None) -> InvalidInput:
    found = "" if size is None else f" ({size[0]:,} x {size[1]:,})"
    return InvalidInput.single(
        "file",
        f"has too many pixels{found} to open safely; the largest image taken has "
        f"{MAX_PIXELS // 1_000_000} million pixels",
    )


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"
