"""Unmixing the filmed backdrop from the matte's soft edge (``render.backdrop``)."""

from __future__ import annotations

import numpy as np

from tests.unit.outline import SIZE, edge_error, scene, wall_plate
from twinstudio.render import yuv
from twinstudio.render.backdrop import Backdrop, unmix
from twinstudio.render.framing import whole_view


def test_the_old_wall_leaves_the_outline() -> None:
    rgb, alpha = scene()
    plain = yuv.from_rgb(rgb)
    before = edge_error(plain, alpha, alpha)
    picture = plain.copy()
    unmix(picture, alpha, Backdrop.place(wall_plate(255), whole_view(SIZE), SIZE))
    after = edge_error(picture, alpha, alpha)
    assert before > 12  # the old wall showed along the outline (17.4)
    assert after < 0.4 * before  # (5.4: under alpha 0.5 only part of it goes, MAX_GAIN)
    solid = (alpha == 0) | (alpha == 255)
    assert np.array_equal(picture[: SIZE[1]][solid], plain[: SIZE[1]][solid])  # only soft pixels


def test_an_untrusted_plate_changes_nothing() -> None:
    rgb, alpha = scene()
    picture = yuv.from_rgb(rgb)
    before = picture.copy()
    unmix(picture, alpha, Backdrop.place(wall_plate(0), whole_view(SIZE), SIZE))
    assert np.array_equal(picture, before)


def test_a_box_unmixes_as_the_whole_picture_does() -> None:
    """The compositor unmixes only the box that changed on a kept picture: inside it the
    pixels must come out as when the whole picture is unmixed, and outside it nothing moves."""
    rgb, alpha = scene()
    plain = yuv.from_rgb(rgb)
    backdrop = Backdrop.place(wall_plate(200), whole_view(SIZE), SIZE)
    whole = plain.copy()
    unmix(whole, alpha, backdrop)
    for box in ((200, 100, 250, 140), (0, 0, 320, 120), (236, 110, 320, 240)):
        part = plain.copy()
        x0, y0, x1, y1 = box
        window = yuv.crop(part, box)  # as the compositor does on a kept picture
        unmix(window, alpha[y0:y1, x0:x1], backdrop.crop(box))
        for dst, src in zip(yuv.box_planes(part, box), yuv.planes(window), strict=True):
            dst[...] = src
        inside = np.zeros((SIZE[1], SIZE[0]), bool)
        inside[y0:y1, x0:x1] = True
        half = inside[::2, ::2]
        for got, want, before, at in zip(yuv.planes(part), yuv.planes(whole), yuv.planes(plain),
                                         (inside, half, half), strict=True):  # fmt: skip
            assert np.array_equal(got[at], want[at]), box
            assert np.array_equal(got[~at], before[~at]), box
    unchanged = plain.copy()
    unmix(unchanged, alpha, None)  # no plate: nothing to take out
    assert np.array_equal(unchanged, plain)
