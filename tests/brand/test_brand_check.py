"""What Settings → Brand accepts, and how each refusal names its field."""

from __future__ import annotations

import pytest

from campaigns.email.brand import FONTS, BrandForm, check, contrast_with_white, over
from campaigns.email.mailconfig import default_brand, lettermark

BASE_URL = "https://mail.firm.example"


def problems_of(**values: str) -> dict[str, str]:
    _, problems = check(values, base_url=BASE_URL)
    return {p.field: p.message for p in problems}


def test_contrast_is_wcag_relative_luminance() -> None:
    assert contrast_with_white("#000000") == pytest.approx(21.0)
    assert contrast_with_white("#ffffff") == pytest.approx(1.0)
    # #767676 is the lightest grey that passes AA on white.
    assert contrast_with_white("#767676") == pytest.approx(4.54, abs=0.01)
    assert contrast_with_white("#777777") < 4.5


def test_a_good_brand_is_cleaned_and_accepted() -> None:
    form, problems = check(
        {
            "name": "  Keller   Brandt ",
            "color": "#1D4ED8",
            "logo_url": "https://cdn.firm.example/logo.png",
            "address": "1 Main St\n Vienna",
            "font": "georgia",
        },
        base_url=BASE_URL,
    )
    assert problems == []
    assert form == BrandForm(
        name="Keller Brandt",
        color="#1d4ed8",
        logo_url="https://cdn.firm.example/logo.png",
        address="1 Main St Vienna",
        font="georgia",
    )
    assert check({}, base_url=BASE_URL) == (BrandForm(), [])


@pytest.mark.parametrize(
    ("color", "words"),
    [
        ("#ffcc00", "too light for white button text: contrast 1.51:1"),
        ("#777777", "at least 4.5:1"),
        ("blue", "# and six hex digits"),
        ("#12345", "# and six hex digits"),
        ("#1234567", "# and six hex digits"),
        ("#12345g", "# and six hex digits"),
        ("red;}", "# and six hex digits"),
    ],
)
def test_a_colour_too_light_or_malformed_is_refused(color: str, words: str) -> None:
    assert words in problems_of(color=color)["color"]


@pytest.mark.parametrize(
    "url",
    [
        "http://cdn.firm.example/logo.png",
        "javascript:alert(1)",
        "data:image/svg+xml;base64,PHN2Zz4=",
        "https://",
        "https://[oops/logo.png",
        "//cdn.firm.example/logo.png",
        "/img/abc.png",
        "https://cdn.firm.example/a logo.png",
        "https://" + "a" * 2000 + ".example/x.png",
    ],
)
def test_a_logo_must_be_https_or_one_of_our_images(url: str) -> None:
    assert "logo_url" in problems_of(logo_url=url)


def test_an_uploaded_image_here_is_a_logo_even_when_the_site_is_plain_http() -> None:
    _, problems = check(
        {"logo_url": "http://localhost:8000/img/ab12.png"}, base_url="http://localhost:8000/"
    )
    assert problems == []


def test_fonts_come_from_the_fixed_list_and_other_fields_are_named() -> None:
    found = problems_of(font="Comic Sans", name="x" * 201, address="y" * 501, colour="#000000")
    assert found["font"].startswith("must be one of: System")
    assert found["name"] == "must be at most 200 characters"
    assert found["address"] == "must be at most 500 characters"
    assert found["colour"] == "is not a brand setting"
    assert "NUL" in problems_of(name="a\x00b")["name"]


def test_saved_fields_replace_the_defaults_and_empty_ones_keep_them() -> None:
    base = {
        "name": "Nurture",
        "color": "#2453d4",
        "logo_url": "data:x",
        "address": "",
        "font_family": "Brand, sans-serif",
        "font_url": "https://fonts.example/brand.css",
    }
    assert over(base, BrandForm()) == base
    brand = over(base, BrandForm(name="Keller", color="#1d4ed8", font="verdana"))
    assert brand == {
        **base,
        "name": "Keller",
        "color": "#1d4ed8",
        "font_family": FONTS["verdana"][1],
        "font_url": "",
    }


def test_the_default_lettermark_follows_a_saved_name_and_colour() -> None:
    base = default_brand("Nurture")
    brand = over(base, BrandForm(name="Keller", color="#1d4ed8"))
    assert brand["logo_url"] == lettermark("Keller", "#1d4ed8")
    assert brand["logo_url"] != base["logo_url"]
    own = over(base, BrandForm(name="Keller", logo_url="https://cdn.keller.example/l.png"))
    assert own["logo_url"] == "https://cdn.keller.example/l.png"
    # A configured logo of the firm's own is kept.
    theirs = {**base, "logo_url": "https://cdn.firm.example/logo.png"}
    assert over(theirs, BrandForm(name="Keller"))["logo_url"] == theirs["logo_url"]
