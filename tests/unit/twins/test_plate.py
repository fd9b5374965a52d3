"""The clean plate (``twins.plate``): the backdrop behind the person, and how far to trust it."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from twinstudio.twins.plate import PlateBuilder, read_plate, write_plate


def _wall(size: tuple[int, int]) -> np.ndarray:
    """An unevenly lit blue wall with a soft texture."""
    w, h = size
    rng = np.random.default_rng(1)
    noise = cv2.resize(rng.normal(0, 6, (h // 20, w // 20)).astype(np.float32), (w, h))
    light = np.linspace(1.0, 0.8, w, dtype=np.float32)[None, :, None]
    return np.clip(np.float32([60, 90, 175]) * light + noise[..., None], 0, 255).astype(np.uint8)


def _frames(
    size: tuple[int, int], n: int, drift: bool = False
) -> list[tuple[np.ndarray, np.ndarray]]:
    """A person (an orange disc) swaying in front of the wall, with its matte; with ``drift``
    the camera's exposure wanders from frame to frame."""
    w, h = size
    wall = _wall(size)
    out = []
    for i in range(n):
        gain = 0.85 + 0.1 * (i % 4) if drift else 1.0
        frame = np.clip(wall * gain, 0, 255)
        alpha = np.zeros((h, w), np.uint8)
        cv2.circle(alpha, (w // 2 + 8 * (i % 4), h // 2 + 40), h // 3, (255,), -1)
        alpha = cv2.GaussianBlur(alpha, (0, 0), 2)
        a = alpha[..., None].astype(np.float32) / 255
        frame = np.round(a * np.float32([230, 150, 60]) + (1 - a) * frame).astype(np.uint8)
        out.append((frame, alpha))
    return out


def test_the_plate_is_the_wall_and_is_trusted_on_a_steady_shot(tmp_path: Path) -> None:
    size = (960, 540)
    builder = PlateBuilder(size)
    for frame, alpha in _frames(size, 12):
        builder.add(frame, alpha)
    plate = builder.plate()
    assert plate is not None and plate.shape == (270, 480, 4)
    wall = cv2.resize(_wall(size), (480, 270), interpolation=cv2.INTER_AREA).astype(np.int16)
    error = np.abs(plate[..., :3].astype(np.int16) - wall).max(axis=2)
    seen = np.ones((270, 480), bool)
    cv2.circle(seen.view(np.uint8), (240, 155), 95, (0,), -1)  # always behind the person
    assert np.percentile(error[seen], 99) <= 3  # the wall, as filmed
    assert np.percentile(error[~seen], 90) <= 12  # filled in from around it
    assert plate[..., 3].mean() > 240  # a steady shot: trusted
    write_plate(tmp_path / "backdrop.png", plate)
    back = read_plate(tmp_path / "backdrop.png")
    assert back is not None and np.array_equal(back, plate)


def test_a_backdrop_that_changes_is_not_trusted() -> None:
    size = (960, 540)
    builder = PlateBuilder(size)
    for frame, alpha in _frames(size, 12, drift=True):
        builder.add(frame, alpha)
    plate = builder.plate()
    assert plate is not None
    assert np.median(plate[..., 3]) < 60  # the exposure moved: a frame will not match it


def test_no_plate_when_the_person_fills_the_frame(tmp_path: Path) -> None:
    builder = PlateBuilder((320, 240))
    assert builder.plate() is None  # nothing added
    builder.add(np.zeros((240, 320, 3), np.uint8), np.full((240, 320), 255, np.uint8))
    assert builder.plate() is None
    (tmp_path / "bad.png").write_bytes(b"not a png")
    assert read_plate(tmp_path / "bad.png") is None
    assert read_plate(tmp_path / "missing.png") is None
