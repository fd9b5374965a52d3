"""Unmixing the filmed backdrop from the matte's soft edge (``render.backdrop``)."""

from __future__ import annotations

import cv2
import numpy as np

from twinstudio.render import yuv
from twinstudio.render.backdrop import Backdrop, unmix
from twinstudio.render.framing import whole_view

SIZE = (320, 240)
SKIN = np.float32([225, 170, 140])
WALL = np.float32([60, 90, 175])
NEW = np.float32([240, 216, 144])


def _scene() -> tuple[np.ndarray, np.ndarray]:
    """Skin mixed with a blue wall along a soft outline (the true alpha known), as filmed."""
    w, h = SIZE
    disc = np.zeros((h, w), np.uint8)
    cv2.circle(disc, (w // 2, h // 2), 80, (255,), -1)
    alpha = cv2.GaussianBlur(disc, (0, 0), 2.0)
    a = alpha[..., None].astype(np.float32) / 255
    rgb = np.round(a * SKIN + (1 - a) * WALL).astype(np.uint8)
    return rgb, alpha


def _plate(trust: int) -> np.ndarray:
    plate = np.empty((60, 80, 4), np.uint8)
    plate[..., :3] = WALL
    plate[..., 3] = trust
    return plate


def _over_new(picture: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    a = alpha[..., None].astype(np.float32) / 255
    return a * yuv.to_rgb(picture).astype(np.float32) + (1 - a) * NEW


def test_the_old_wall_leaves_the_outline() -> None:
    rgb, alpha = _scene()
    truth = alpha[..., None].astype(np.float32) / 255 * SKIN + (1 - alpha[..., None] / 255) * NEW
    edge = (alpha > 25) & (alpha < 230)
    plain = yuv.from_rgb(rgb)
    before = np.abs(_over_new(plain, alpha) - truth)[edge].mean()
    picture = plain.copy()
    unmix(picture, alpha, Backdrop.place(_plate(255), whole_view(SIZE), SIZE))
    after = np.abs(_over_new(picture, alpha) - truth)[edge].mean()
    assert before > 12  # the old wall showed along the outline (17.4)
    assert after < 0.4 * before  # (5.4: under alpha 0.5 only part of it goes, MAX_GAIN)
    solid = (alpha == 0) | (alpha == 255)
    assert np.array_equal(picture[: SIZE[1]][solid], plain[: SIZE[1]][solid])  # only soft pixels


def test_an_untrusted_plate_changes_nothing() -> None:
    rgb, alpha = _scene()
    picture = yuv.from_rgb(rgb)
    before = picture.copy()
    unmix(picture, alpha, Backdrop.place(_plate(0), whole_view(SIZE), SIZE))
    assert np.array_equal(picture, before)


def test_a_box_unmixes_as_the_whole_picture_does() -> None:
    """The compositor unmixes only the box that changed on a kept picture: inside it the
    pixels must come out as when the whole picture is unmixed, and outside it nothing moves."""
    rgb, alpha = _scene()
    plain = yuv.from_rgb(rgb)
    backdrop = Backdrop.place(_plate(200), whole_view(SIZE), SIZE)
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
