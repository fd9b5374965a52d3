"""A synthetic outline for the edge tests (``render.backdrop``, ``twins.front``): a skin disc
mixed with a blue wall along a soft edge whose true alpha is known, to be laid over yellow."""

from __future__ import annotations

import cv2
import numpy as np

from twinstudio.render import yuv

SIZE = (320, 240)
SKIN = np.float32([225, 170, 140])
WALL = np.float32([60, 90, 175])
NEW = np.float32([240, 216, 144])


def scene() -> tuple[np.ndarray, np.ndarray]:
    """Skin mixed with the wall along a soft outline, as filmed (RGB), and the true alpha."""
    w, h = SIZE
    disc = np.zeros((h, w), np.uint8)
    cv2.circle(disc, (w // 2, h // 2), 80, (255,), -1)
    alpha = cv2.GaussianBlur(disc, (0, 0), 2.0)
    a = alpha[..., None].astype(np.float32) / 255
    rgb = np.round(a * SKIN + (1 - a) * WALL).astype(np.uint8)
    return rgb, alpha


def wall_plate(trust: int) -> np.ndarray:
    """A plate of the wall (RGBA, ``twins.plate``) trusted ``trust`` (0..255)."""
    plate = np.empty((60, 80, 4), np.uint8)
    plate[..., :3] = WALL
    plate[..., 3] = trust
    return plate


def edge_error(picture: np.ndarray, matte: np.ndarray, alpha: np.ndarray) -> float:
    """Mean |``picture`` (I420) laid over the new wall with ``matte`` − the truth (the skin over
    it with the true ``alpha``)| on the outline, RGB levels."""
    a = matte[..., None].astype(np.float32) / 255
    shown = a * yuv.to_rgb(picture).astype(np.float32) + (1 - a) * NEW
    t = alpha[..., None].astype(np.float32) / 255
    truth = t * SKIN + (1 - t) * NEW
    edge = (alpha > 25) & (alpha < 230)
    return float(np.abs(shown - truth)[edge].mean())
