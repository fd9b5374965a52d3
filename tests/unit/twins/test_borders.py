"""Bars the footage carries at its edges (``twins.borders``), on small videos made here."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import av
import numpy as np

from twinstudio.twins.borders import MARGIN, find_borders
from twinstudio.twins.ingest import probe, without_borders

SIZE = (320, 180)


def _video(
    path: Path, picture: Callable[[int, np.random.Generator], np.ndarray], n: int = 130
) -> Path:
    """``n`` frames of ``picture(k, rng)`` (RGB at SIZE), H.264 at 25 fps (5.2 s: long enough
    for ``probe``)."""
    rng = np.random.default_rng(5)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height = SIZE
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "18", "preset": "ultrafast", "g": "12"}
        for k in range(n):
            frame = av.VideoFrame.from_ndarray(picture(k, rng), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def _scene(k: int, rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """A textured, moving picture of ``shape`` (h, w): nothing in it is flat."""
    h, w = shape
    y, x = np.mgrid[0:h, 0:w]
    base = 120 + 60 * np.sin((x + 3 * k) / 9.0) * np.cos(y / 7.0)
    noise = rng.normal(0, 12, (h, w))
    grey = np.clip(base + noise, 0, 255).astype(np.uint8)
    return np.stack([grey, np.roll(grey, 5, axis=1), grey // 2 + 60], axis=2)


def test_black_pillarbox_bars_are_found_and_the_picture_between_them_kept(tmp_path: Path) -> None:
    def picture(k: int, rng: np.random.Generator) -> np.ndarray:
        frame = np.zeros((180, 320, 3), np.uint8)
        frame[:, 110:210] = _scene(k, rng, (180, 100))
        return frame

    path = _video(tmp_path / "boxed.mp4", picture)
    x0, y0, x1, y1 = find_borders(path, probe(path)) or (0, 0, 0, 0)
    assert (y0, y1) == (0, 180)
    assert 110 <= x0 <= 110 + MARGIN + 2 and 210 - MARGIN - 2 <= x1 <= 210
    assert x0 % 2 == 0 and x1 % 2 == 0
    info = without_borders(path, probe(path))
    assert info.crop == (x0, y0, x1, y1) and (info.width, info.height) == (x1 - x0, 180)


def test_a_padding_strip_that_changes_size_is_cut_at_its_deepest(tmp_path: Path) -> None:
    # A crop that follows a head and runs past its source: a grey strip at the bottom, 4 to 24
    # rows as the crop moves.
    def picture(k: int, rng: np.random.Generator) -> np.ndarray:
        frame = _scene(k, rng, (180, 320))
        rows = 4 + (k * 20) // 129
        frame[180 - rows :] = 111
        return frame

    path = _video(tmp_path / "padded.mp4", picture)
    box = find_borders(path, probe(path))
    assert box is not None
    x0, y0, x1, y1 = box
    assert (x0, y0, x1) == (0, 0, 320)
    assert 180 - 24 - MARGIN - 4 <= y1 <= 180 - 20  # the deepest strip sampled, and its edge


def test_a_flat_wall_round_a_person_and_a_plain_picture_are_not_bars(tmp_path: Path) -> None:
    # A plain studio wall all round a head and shoulders: the wall is as flat as a bar, but it
    # ends at the person, not at a straight line across the picture.
    def person(k: int, rng: np.random.Generator) -> np.ndarray:
        frame = np.full((180, 320, 3), 200, np.uint8)
        y, x = np.mgrid[0:180, 0:320]
        body = ((x - 160 - k % 5) / 70.0) ** 2 + ((y - 200) / 130.0) ** 2 < 1
        frame[body] = _scene(k, rng, (180, 320))[body]
        return frame

    wall = _video(tmp_path / "wall.mp4", person)
    assert find_borders(wall, probe(wall)) is None
    plain = _video(tmp_path / "plain.mp4", lambda k, rng: _scene(k, rng, (180, 320)))
    assert find_borders(plain, probe(plain)) is None
    assert without_borders(plain, probe(plain)).crop is None
