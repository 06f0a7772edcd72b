"""Real images made with Pillow for the image tests, and a few made to be refused."""

from __future__ import annotations

import io
import os
import struct
import zlib
from functools import cache
from typing import Any

from PIL import Image

from templates import images

RED = (220, 20, 20)
BLUE = (20, 20, 220)
ORIENTATION = 0x0112
MAKE = 0x010F
GPS_IFD = 0x8825


def encode(image: Image.Image, fmt: str, **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def halves(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """Left half red, right half blue: which way up an image is stays visible."""
    image = Image.new(mode, size, BLUE)
    image.paste(RED, (0, 0, size[0] // 2, size[1]))
    return image


def png(size: tuple[int, int] = (1200, 800), mode: str = "RGB") -> bytes:
    return encode(halves(size, mode), "PNG")


def jpeg_turned(size: tuple[int, int] = (1600, 800)) -> bytes:
    """A JPEG stored sideways with EXIF orientation 6 (turn 90 degrees clockwise to
    show it), a camera make and a GPS block, as phones write them."""
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[MAKE] = "PhoneCam"
    exif.get_ifd(GPS_IFD)[2] = (52.0, 31.0, 12.0)  # GPSLatitude
    return encode(halves(size), "JPEG", exif=exif.tobytes(), quality=90)


def animation(fmt: str, size: tuple[int, int] = (800, 400), count: int = 4) -> bytes:
    frames = [Image.new("RGB", size, (n * 37 % 256, n * 11 % 256, 200)) for n in range(count)]
    durations = [100 + 50 * (n % 4) for n in range(count)]
    return encode(
        frames[0], fmt, save_all=True, append_images=frames[1:], duration=durations, loop=0
    )


def renamed_text() -> bytes:
    """What a file called photo.png holds when it is really text."""
    return b"Quarterly newsletter draft\nNot an image at all, whatever its name says.\n"


def claimed_size(width: int, height: int) -> bytes:
    """A real 1x1 PNG whose header then claims `width` x `height`: a decompression
    bomb's header, without the seconds it takes to compress a real one."""
    data = bytearray(encode(Image.new("L", (1, 1)), "PNG"))
    # The IHDR chunk: length (4), type (4), then width and height; its CRC follows.
    start = 8 + 4
    body = b"IHDR" + struct.pack(">II", width, height) + bytes(data[start + 12 : start + 17])
    data[start : start + 17] = body
    data[start + 17 : start + 21] = struct.pack(">I", zlib.crc32(body))
    return bytes(data)


def real_bomb() -> bytes:
    """48 million one-bit pixels in about 6 KB: every pixel is really there."""
    return encode(Image.new("1", (8000, 6000)), "PNG")


@cache
def oversize() -> bytes:
    """A real PNG of noise (noise does not compress) just over the upload limit."""
    side = 1870
    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    data = encode(image, "PNG", compress_level=0)
    assert len(data) > images.MAX_BYTES
    return data
