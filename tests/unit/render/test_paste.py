"""The sample engine's paste, on synthetic pictures (no footage or pack needed): its colour
match (``Paster._colour_fields``) and how a mouth pasted on a loop fade's morph follows the
morph's residual flow (``Residual``)."""

from __future__ import annotations

from types import SimpleNamespace

import cv2
import numpy as np

from twinstudio.render.lipsync.crossfade import Residual
from twinstudio.render.lipsync.sample import Paster, _grow, _shrink


def _region_alpha(size: int = 200) -> np.ndarray:
    """A feathered face region: 255 inside an ellipse, a ramp across its edge, 0 outside."""
    mask = np.zeros((size, size), np.uint8)
    cv2.ellipse(mask, (size // 2, size // 2), (70, 80), 0, 0, 360, (255,), -1)
    return cv2.GaussianBlur(mask, (0, 0), 6)


def test_a_seam_stretch_showing_other_things_does_not_steer_the_colour_match() -> None:
    """The pasted mouth is 6 levels lighter than the frame all round the seam, except along the
    bottom, where the frame shows a white collar the paste covers with its chin (110 levels
    darker there): the match must take the 6 levels off everywhere, and must not light the chin
    up to the collar's white (which spread inwards from that stretch of the seam did)."""
    alpha = _region_alpha()
    diff_y = np.full(alpha.shape, 6.0, np.float32)  # new − old
    diff_y[165:] = -110.0  # the collar, in the frame only
    diff_c = np.zeros((100, 100, 2), np.float32)
    field_y, field_c = Paster._colour_fields(SimpleNamespace(scale=120.0), diff_y, diff_c, alpha)
    assert abs(field_y[100, 100] + 6.0) < 2.0  # the face's own light difference, taken off
    chin = field_y[135:160, 80:120]  # inside the region, above the collar
    assert chin.max() < 0.0, "the chin was lit up by the collar's stretch of the seam"
    assert np.abs(field_c).max() < 1e-3


def test_the_colour_match_follows_shading_that_varies_round_the_seam() -> None:
    """A light difference that changes smoothly from left (paste 12 levels darker) to right (12
    lighter) is content-free shading: the whole seam steers the match, so both sides are
    corrected, each by its own amount."""
    alpha = _region_alpha()
    ramp = np.linspace(-12.0, 12.0, alpha.shape[1], dtype=np.float32)
    diff_y = np.tile(ramp, (alpha.shape[0], 1))
    diff_c = np.zeros((100, 100, 2), np.float32)
    field_y, _ = Paster._colour_fields(SimpleNamespace(scale=120.0), diff_y, diff_c, alpha)
    assert field_y[100, 40] > 5.0 and field_y[100, 160] < -5.0


def test_a_paste_on_a_morph_moves_along_the_morphs_residual_flow() -> None:
    """The morph moved the loop frame ``share`` of the way along its residual flow; the mouth
    pasted on it (pixels, alpha and chroma) moves the same way, so it lands on the face the
    morph shows: a flow of 8 px to the right at share −0.5 fetches from 4 px to the left, so
    every edge of the paste moves 4 px right (2 chroma px)."""
    size = (320, 240)
    flow = np.zeros((60, 80, 2), np.float32)  # a quarter of the view's size, luma px
    flow[..., 0] = 8.0
    moved = Residual(flow, size, (100.0, 60.0, 220.0, 180.0), -0.5)
    assert moved.reach == 4
    assert moved.flow.shape[0] < flow.shape[0] and moved.flow.shape[1] < flow.shape[1]
    box = (120, 80, 200, 160)
    luma = np.zeros((80, 80), np.uint8)
    luma[:, 40:] = 200
    alpha = np.zeros((80, 80), np.uint8)
    alpha[20:60, 20:60] = 255
    chroma = np.full((40, 40, 2), 128, np.uint8)
    chroma[:, 20:, 0] = 40
    out_y, out_c, out_a = moved.move(box, luma, chroma, alpha)
    assert out_y[40, 43] == 0 and out_y[40, 44] == 200  # the edge, from column 40 to 44
    assert out_a[40, 23] == 0 and out_a[40, 24] == 255 and out_a[40, 63] == 255
    assert out_a[40, 64] == 0
    assert out_c[10, 21, 0] == 128 and out_c[10, 22, 0] == 40
    still = Residual(np.zeros_like(flow), size, (100.0, 60.0, 220.0, 180.0), -0.5)
    same_y, _, same_a = still.move(box, luma, chroma, alpha)
    assert still.reach == 0 and np.array_equal(same_y, luma) and np.array_equal(same_a, alpha)


def test_the_colour_match_grid_is_whole_blocks_and_grows_back_onto_itself() -> None:
    """``_shrink`` averages whole k×k blocks from the top left (OpenCV's fast integer path; the
    < k rows and columns past them are dropped), and ``_grow`` puts each block's value back on
    its own block, repeating the edge over what was dropped: from a 254×226 picture made of
    4×4 blocks of one value each, the blocks come back. Too small to crop (a grid of at least 8
    cells), both are plain resizes."""
    rng = np.random.default_rng(5)
    blocks = rng.normal(0.0, 10.0, (56, 63)).astype(np.float32)
    picture = np.kron(blocks, np.ones((4, 4), np.float32))  # 224 x 252
    picture = cv2.copyMakeBorder(picture, 0, 2, 0, 2, cv2.BORDER_REPLICATE)  # 226 x 254
    small = _shrink(picture, (63, 56), 4)
    assert np.allclose(small, blocks, atol=1e-4)
    # A smooth field (a colour field is) grows back onto its own blocks: away from the edges,
    # each grown block averages to its cell's value for a plane. A plain resize, stretching the
    # grid over the dropped pixels, would not line up with the cropped shrink (0.39 off here).
    ys, xs = np.mgrid[0:56, 0:63].astype(np.float32)
    plane = 0.5 * xs + 0.3 * ys
    back = _grow(plane, (254, 226), 4)
    assert back.shape == (226, 254)
    again = _shrink(back, (63, 56), 4)
    assert np.allclose(again[1:-1, 1:-1], plane[1:-1, 1:-1], atol=1e-3)
    assert np.array_equal(back[224:], np.repeat(back[223:224], 2, axis=0))
    chroma = rng.normal(0.0, 1.0, (113, 127, 2)).astype(np.float32)
    assert _shrink(chroma, (63, 56), 2).shape == (56, 63, 2)
    assert _grow(_shrink(chroma, (63, 56), 2), (127, 113), 2).shape == (113, 127, 2)
    tiny = rng.normal(0.0, 1.0, (20, 24)).astype(np.float32)
    assert np.array_equal(
        _shrink(tiny, (8, 8), 4), cv2.resize(tiny, (8, 8), interpolation=cv2.INTER_AREA)
    )
