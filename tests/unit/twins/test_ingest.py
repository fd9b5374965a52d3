"""Footage frame rates: which rate a twin is trained at, and which filmed frame each of its frames
shows (``twins.ingest.working_rate``, ``iter_frames``)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from twinstudio.twins.ingest import iter_frames, probe, working_rate


def _numbered_clip(path: Path, rate: int, indices: list[int]) -> Path:
    """A clip on a grid of ``rate`` frames a second holding filmed frames ``indices`` (each at
    time index / rate; a gap is a dropped frame), frame i a flat grey of level 10 + 4 i."""
    import av

    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height = 64, 48
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = Fraction(1, rate)
        stream.options = {"crf": "0", "preset": "ultrafast"}
        for i in indices:
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 10 + 4 * i, np.uint8), "rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, rate)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def _shown(path: Path) -> tuple[int, list[int]]:
    """The twin's rate for ``path`` and the filmed frame (its number) each twin frame shows."""
    info = probe(path)
    size = (info.width, info.height)
    return info.fps, [round((rgb.mean() - 10) / 4) for _, rgb in iter_frames(path, info, size)]


@pytest.fixture(autouse=True)
def _short_footage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWINSTUDIO_MIN_FOOTAGE_S", "0.5")


def test_rates_above_the_cap_keep_whole_fractions_of_the_filmed_rate() -> None:
    assert [working_rate(r) for r in (30, 29.97, 25, 24, 15, 1350 / 61)] == [30, 30, 25, 24, 15, 22]
    assert [working_rate(r) for r in (50, 60, 59.94, 48, 100, 120)] == [25, 30, 30, 24, 25, 30]
    assert working_rate(45) == 30  # no whole fraction of 20 fps or more: the cap, nearest frames
    assert working_rate(0) == 1


@pytest.mark.parametrize(("rate", "fps", "step"), [(60, 30, 2), (50, 25, 2), (30, 30, 1)])
def test_each_twin_frame_shows_the_filmed_frame_of_its_own_time(
    tmp_path: Path, rate: int, fps: int, step: int
) -> None:
    """60 fps footage at 30: frames 0, 2, 4… (the frame on screen half an output frame later,
    as before, gave 1, 3, 5…: every picture half an output frame late against the sound). At
    the footage's own rate, every frame."""
    got_fps, shown = _shown(_numbered_clip(tmp_path / f"{rate}.mp4", rate, list(range(rate))))
    assert got_fps == fps
    assert shown == list(range(0, rate, step))
