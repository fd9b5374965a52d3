"""Stills (photo twins, background images) are read in their own colour profile: an embedded ICC
profile's colours come out as the sRGB the renderer works in, upright, without transparency
(``twins.still``).

Pillow can only make sRGB, LAB and XYZ profiles, so the Display P3 (and a linear grey) profile
these tests tag their pictures with is written here: an ICC v2 matrix/TRC display profile, as
LittleCMS reads it. The expected colours come from the colour science done separately in numpy
(P3 → XYZ → sRGB), so a reader that ignores the profile, or converts it wrong, fails.
"""

from __future__ import annotations

import io
import logging
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms
from pillow_heif import register_heif_opener

from twinstudio.errors import FootageError
from twinstudio.twins.photo import load_image
from twinstudio.twins.still import FLATTEN_ONTO, read_still

# CIE xy of the primaries and white; ICC's D50 PCS white (what the tags are adapted to).
P3_PRIMARIES = ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060))
SRGB_PRIMARIES = ((0.640, 0.330), (0.300, 0.600), (0.150, 0.060))
D65 = (0.3127, 0.3290)
D50_XYZ = np.array([0.9642, 1.0, 0.8249])
BRADFORD = np.array(
    [[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]]
)


def _xyz(xy: tuple[float, float]) -> np.ndarray:
    x, y = xy
    return np.array([x / y, 1.0, (1 - x - y) / y])


def rgb_to_xyz(
    primaries: tuple[tuple[float, float], ...], white: tuple[float, float]
) -> np.ndarray:
    """The 3x3 matrix from linear RGB to XYZ (Y of white = 1) of a colour space."""
    cols = np.stack([_xyz(p) for p in primaries], axis=1)
    return cols * np.linalg.solve(cols, _xyz(white))


def bradford(src_white: np.ndarray, dst_white: np.ndarray) -> np.ndarray:
    """The Bradford chromatic adaptation from one white (XYZ) to another."""
    gain = (BRADFORD @ dst_white) / (BRADFORD @ src_white)
    return np.linalg.inv(BRADFORD) @ np.diag(gain) @ BRADFORD


def srgb_decode(v: np.ndarray) -> np.ndarray:
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def srgb_encode(v: np.ndarray) -> np.ndarray:
    v = np.clip(v, 0.0, 1.0)
    return np.where(v <= 0.0031308, 12.92 * v, 1.055 * v ** (1 / 2.4) - 0.055)


def p3_to_srgb(rgb: tuple[int, int, int]) -> np.ndarray:
    """What a Display P3 colour (8-bit) is in sRGB (8-bit, float, clipped to the gamut)."""
    linear = srgb_decode(np.array(rgb) / 255.0)  # Display P3 uses the sRGB transfer curve
    xyz = rgb_to_xyz(P3_PRIMARIES, D65) @ linear  # both D65: no adaptation between them
    return 255.0 * srgb_encode(np.linalg.solve(rgb_to_xyz(SRGB_PRIMARIES, D65), xyz))


# --- a minimal ICC v2 display profile -----------------------------------------------------------


def _s15(v: float) -> bytes:
    return struct.pack(">i", round(v * 65536))


def _xyz_tag(xyz: np.ndarray) -> bytes:
    return b"XYZ " + bytes(4) + b"".join(_s15(float(c)) for c in xyz)


def _desc_tag(text: str) -> bytes:
    ascii_ = text.encode("ascii") + b"\0"
    # textDescriptionType: ASCII, then empty Unicode and ScriptCode parts (67-byte Mac field).
    return (b"desc" + bytes(4) + struct.pack(">I", len(ascii_)) + ascii_
            + struct.pack(">II", 0, 0) + struct.pack(">HB", 0, 0) + bytes(67))  # fmt: skip


def _curve_tag(curve: np.ndarray) -> bytes:
    table = np.round(np.clip(curve, 0, 1) * 65535).astype(">u2")
    return b"curv" + bytes(4) + struct.pack(">I", len(table)) + table.tobytes()


def icc_profile(colour_space: bytes, tags: dict[bytes, bytes], description: str) -> bytes:
    """An ICC v2.1 display ('mntr') profile of ``colour_space`` ('RGB ', 'GRAY') with ``tags``."""
    tags = {b"desc": _desc_tag(description), **tags, b"cprt": b"text" + bytes(4) + b"none\0"}
    offset = 128 + 4 + 12 * len(tags)
    table, data = [], b""
    for sig, body in tags.items():
        body += bytes(-len(body) % 4)  # each tag starts on a 4-byte boundary
        table.append(struct.pack(">4sII", sig, offset + len(data), len(body)))
        data += body
    size = offset + len(data)
    header = (struct.pack(">I4sI4s4s4s", size, b"\0\0\0\0", 0x02100000, b"mntr", colour_space,
                          b"XYZ ") + bytes(12) + b"acsp" + bytes(24) + struct.pack(">I", 0)
              + b"".join(_s15(float(c)) for c in D50_XYZ))  # fmt: skip
    header += bytes(128 - len(header))
    return header + struct.pack(">I", len(tags)) + b"".join(table) + data


def display_p3_profile() -> bytes:
    """Display P3: the P3 primaries with a D65 white, Bradford-adapted to D50; the sRGB curve."""
    to_xyz_d50 = bradford(_xyz(D65), D50_XYZ) @ rgb_to_xyz(P3_PRIMARIES, D65)
    trc = _curve_tag(srgb_decode(np.linspace(0.0, 1.0, 1024)))
    return icc_profile(
        b"RGB ",
        {b"wtpt": _xyz_tag(D50_XYZ), b"rXYZ": _xyz_tag(to_xyz_d50[:, 0]),
         b"gXYZ": _xyz_tag(to_xyz_d50[:, 1]), b"bXYZ": _xyz_tag(to_xyz_d50[:, 2]),
         b"rTRC": trc, b"gTRC": trc, b"bTRC": trc},
        "Display P3 (test)",
    )  # fmt: skip


def linear_grey_profile() -> bytes:
    """A greyscale profile whose values are linear light (gamma 1.0)."""
    linear = _curve_tag(np.linspace(0.0, 1.0, 256))
    return icc_profile(b"GRAY", {b"wtpt": _xyz_tag(D50_XYZ), b"kTRC": linear}, "Linear grey")


def srgb_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def write_still(path: Path, img: Image.Image, **params: object) -> Path:
    """Save ``img`` to ``path`` (format from the suffix; JPEG at full quality, no subsampling)."""
    if path.suffix == ".jpg":
        params = {"quality": 100, "subsampling": 0, **params}
    elif path.suffix == ".heic":  # lossless; pillow-heif's own writer
        register_heif_opener()
        params = {"quality": -1, "chroma": 444, **params}
    elif path.suffix == ".webp":
        params = {"lossless": True, **params}
    elif path.suffix == ".avif":
        params = {"quality": 100, "subsampling": "4:4:4", **params}
    img.save(path, **params)
    return path


def flat(
    colour: tuple[int, ...], mode: str = "RGB", size: tuple[int, int] = (32, 24)
) -> Image.Image:
    return Image.new(mode, size, colour)


def raw_rgb(path: Path) -> np.ndarray:
    """How the file was read before profiles were applied: its numbers taken as sRGB."""
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"))


# --- the tests ----------------------------------------------------------------------------------

P3_MID = (200, 80, 60)


def test_the_written_profiles_are_ones_littlecms_accepts() -> None:
    p3 = ImageCms.ImageCmsProfile(io.BytesIO(display_p3_profile()))
    assert ImageCms.getProfileDescription(p3).strip() == "Display P3 (test)"
    grey = ImageCms.ImageCmsProfile(io.BytesIO(linear_grey_profile()))
    assert ImageCms.getProfileDescription(grey).strip() == "Linear grey"


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".heic", ".avif", ".webp"])
def test_display_p3_colours_come_out_as_their_srgb(tmp_path: Path, suffix: str) -> None:
    img = flat(P3_MID)
    img.paste((255, 0, 0), (0, 0, 16, 24))  # P3's pure red, outside sRGB's gamut
    path = write_still(tmp_path / f"p3{suffix}", img, icc_profile=display_p3_profile())
    read = read_still(path)
    assert read.shape == (24, 32, 3) and read.dtype == np.uint8
    rgb, expected = read.astype(int), p3_to_srgb(P3_MID)
    assert np.abs(rgb[12, 24] - expected).max() <= 3, (rgb[12, 24], expected)
    # The untagged reading (the numbers as sRGB) is off by more than a glance's worth.
    assert np.abs(raw_rgb(path)[12, 24].astype(int) - expected).max() > 5
    # Out of gamut: clipped to sRGB's most saturated red.
    assert np.abs(rgb[12, 4] - (255, 0, 0)).max() <= 3, rgb[12, 4]


def test_srgb_tagged_image_is_unchanged(tmp_path: Path) -> None:
    colours = np.random.default_rng(3).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    path = write_still(tmp_path / "srgb.png", Image.fromarray(colours), icc_profile=srgb_profile())
    assert np.abs(read_still(path).astype(int) - colours).max() <= 1


def test_untagged_image_is_read_as_it_is(tmp_path: Path) -> None:
    colours = np.random.default_rng(4).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    path = write_still(tmp_path / "plain.png", Image.fromarray(colours))
    assert np.array_equal(read_still(path), colours)


def test_grey_profile_applies_and_gives_three_channels(tmp_path: Path) -> None:
    path = write_still(tmp_path / "grey.png", flat(128, "L"), icc_profile=linear_grey_profile())
    rgb = read_still(path)
    assert rgb.shape == (24, 32, 3)
    expected = 255.0 * float(srgb_encode(np.array(128 / 255)))  # linear half grey ≈ 188
    assert np.abs(rgb[5, 5].astype(float) - expected).max() <= 3, rgb[5, 5]


def test_greyscale_without_profile_reads_as_three_equal_channels(tmp_path: Path) -> None:
    rgb = read_still(write_still(tmp_path / "grey.jpg", flat(90, "L")))
    assert rgb.shape == (24, 32, 3)
    assert np.abs(rgb[5, 5].astype(int) - 90).max() <= 1


def test_transparency_is_flattened_onto_white(tmp_path: Path) -> None:
    img = flat((10, 20, 30, 0), "RGBA")  # see-through, with dark junk under it
    img.paste((200, 40, 40, 255), (0, 0, 16, 24))  # opaque red on the left
    img.paste((0, 0, 0, 128), (16, 0, 24, 24))  # half see-through black
    rgb = read_still(write_still(tmp_path / "cutout.png", img)).astype(int)
    assert tuple(rgb[5, 28]) == FLATTEN_ONTO == (255, 255, 255)
    assert tuple(rgb[5, 5]) == (200, 40, 40)
    assert np.abs(rgb[5, 20] - 127).max() <= 1  # half black over white


def test_grey_with_alpha_and_palette_transparency_are_flattened(tmp_path: Path) -> None:
    grey = flat((60, 0), "LA")
    grey.paste((60, 255), (0, 0, 16, 24))
    rgb = read_still(write_still(tmp_path / "la.png", grey)).astype(int)
    assert tuple(rgb[5, 5]) == (60, 60, 60) and tuple(rgb[5, 28]) == (255, 255, 255)

    palette = flat((0, 0, 0), "RGB").convert("P")  # index 0 is black
    palette.paste(1, (0, 0, 16, 24))
    palette.putpalette([0, 0, 0, 30, 160, 90] + [0] * 762)
    path = write_still(tmp_path / "p.png", palette, transparency=0)
    rgb = read_still(path).astype(int)
    assert tuple(rgb[5, 5]) == (30, 160, 90) and tuple(rgb[5, 28]) == (255, 255, 255)


def test_palette_image_without_transparency(tmp_path: Path) -> None:
    palette = flat((30, 160, 90)).convert("P", palette=Image.Palette.ADAPTIVE)
    rgb = read_still(write_still(tmp_path / "p.gif", palette))
    assert rgb.shape == (24, 32, 3) and tuple(rgb[5, 5]) == (30, 160, 90)


def test_sixteen_bit_png_is_scaled_not_clipped(tmp_path: Path) -> None:
    import cv2

    grey = np.full((24, 32), 0x8080, np.uint16)  # half grey: 128 in 8 bits
    path = tmp_path / "grey16.png"
    Image.fromarray(grey).save(path)
    assert np.array_equal(read_still(path)[5, 5], (128, 128, 128))

    colour = np.zeros((24, 32, 3), np.uint16)
    colour[:] = (0x1010, 0x8080, 0xF0F0)  # BGR for cv2
    path = tmp_path / "colour16.png"
    cv2.imwrite(str(path), colour)
    assert np.array_equal(read_still(path)[5, 5], (240, 128, 16))


def test_ten_bit_heic_is_scaled_to_eight_bits(tmp_path: Path) -> None:
    """An iPhone's 10-bit HEIC ("heix"): scaled, not clipped or cut to its low bits."""
    import pillow_heif

    grey = np.full((24, 32, 3), 40000, np.uint16)  # 0.61 of full scale
    heif = pillow_heif.from_bytes(mode="RGB;16", size=(32, 24), data=grey.tobytes())
    path = tmp_path / "ten.heic"
    heif.save(path, quality=-1)
    assert path.read_bytes()[8:12] == b"heix"
    rgb = read_still(path)
    assert rgb.dtype == np.uint8 and np.abs(rgb.astype(int) - 156).max() <= 2


def test_cmyk_jpeg_without_profile_reads_as_rgb(tmp_path: Path) -> None:
    rgb = read_still(write_still(tmp_path / "cmyk.jpg", flat((0, 255, 255, 0), "CMYK")))
    assert rgb.shape == (24, 32, 3) and rgb.dtype == np.uint8
    assert np.abs(rgb[5, 5].astype(int) - (255, 0, 0)).max() <= 3  # no cyan: red


def test_exif_orientation_is_applied_before_the_profile(tmp_path: Path) -> None:
    img = flat(P3_MID, size=(40, 20))
    img.paste((0, 0, 255), (0, 0, 8, 20))  # a blue band on the left edge
    exif = img.getexif()
    exif[0x0112] = 6  # "rotate 90° clockwise to view"
    path = write_still(tmp_path / "turned.jpg", img, exif=exif, icc_profile=display_p3_profile())
    rgb = read_still(path).astype(int)
    assert rgb.shape == (40, 20, 3)
    assert rgb[2, 10, 2] > 200 and rgb[2, 10, 0] < 60  # the left edge is now the top
    assert np.abs(rgb[30, 10] - p3_to_srgb(P3_MID)).max() <= 3  # and still converted


def test_broken_profile_falls_back_to_the_plain_reading(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_still(tmp_path / "broken.png", flat(P3_MID), icc_profile=b"not a profile" * 20)
    with caplog.at_level(logging.WARNING, logger="twinstudio.twins.still"):
        rgb = read_still(path)
    assert tuple(rgb[5, 5]) == P3_MID
    assert any("colour profile" in r.getMessage() for r in caplog.records)


def test_profile_of_the_wrong_colour_space_falls_back(tmp_path: Path) -> None:
    path = write_still(tmp_path / "mismatch.png", flat(P3_MID), icc_profile=linear_grey_profile())
    assert tuple(read_still(path)[5, 5]) == P3_MID


def test_unreadable_file_is_not_an_image(tmp_path: Path) -> None:
    fake = tmp_path / "face.jpg"
    fake.write_text("not an image")
    with pytest.raises(FootageError) as err:
        read_still(fake)
    assert err.value.code == "not_an_image" and "face.jpg" in err.value.message
    assert "JPEG, PNG, HEIC" in err.value.message


@pytest.mark.parametrize("suffix", [".png", ".heic"])
def test_truncated_file_is_not_an_image(tmp_path: Path, suffix: str) -> None:
    path = write_still(tmp_path / f"cut{suffix}", flat(P3_MID, size=(300, 300)))
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    with pytest.raises(FootageError) as err:
        read_still(path)
    assert err.value.code == "not_an_image"


def test_photo_twin_reads_its_photo_in_its_profile(tmp_path: Path) -> None:
    path = write_still(tmp_path / "me.png", flat(P3_MID), icc_profile=display_p3_profile())
    assert np.abs(load_image(path)[5, 5].astype(int) - p3_to_srgb(P3_MID)).max() <= 3
    fake = tmp_path / "me.jpg"
    fake.write_text("nope")
    with pytest.raises(FootageError, match="portrait photo"):
        load_image(fake)


def test_an_image_too_large_to_decode_safely_is_refused_with_advice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pillow's decompression-bomb guard (images over twice its pixel limit) is a clear
    not_an_image with the size to aim for, not an internal error."""
    from PIL import Image

    path = tmp_path / "huge.png"
    Image.new("RGB", (64, 64), (10, 20, 30)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 4,096 pixels > 2 × 1,000
    with pytest.raises(FootageError) as err:
        read_still(path, what="portrait photo")
    assert err.value.code == "not_an_image"
    assert "too large" in err.value.message and "megapixels" in err.value.message
