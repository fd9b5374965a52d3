"""Blinks of a photo twin: when they fall, and what they do to the eyes of the still."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from twinstudio.render import RenderOptions, render_video
from twinstudio.render.lipsync.base import SyncedFrame
from twinstudio.render.lipsync.blink import EYES, GAP_S, Blinker, blink_curve
from twinstudio.speech.types import Speech, Timing
from twinstudio.twins import pack as P
from twinstudio.twins import train_twin
from twinstudio.twins.demo import demo_source


def test_blinks_come_every_few_seconds_and_close_the_eyes_briefly() -> None:
    fps = 25.0
    curve = blink_curve(int(60 * fps), fps)
    assert curve.min() == 0.0 and curve.max() <= 1.0
    shut = curve > 0.9
    onsets = np.flatnonzero(shut[1:] & ~shut[:-1]) + 1
    gaps = np.diff(onsets) / fps
    assert 60 / GAP_S[1] - 1 <= len(onsets) <= 60 / GAP_S[0] + 1
    assert gaps.min() >= GAP_S[0] - 0.1 and gaps.max() <= GAP_S[1] + 0.1
    # Each blink is brief: the eyes are at least half closed for ~0.1-0.2 s of each.
    assert (curve > 0.5).sum() / fps / len(onsets) < 0.25


def test_the_same_frames_blink_however_the_video_is_cut_into_pieces() -> None:
    whole = blink_curve(300, 30.0)
    pieces = [blink_curve(n, 30.0, start=s) for s, n in ((0, 70), (70, 130), (200, 100))]
    np.testing.assert_array_equal(whole, np.concatenate(pieces))


@pytest.fixture(scope="module")
def pack_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("blink") / "demo"
    train_twin(demo_source(), folder, kind="photo")
    return folder


@pytest.fixture(scope="module")
def still(pack_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    import cv2

    pack = P.TwinPack.open(pack_dir)
    image = cv2.imread(str(pack.file(P.IMAGE)))[:, :, ::-1].copy()
    return image, pack.track["landmarks"][0]


def _eye_opening_luma(frame: np.ndarray, lm: np.ndarray) -> list[float]:
    """Mean luma inside each eye's opening (between its lids, as the still has them)."""
    import cv2

    out = []
    for outer, inner, upper, lower in EYES:
        poly = np.vstack([lm[[outer, *upper, inner]], lm[list(reversed(lower))]])
        mask = np.zeros(frame.shape[:2], np.uint8)
        cv2.fillPoly(mask, [np.round(poly).astype(np.int32)], (255,))
        out.append(float(frame.mean(axis=2)[mask > 0].mean()))
    return out


def test_a_closed_blink_covers_the_eyes_with_lid_and_leaves_the_rest_alone(
    still: tuple[np.ndarray, np.ndarray],
) -> None:
    image, lm = still
    blinker = Blinker(image, lm)
    assert np.array_equal(blinker.apply(image.copy(), 0.0), image)
    shut = blinker.apply(image.copy(), 1.0)
    # The dark iris and pupil are gone under the (lighter) skin of the lids.
    for before, after in zip(_eye_opening_luma(image, lm), _eye_opening_luma(shut, lm),
                             strict=True):  # fmt: skip
        assert after > before + 15
    # Nothing moves outside the eyes' boxes.
    outside = np.ones(image.shape[:2], bool)
    for eye in blinker.eyes:
        x0, y0, x1, y1 = eye.box
        outside[y0:y1, x0:x1] = False
    assert np.array_equal(shut[outside], image[outside])
    # Half closed lies in between.
    half = _eye_opening_luma(blinker.apply(image.copy(), 0.5), lm)
    assert all(b < h < a for b, h, a in zip(_eye_opening_luma(image, lm), half,
                                            _eye_opening_luma(shut, lm), strict=True))  # fmt: skip


def test_the_thumbnail_is_never_taken_mid_blink(
    pack_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Asked for a frame where the eyes are shut, the render takes the first one after it with
    the eyes open."""
    from twinstudio.render import pipeline, preview
    from twinstudio.render.lipsync.photo import PhotoEngine

    fps = P.TwinPack.open(pack_dir).fps
    shut_at = int(np.argmax(blink_curve(int(4 * fps), fps) > 0.9))
    monkeypatch.setattr(pipeline, "_thumbnail_index", lambda *_: shut_at)
    blinks: list[float] = []
    engine_stream = PhotoEngine.stream

    def stream(self: PhotoEngine, *args: Any, **kwargs: Any) -> Iterator[SyncedFrame]:
        for frame in engine_stream(self, *args, **kwargs):
            blinks.append(frame.blink)
            yield frame

    taken: list[int] = []
    thumbnail = preview.make_thumbnail

    def make_thumbnail(frame: np.ndarray, path: Path, **kwargs: Any) -> Path:
        taken.append(len(blinks) - 1)  # the frame the engine gave last
        return thumbnail(frame, path, **kwargs)

    monkeypatch.setattr(PhotoEngine, "stream", stream)
    monkeypatch.setattr(preview, "make_thumbnail", make_thumbnail)
    rate, seconds = 16000, 4.0
    hum = 0.2 * np.sin(2 * np.pi * 140 * np.arange(int(seconds * rate)) / rate)
    speech = Speech(hum.astype(np.float32), rate, [Timing("ɑ", 0, int(seconds * 1000))])
    result = render_video(pack_dir, speech, RenderOptions(resolution="720p"), tmp_path / "out")
    assert blinks[shut_at] > 0.9
    assert len(taken) == 1 and taken[0] > shut_at and blinks[taken[0]] < pipeline.BLINK_FREE
    assert result.thumbnail_path.is_file()


def test_a_closed_eye_keeps_its_lash_line_along_the_lower_lid(
    still: tuple[np.ndarray, np.ndarray],
) -> None:
    """Shut, each eye shows its lashes as a dark line where the lids meet (the lash band moves
    down whole); stretched with the lid's skin, they had vanished into a smear above it."""
    image, lm = still
    blinker = Blinker(image, lm)
    shut = blinker.apply(image.copy(), 1.0).astype(np.float32).mean(axis=2)
    for eye in blinker.eyes:
        lower = float(np.interp(0.0, *eye._lower))  # the lower lid below the eye's centre
        steps = np.arange(eye.brow, lower + 0.1 * eye.width, 0.25)
        points = eye.centre + np.outer(steps, eye.ey)
        column = shut[np.round(points[:, 1]).astype(int), np.round(points[:, 0]).astype(int)]
        near_lid = np.abs(steps - lower) < 0.08 * eye.width
        skin = np.median(column[steps < eye.brow + 0.15 * eye.width])  # under the brow line
        # The lashes are as dark as the still's (the demo's: 0.16x the skin; smeared: 0.53x).
        assert column[near_lid].min() < 0.4 * skin
