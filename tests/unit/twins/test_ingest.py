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


def _phone_portrait_clip(path: Path, transfer: str) -> Path:
    """A clip stored landscape (64 × 32, a red square in its top-left corner) that plays
    upright in portrait, as a phone held upright records it: the track's matrix turns it 90°
    clockwise (an iPhone's tkhd matrix; ffprobe reads it as 'rotation of -90 degrees')."""
    import struct

    import av

    from .conftest import HDR_TAGS, TRC, hdr_frame

    img = np.full((32, 64, 3), 128, np.uint8)
    img[:8, :8] = (230, 30, 30)
    with av.open(str(path), mode="w") as container:
        codec, pix_fmt = ("libx265", "yuv420p10le") if transfer != "sdr" else ("libx264", "yuv420p")
        stream = container.add_stream(codec, rate=25)
        stream.width, stream.height = 64, 32
        stream.pix_fmt = pix_fmt
        if transfer != "sdr":
            stream.options = {"x265-params": "lossless=1:log-level=error", "preset": "ultrafast"}
            for name, value in {**HDR_TAGS, "color_trc": TRC[transfer]}.items():
                setattr(stream.codec_context, name, value)
            frame = hdr_frame(img, transfer)
        else:
            stream.options = {"qp": "0", "preset": "ultrafast"}
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
        stream.codec_context.time_base = Fraction(1, 25)
        for i in range(25):
            frame.pts, frame.time_base = i, Fraction(1, 25)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    data = bytearray(path.read_bytes())
    identity = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    at = data.index(identity, data.index(b"tkhd"))
    data[at : at + 36] = struct.pack(">9I", 0, 0x10000, 0, 0xFFFF0000, 0, 0, 32 << 16, 0, 1 << 30)
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("transfer", ["sdr", "hlg"])
def test_portrait_phone_footage_is_turned_upright(tmp_path: Path, transfer: str) -> None:
    """Turned as a player shows it (the red square in the top-right corner), in its colours."""
    from twinstudio.render import yuv

    path = _phone_portrait_clip(tmp_path / "portrait.mp4", transfer)
    info = probe(path)
    assert (info.width, info.height, info.rotation) == (32, 64, 270)
    picture, small = next(iter_frames(path, info, (32, 64)))
    for rgb in (yuv.to_rgb(picture.to_ndarray()), small):
        assert rgb.shape == (64, 32, 3)
        red = np.argwhere((rgb[:, :, 0] > 180) & (rgb[:, :, 1] < 80))
        assert red.size and red.mean(axis=0) == pytest.approx((3.5, 27.5), abs=1.0)
        assert np.abs(rgb[2:6, 26:30].reshape(-1, 3).mean(axis=0) - (230, 30, 30)).max() < 6
        assert np.abs(rgb[40:60, 4:28].astype(float).mean() - 128) < 4


@pytest.mark.parametrize("transfer", ["sdr", "hlg"])
def test_bars_are_cut_from_the_picture_as_shown(tmp_path: Path, transfer: str) -> None:
    """A cut (``twins.borders``: bars the footage carries) is in the turned picture's pixels:
    its top-right quarter keeps the red square in its own top-right corner."""
    from dataclasses import replace

    from twinstudio.render import yuv

    path = _phone_portrait_clip(tmp_path / "portrait.mp4", transfer)
    info = replace(probe(path), crop=(16, 0, 32, 32), width=16, height=32)
    picture, small = next(iter_frames(path, info, (16, 32)))
    for rgb in (yuv.to_rgb(picture.to_ndarray()), small):
        assert rgb.shape == (32, 16, 3)
        red = np.argwhere((rgb[:, :, 0] > 180) & (rgb[:, :, 1] < 80))
        assert red.size and red.mean(axis=0) == pytest.approx((3.5, 11.5), abs=1.0)
        assert np.abs(rgb[16:30, 2:14].astype(float).mean() - 128) < 4


def _stamped_clip(path: Path, picture_s: float, sound_s: float) -> Path:
    """2 s of numbered frames (``_numbered_clip``'s greys) whose time stamps start at
    ``picture_s``, and 2 s of silence with a click 0.5 s into it, stamped from ``sound_s``
    (Matroska or QuickTime by ``path``'s suffix; PCM sound: no encoder delay to blur the
    stamps)."""
    import av

    with av.open(str(path), mode="w") as container:
        video = container.add_stream("libx264", rate=25)
        video.width, video.height = 64, 48
        video.pix_fmt = "yuv420p"
        video.codec_context.time_base = Fraction(1, 25)
        video.options = {"qp": "0", "preset": "ultrafast"}
        sound = container.add_stream("pcm_s16le", rate=16000)
        sound.layout = "mono"
        for i in range(50):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 10 + 4 * i, np.uint8), "rgb24")
            frame.pts, frame.time_base = round(picture_s * 25) + i, Fraction(1, 25)
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode(None):
            container.mux(packet)
        signal = np.zeros(32000, np.int16)
        signal[8000:8160] = 20000
        for at in range(0, signal.size, 1024):
            chunk = av.AudioFrame.from_ndarray(signal[None, at : at + 1024], "s16", "mono")
            chunk.sample_rate = 16000
            chunk.pts, chunk.time_base = round(sound_s * 16000) + at, Fraction(1, 16000)
            for packet in sound.encode(chunk):
                container.mux(packet)
        for packet in sound.encode(None):
            container.mux(packet)
    return path


@pytest.mark.parametrize("suffix", [".mkv", ".mov"])
@pytest.mark.parametrize(
    ("picture_s", "sound_s", "first", "click_s"),
    [(0.0, 0.0, 0, 0.5), (1.0, 1.0, 0, 0.5), (0.0, 0.2, 0, 0.7), (0.2, 0.0, 5, 0.5)],
)
def test_frames_and_sound_keep_their_time_stamps(
    tmp_path: Path, suffix: str, picture_s: float, sound_s: float, first: int, click_s: float
) -> None:
    """Time zero is the earlier stream's start, as players take it: a picture that starts 0.2 s
    after the sound holds its first frame for those 0.2 s (5 frames). Before, stamps starting at
    1 s began with 25 copies of the first frame while the sound began at once (every picture 1 s
    after its sound), and sound starting 0.2 s after the picture was moved 0.2 s earlier. The
    twin runs to the picture's end: every picture is in it (a QuickTime file whose sound starts
    first lost its last 5 before), sound running on past it does not hold the last frame, and a
    Matroska file stamped from 1 s is not held 1 s longer than it runs (it was: 75 frames for
    50)."""
    from twinstudio.twins.ingest import read_audio

    path = _stamped_clip(tmp_path / f"stamped{suffix}", picture_s, sound_s)
    info = probe(path)
    assert info.start_s == pytest.approx(min(picture_s, sound_s))
    assert info.duration_s == pytest.approx(picture_s + 2.0 - min(picture_s, sound_s))
    shown = [round((rgb.mean() - 10) / 4) for _, rgb in iter_frames(path, info, (64, 48))]
    assert shown[: first + 3] == [0] * (first + 1) + [1, 2]
    assert shown[first:] == list(range(50))  # every picture, and none held past the last
    sound = read_audio(path, start_s=info.start_s)
    assert sound is not None
    assert np.argmax(np.abs(sound)) / 16000 == pytest.approx(click_s, abs=0.005)
