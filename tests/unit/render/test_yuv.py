"""I420 pictures: conversions, and every edit the renderer makes in the planes against doing the
same edit in RGB and converting (what the pipeline did before it kept frames in YUV)."""

from __future__ import annotations

import av
import cv2
import numpy as np
import pytest

from twinstudio.render import yuv

# The float BT.601 limited-range matrix (RGB 0..255 → Y, Cb, Cr offsets 16, 128, 128).
_KR, _KB = 0.299, 0.114
_KG = 1.0 - _KR - _KB
_M = np.array(
    [
        [_KR, _KG, _KB],
        [-_KR / (1 - _KB) / 2, -_KG / (1 - _KB) / 2, 0.5],
        [0.5, -_KG / (1 - _KR) / 2, -_KB / (1 - _KR) / 2],
    ]
) * np.array([[219 / 255], [224 / 255], [224 / 255]])


def _scene(size: tuple[int, int], seed: int = 0) -> np.ndarray:
    """Footage-like RGB: smooth gradients, a sharp-edged disc, a little noise."""
    w, h = size
    ys, xs = np.mgrid[:h, :w].astype(np.float32)
    rgb = np.dstack([128 + 100 * np.sin(xs / 23 + seed), 128 + 90 * np.cos(ys / 17),
                     128 + 80 * np.sin((xs + ys) / 31)])  # fmt: skip
    rgb += np.random.default_rng(seed).normal(0, 3, rgb.shape)
    out = np.clip(rgb, 0, 255).astype(np.uint8)
    cv2.circle(out, (w // 2, h // 2), min(w, h) // 4, (230, 40, 60), -1)
    return out


def _diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a.astype(int) - b.astype(int))


def test_from_rgb_matches_swscale_bt601() -> None:
    from av.video.reformatter import ColorRange, Colorspace

    rng = np.random.default_rng(3)
    small = rng.integers(0, 256, (18, 32, 3), dtype=np.uint8)
    rgb = cv2.resize(small, (256, 144), interpolation=cv2.INTER_LINEAR)
    ours = yuv.from_rgb(rgb)
    picture = av.VideoFrame.from_ndarray(rgb, format="rgb24")
    converted = picture.reformat(
        format="yuv420p",
        src_colorspace=Colorspace.ITU601,
        dst_colorspace=Colorspace.ITU601,
        src_color_range=ColorRange.JPEG,
        dst_color_range=ColorRange.MPEG,
    )
    ref = converted.to_ndarray().astype(int)
    assert ours.shape == ref.shape == (216, 256)
    assert np.abs(ours[:144] - ref[:144]).max() <= 1  # luma
    assert np.abs(ours[144:] - ref[144:]).mean() < 1.0  # chroma (siting differs a little)
    white = yuv.from_rgb(np.full((4, 4, 3), 255, np.uint8))
    black = yuv.from_rgb(np.zeros((4, 4, 3), np.uint8))
    assert white[0, 0] == 235 and black[0, 0] == 16 and white[4, 0] == 128  # limited range


def test_from_rgb_matches_the_bt601_formula() -> None:
    """Luma per pixel and chroma of each 2×2 block, against the float BT.601 limited-range
    formula (±1): the matrix the MP4 is tagged with (SMPTE 170M)."""
    rng = np.random.default_rng(7)
    rgb = rng.integers(0, 256, (64, 96, 3), dtype=np.uint8)
    ours = yuv.from_rgb(rgb).astype(int)
    full = rgb.astype(np.float64) @ _M.T + np.array([16.0, 128.0, 128.0])
    blocks = full.reshape(32, 2, 48, 2, 3).mean(axis=(1, 3))
    assert np.abs(ours[:64] - np.round(full[:, :, 0])).max() <= 1
    _, u, v = yuv.planes(ours)
    for plane, channel in ((u, 1), (v, 2)):  # Cb, Cr
        err = np.abs(plane - blocks[:, :, channel])
        assert err.max() <= 1.5 and err.mean() < 0.5  # averaged, not one pixel per block


def test_round_trip_and_planes() -> None:
    rgb = _scene((64, 48))
    picture = yuv.from_rgb(rgb)
    assert yuv.size_of(picture) == (64, 48) and yuv.is_picture(picture)
    y, u, v = yuv.planes(picture)
    assert y.shape == (48, 64) and u.shape == v.shape == (24, 32)
    assert np.shares_memory(u, picture) and np.shares_memory(v, picture)
    both = yuv.chroma(picture)
    assert np.array_equal(both[:24], u) and np.array_equal(both[24:], v)
    back = yuv.to_rgb(picture)
    assert _diff(cv2.GaussianBlur(back, (5, 5), 0), cv2.GaussianBlur(rgb, (5, 5), 0)).mean() < 2


def test_blend_over_matches_a_float_blend() -> None:
    for seed in (0, 20):  # a thin band (sparse path) and a very soft one (dense)
        front = np.random.default_rng(1).integers(0, 256, (120, 160, 3), dtype=np.uint8)
        behind = np.random.default_rng(2).integers(0, 256, (120, 160, 3), dtype=np.uint8)
        alpha = np.zeros((120, 160), np.uint8)
        cv2.ellipse(alpha, (80, 60), (40, 40), 0, 0, 360, (255,), -1)
        alpha = cv2.GaussianBlur(alpha, (0, 0), 1 + seed)
        a = alpha.astype(np.float64)[:, :, None] / 255
        expected = np.round(front * a + behind * (1 - a))
        out = yuv.blend_over(front, behind, alpha)
        assert out.dtype == np.uint8 and out.shape == front.shape
        assert np.abs(out.astype(int) - expected).max() <= 1
        assert np.array_equal(out[alpha == 255], front[alpha == 255])
        assert np.array_equal(out[alpha == 0], behind[alpha == 0])
        single = yuv.blend_over(front[:, :, 0].copy(), behind[:, :, 0].copy(), alpha)
        assert np.array_equal(single, out[:, :, 0])  # one channel: the same arithmetic
        in_place = front.copy()
        assert yuv.blend_over(in_place, behind, alpha, in_place) is in_place
        assert np.array_equal(in_place, out)


def test_blend_pictures_is_the_rgb_blend_converted() -> None:
    front_rgb, behind_rgb = _scene((128, 96), 3), np.full((96, 128, 3), (47, 111, 176), np.uint8)
    alpha = np.zeros((96, 128), np.uint8)
    cv2.ellipse(alpha, (64, 48), (30, 36), 0, 0, 360, (255,), -1)
    alpha = cv2.GaussianBlur(alpha, (0, 0), 2)
    out = yuv.blend_pictures(yuv.from_rgb(front_rgb), yuv.from_rgb(behind_rgb), alpha)
    a = alpha.astype(np.float64)[:, :, None] / 255
    expected = yuv.from_rgb(np.round(front_rgb * a + behind_rgb * (1 - a)).astype(np.uint8))
    y, u, v = yuv.planes(out)
    ey, eu, ev = yuv.planes(expected)
    # One level for the blend (two rounded products), one for rounding the conversion.
    assert _diff(y, ey).max() <= 2 and _diff(y, ey).mean() < 0.1
    assert _diff(u, eu).max() <= 2 and _diff(v, ev).max() <= 2
    by, _, _ = yuv.planes(yuv.from_rgb(behind_rgb))
    assert np.array_equal(y[alpha == 0], by[alpha == 0])


@pytest.mark.parametrize("where", ["middle", "odd edge", "nothing", "everything"])
def test_blend_onto_is_blend_pictures_exactly(where: str) -> None:
    """Only the person's box is blended, the rest copied or filled: the same bytes as the dense
    blend, onto a flat colour (table) or a picture (copied), wherever the box lies."""
    size = (128, 96)
    front = yuv.from_rgb(_scene(size, 5))
    gradient = yuv.from_rgb(_scene(size, 9))
    colour = yuv.colour_of((47, 111, 176))
    flat = yuv.new(size)
    yuv.fill(flat, (0, 0, *size), colour)
    alpha = np.zeros((96, 128), np.uint8)
    if where == "middle":
        cv2.ellipse(alpha, (60, 50), (21, 30), 0, 0, 360, (255,), -1)
    elif where == "odd edge":  # odd first row/column, the box reaching the right and bottom
        cv2.ellipse(alpha, (119, 90), (35, 20), 0, 0, 360, (255,), -1)
    elif where == "everything":
        alpha[...] = 255
    alpha = cv2.GaussianBlur(alpha, (0, 0), 1.5)
    if where == "odd edge":
        alpha[:, :91] = 0
        alpha[:73] = 0
        assert alpha[:, 91].any() and alpha[73].any() and alpha[:, -1].any() and alpha[-1].any()
    for behind, fill in ((flat, colour), (gradient, None), (flat, None)):
        expected = yuv.blend_pictures(front, behind, alpha)
        got = front.copy()
        assert yuv.blend_onto(got, alpha, behind, fill) is got
        assert np.array_equal(got, expected)


@pytest.mark.parametrize(("src", "dst"), [((160, 96), (96, 58)), ((96, 160), (120, 200))])
def test_picture_resizer_is_resizing_then_converting(
    src: tuple[int, int], dst: tuple[int, int]
) -> None:
    rgb = _scene(src, 4)
    out = yuv.PictureResizer(src, dst)(yuv.from_rgb(rgb))
    assert yuv.size_of(out) == dst
    expected = yuv.from_rgb(yuv.Resizer(src, dst)(rgb))
    assert _diff(out, expected).mean() < 1.0
    into = yuv.new((dst[0] + 20, dst[1] + 10))
    box = (10, 4, dst[0] + 10, dst[1] + 4)
    yuv.PictureResizer(src, dst)(yuv.from_rgb(rgb), dst=yuv.box_planes(into, box))
    assert np.array_equal(yuv.crop(into, box), out)  # into a box of a bigger picture
    same = yuv.from_rgb(rgb)
    assert yuv.PictureResizer(src, src)(same) is same  # nothing to do: the picture itself


def test_warp_moves_chroma_with_luma() -> None:
    """A sub-pixel shift of the picture moves its colour edge exactly as warping the RGB."""
    rgb = cv2.GaussianBlur(_scene((128, 96), 5), (0, 0), 1.5)
    m = np.array([[1.0, 0.02, 3.5], [-0.02, 1.0, -2.25]])
    out = yuv.warp(yuv.from_rgb(rgb), m)
    warped = cv2.warpAffine(rgb, m, (128, 96), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
    expected = yuv.from_rgb(warped)
    assert out.shape == expected.shape
    for got, want, f in zip(yuv.planes(out), yuv.planes(expected), (1, 2, 2), strict=True):
        region = (slice(8 // f, 88 // f), slice(8 // f, 120 // f))  # away from the borders
        assert _diff(got[region], want[region]).mean() < 1.0, f
    shifted = yuv.warp(yuv.from_rgb(rgb), np.array([[1.0, 0, 2.0], [0, 1.0, 0]]))
    _, u_in, _ = yuv.planes(yuv.from_rgb(rgb))
    _, u_out, _ = yuv.planes(shifted)
    assert _diff(u_out[:, 11:60], u_in[:, 10:59]).max() <= 1  # 2 luma px = 1 chroma px


def test_crossfade_and_fill_and_colour() -> None:
    a = yuv.from_rgb(np.zeros((8, 8, 3), np.uint8))
    b = yuv.from_rgb(np.full((8, 8, 3), 255, np.uint8))
    mid = yuv.crossfade(a, b, 0.5)
    assert abs(int(mid[0, 0]) - 126) <= 1 and mid[8, 0] == 128
    yuv.fill(a, (2, 2, 6, 6), yuv.colour_of((255, 0, 0)))
    rgb = yuv.to_rgb(a)
    assert tuple(rgb[3, 3]) == pytest.approx((255, 0, 0), abs=3)
    assert tuple(rgb[0, 0]) == (0, 0, 0)
    assert yuv.colour_of((255, 255, 255)) == (235, 128, 128)
