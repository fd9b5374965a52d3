"""The person's colour found under the matte's soft edge at training (``twins.front``)."""

from __future__ import annotations

import cv2
import numpy as np

from tests.unit.outline import SIZE, edge_error, scene, wall_plate
from twinstudio.render import yuv
from twinstudio.render.backdrop import Backdrop, unmix
from twinstudio.render.framing import whole_view
from twinstudio.twins.front import find_person, place_plate


def _scene(low: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The outline as filmed, its true alpha, and the matte's (``low`` times the truth in the
    soft band: a matte that misjudges it)."""
    rgb, alpha = scene()
    matte = alpha.copy()
    soft = (alpha > 0) & (alpha < 255)
    matte[soft] = np.clip(np.round(alpha[soft] * low), 1, 254).astype(np.uint8)
    return rgb, alpha, matte


def test_the_person_is_found_under_the_outline() -> None:
    """Over yellow, the outline shows skin, not the old wall's blue: with the plate or without
    (the sure wall round each pixel then stands for it), and far better than the render-time
    extrapolation older packs get (``render.backdrop``, its gain capped)."""
    rgb, alpha, _ = _scene()
    plain = yuv.from_rgb(rgb)
    with_plate, without = plain.copy(), plain.copy()
    find_person(with_plate, alpha, place_plate(wall_plate(255), SIZE))
    find_person(without, alpha)
    extrapolated = plain.copy()
    unmix(extrapolated, alpha, Backdrop.place(wall_plate(255), whole_view(SIZE), SIZE))
    before = edge_error(plain, alpha, alpha)
    assert before > 12  # the old wall along the outline (17.4)
    assert edge_error(with_plate, alpha, alpha) < 1.5  # (0.5)
    assert edge_error(without, alpha, alpha) < 1.5
    assert edge_error(extrapolated, alpha, alpha) > 3  # (5.4)
    solid = (alpha == 0) | (alpha == 255)
    assert np.array_equal(with_plate[: SIZE[1]][solid], plain[: SIZE[1]][solid])  # only soft ones


def test_a_matte_that_misjudges_the_edge_costs_less_than_with_the_extrapolation() -> None:
    """With the alpha a quarter too low in the soft band, the colour found is off by the
    alpha's error times |skin − wall|; the extrapolation's error grows as 1 / alpha."""
    rgb, alpha, matte = _scene(low=0.75)
    plain = yuv.from_rgb(rgb)
    found, extrapolated = plain.copy(), plain.copy()
    find_person(found, matte, place_plate(wall_plate(255), SIZE))
    unmix(extrapolated, matte, Backdrop.place(wall_plate(255), whole_view(SIZE), SIZE))
    assert edge_error(found, matte, alpha) < 0.8 * edge_error(extrapolated, matte, alpha)


def test_a_soft_pixel_with_no_wall_near_is_left_alone() -> None:
    """Soft alpha deep inside the person (a dark mouth the matte doubts) is no mix with the
    wall: it stays as filmed."""
    rgb, alpha, _ = _scene()
    doubted = alpha.copy()
    cv2.circle(doubted, (SIZE[0] // 2, SIZE[1] // 2), 12, (128,), -1)
    picture = yuv.from_rgb(rgb)
    before = picture.copy()
    find_person(picture, doubted, place_plate(wall_plate(255), SIZE))
    centre = np.zeros(doubted.shape, bool)
    cv2.circle(centre.view(np.uint8), (SIZE[0] // 2, SIZE[1] // 2), 14, (1,), -1)
    assert np.array_equal(picture[: SIZE[1]][centre], before[: SIZE[1]][centre])
    assert not np.array_equal(picture, before)  # the outline itself did change


def test_nothing_to_find_without_both_sides() -> None:
    """A frame all person (or all wall, or all soft) is left as it is."""
    rgb, _, _ = _scene()
    picture = yuv.from_rgb(rgb)
    before = picture.copy()
    for level in (255, 0, 128):
        find_person(picture, np.full((SIZE[1], SIZE[0]), level, np.uint8))
        assert np.array_equal(picture, before)
