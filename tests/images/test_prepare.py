"""templates.images.prepare: what an upload becomes before it is stored, and what is refused."""

from __future__ import annotations

import pytest
from PIL import Image, ImageCms, PngImagePlugin

from nurture.errors import InvalidInput
from templates import images
from tests.images.samples import (
    BLUE,
    RED,
    animation,
    claimed_size,
    encode,
    halves,
    jpeg_turned,
    opened,
    oversize,
    png,
    real_bomb,
    renamed_text,
)


def refusal(data: bytes, width: object = 300) -> tuple[str, str]:
    with pytest.raises(InvalidInput) as caught:
        images.prepare(data, width=images.check_width(width))
    [problem] = caught.value.problems
    return problem.field, problem.message


def alpha(image: Image.Image, xy: tuple[int, int]) -> int:
    pixel = image.getpixel(xy)
    assert isinstance(pixel, tuple)
    return pixel[3]


def near(pixel: object, colour: tuple[int, int, int]) -> bool:
    assert isinstance(pixel, tuple)
    return all(abs(a - b) < 40 for a, b in zip(pixel[:3], colour, strict=True))


def test_a_png_is_resized_to_twice_the_block_width_and_stays_a_png() -> None:
    prepared = images.prepare(png((1200, 800)), width=300)
    assert (prepared.media_type, prepared.width, prepared.height) == ("image/png", 600, 400)
    stored = opened(prepared.data)
    assert (stored.format, stored.size) == ("PNG", (600, 400))
    assert prepared.extension == "png"


def test_an_image_narrower_than_twice_the_block_is_never_enlarged() -> None:
    prepared = images.prepare(png((180, 90)), width=600)
    assert (prepared.width, prepared.height) == (180, 90)


def test_a_transparent_png_keeps_its_transparency() -> None:
    image = Image.new("RGBA", (800, 400), (0, 0, 0, 0))
    image.paste((200, 0, 0, 255), (0, 0, 400, 400))
    stored = opened(images.prepare(encode(image, "PNG"), width=100).data).convert("RGBA")
    assert stored.size == (200, 100)
    assert alpha(stored, (10, 50)) == 255
    assert alpha(stored, (190, 50)) == 0


def test_a_jpeg_is_turned_upright_by_its_exif_orientation_and_loses_its_exif() -> None:
    # Stored 1600 x 800 lying on its side; shown upright it is 800 x 1600, red on top.
    prepared = images.prepare(jpeg_turned((1600, 800)), width=200)
    stored = opened(prepared.data)
    assert (stored.format, stored.size) == ("JPEG", (400, 800))
    assert near(stored.getpixel((200, 100)), RED)
    assert near(stored.getpixel((200, 700)), BLUE)
    assert "exif" not in stored.info
    assert dict(stored.getexif()) == {}


def test_png_text_chunks_and_colour_profiles_are_not_kept() -> None:
    text = PngImagePlugin.PngInfo()
    text.add_text("Author", "Ada Lovelace, 12 Secret Lane")
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encode(halves((400, 200)), "PNG", pnginfo=text, icc_profile=profile)
    assert opened(data).info.get("Author")
    stored = opened(images.prepare(data, width=100).data)
    assert "Author" not in stored.info
    assert "icc_profile" not in stored.info


def test_a_still_gif_stays_a_gif_with_its_transparent_colour() -> None:
    image = Image.new("P", (600, 300), 0)
    image.putpalette([255, 255, 255, 200, 0, 0] + [0] * 762)
    image.paste(1, (0, 0, 300, 300))
    data = encode(image, "GIF", transparency=0, comment=b"made by a secret tool")
    prepared = images.prepare(data, width=100)
    stored = opened(prepared.data)
    assert (stored.format, stored.size) == ("GIF", (200, 100))
    assert "comment" not in stored.info
    rgba = stored.convert("RGBA")
    assert alpha(rgba, (20, 50)) == 255
    assert alpha(rgba, (180, 50)) == 0


@pytest.mark.parametrize(("fmt", "media_type"), [("GIF", "image/gif"), ("WEBP", "image/webp")])
def test_an_animation_keeps_its_frames_timings_and_loop_when_resized(
    fmt: str, media_type: str
) -> None:
    prepared = images.prepare(animation(fmt, (800, 400), count=4), width=100)
    assert (prepared.media_type, prepared.width, prepared.height) == (media_type, 200, 100)
    assert prepared.frames == 4
    stored = opened(prepared.data)
    assert getattr(stored, "n_frames", 1) == 4
    assert stored.info.get("loop") == 0
    durations = []
    for n in range(4):
        stored.seek(n)
        stored.load()
        assert stored.size == (200, 100)
        durations.append(stored.info["duration"])
    assert durations == [100, 150, 200, 250]


def test_a_webp_is_resized_and_stays_a_webp() -> None:
    prepared = images.prepare(encode(halves((1000, 500)), "WEBP"), width=250)
    assert (prepared.media_type, prepared.width, prepared.height) == ("image/webp", 500, 250)
    assert opened(prepared.data).format == "WEBP"


def test_the_same_upload_gives_the_same_bytes_and_digest() -> None:
    first = images.prepare(jpeg_turned(), width=300)
    again = images.prepare(jpeg_turned(), width=300)
    assert first.data == again.data
    assert first.digest == again.digest
    assert len(first.digest) == 64


def test_a_text_file_named_like_an_image_is_refused_by_its_content() -> None:
    field, message = refusal(renamed_text())
    assert field == "file"
    assert "not a PNG, JPEG, GIF or WebP image" in message


@pytest.mark.parametrize("fmt", ["BMP", "TIFF", "ICO"])
def test_real_images_in_other_formats_are_refused(fmt: str) -> None:
    assert refusal(encode(halves((64, 64)), fmt))[0] == "file"


def test_a_real_decompression_bomb_is_refused_before_it_is_decoded() -> None:
    data = real_bomb()
    assert len(data) < 10_000
    field, message = refusal(data)
    assert field == "file"
    assert "too many pixels (8,000 x 6,000)" in message


@pytest.mark.parametrize(
    "size",
    [
        (9_000, 9_000),  # over our limit, under Pillow's own warning
        (10_000, 10_000),  # over Pillow's warning
        (100_000, 100_000),  # over Pillow's error
    ],
)
def test_a_header_claiming_too_many_pixels_is_refused_with_a_clear_error(
    size: tuple[int, int],
) -> None:
    field, message = refusal(claimed_size(*size))
    assert field == "file"
    assert "too many pixels" in message


def test_an_animation_with_too_many_frames_is_refused() -> None:
    frames = images.MAX_FRAMES + 1
    field, message = refusal(animation("GIF", (16, 16), count=frames))
    assert field == "file"
    assert f"animation of {frames} frames" in message


def test_a_file_over_the_size_limit_is_refused_naming_the_limit() -> None:
    field, message = refusal(oversize())
    assert field == "file"
    assert "the largest image taken is 10.0 MB" in message


def test_an_empty_or_cut_short_file_is_refused() -> None:
    assert refusal(b"") == ("file", "is empty")
    whole = encode(halves((600, 400)), "PNG")
    field, message = refusal(whole[: len(whole) // 2])
    assert field == "file"
    assert "damaged or cut short" in message


@pytest.mark.parametrize("width", [0, 15, 601, "abc", "", "1e3", "٣٠٠", True, None, "9" * 5000])
def test_a_width_outside_16_to_600_is_refused_naming_width(width: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        images.check_width(width)
    assert [p.field for p in caught.value.problems] == ["width"]


@pytest.mark.parametrize(("width", "value"), [(16, 16), ("600", 600), (" 300 ", 300)])
def test_a_width_may_come_as_a_number_or_its_text(width: object, value: int) -> None:
    assert images.check_width(width) == value


def test_frames_that_come_out_identical_never_overflow_the_gif_frame_time() -> None:
    # Pillow's writer merges identical frames and adds their times; 16 bits of
    # centiseconds hold 655 s. Two 400-second frames that differ by one pixel come out
    # identical once 20 times smaller, and their times together would not fit.
    frames = []
    for n in range(2):
        frame = Image.new("RGB", (640, 320), RED)
        frame.putpixel((0, 0), (220 + n % 2 * 8, 20, 20))
        frames.append(frame)
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=400_000)
    assert getattr(opened(data), "n_frames", 1) == 2
    stored = opened(images.prepare(data, width=16).data)
    assert (stored.format, stored.size) == ("GIF", (32, 16))


@pytest.mark.parametrize(
    ("mode", "fmt", "stored_mode"),
    [
        ("CMYK", "JPEG", "RGB"),
        ("L", "JPEG", "L"),
        ("I;16", "PNG", "RGB"),
        ("LA", "PNG", "LA"),
        ("1", "PNG", "RGB"),
        ("RGBA", "WEBP", "RGBA"),
    ],
)
def test_other_colour_modes_come_out_resized_in_a_mode_mail_clients_show(
    mode: str, fmt: str, stored_mode: str
) -> None:
    prepared = images.prepare(encode(Image.new(mode, (900, 300)), fmt), width=150)
    stored = opened(prepared.data)
    assert (stored.format, stored.mode, stored.size) == (fmt, stored_mode, (300, 100))


def test_an_animated_png_stays_animated() -> None:
    frames = [Image.new("RGB", (400, 200), (60 * n, 0, 0)) for n in range(3)]
    data = encode(frames[0], "PNG", save_all=True, append_images=frames[1:], duration=120, loop=0)
    prepared = images.prepare(data, width=100)
    stored = opened(prepared.data)
    assert (prepared.frames, getattr(stored, "n_frames", 1)) == (3, 3)
    assert (stored.format, stored.size) == ("PNG", (200, 100))


def test_a_camera_jpeg_with_a_second_picture_is_taken_as_its_first() -> None:
    # MPO: what many cameras write (a preview or a second lens after the photo).
    data = encode(halves((900, 300)), "MPO", save_all=True, append_images=[halves((90, 30))])
    assert opened(data).format == "MPO"
    prepared = images.prepare(data, width=150)
    stored = opened(prepared.data)
    assert (prepared.media_type, prepared.frames) == ("image/jpeg", 1)
    assert (stored.format, stored.size) == ("JPEG", (300, 100))
