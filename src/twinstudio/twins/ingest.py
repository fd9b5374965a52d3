"""Footage in: probe, then decode as constant-frame-rate RGB at a working size, and mono audio.

Everything here is PyAV (libav*) only; nothing is written to disk except by the caller. Frames are
yielded one at a time so that a 10-minute 1080p recording never sits in memory.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from twinstudio.errors import FootageError
from twinstudio.twins.colour import SDR_BT601, Converter, FootageColour, footage_colour

MAX_FOOTAGE_S = 600.0
MAX_WORKING_SHORT_SIDE = 1080
MAX_FPS = 30
AUDIO_RATE = 16000


def min_footage_s() -> float:
    """Shortest accepted footage, from ``TWINSTUDIO_MIN_FOOTAGE_S`` (default 5 s)."""
    try:
        return float(os.environ.get("TWINSTUDIO_MIN_FOOTAGE_S", "5"))
    except ValueError:
        return 5.0


@dataclass(frozen=True)
class SourceInfo:
    """What ``probe`` learnt about a recording (sizes already after rotation)."""

    width: int
    height: int
    fps: int  # the constant rate the twin will use
    duration_s: float
    has_audio: bool
    rotation: int  # degrees to rotate decoded frames counter-clockwise (0, 90, 180, 270)
    filmed_fps: float = 0.0  # the footage's own (average) rate; 0: unknown, taken as ``fps``
    colour: FootageColour = SDR_BT601  # how its pictures are coded (``twins.colour``)
    # The recording's time zero (s): the earlier of its first picture's and first sound's time
    # stamps (as players and FFmpeg take it), for the twin's frames and its sound alike.
    start_s: float = 0.0
    # The part of the (turned) picture inside bars it carries, (x0, y0, x1, y1): ``width`` and
    # ``height`` are then its size (``without_borders``, ``twins.borders``).
    crop: tuple[int, int, int, int] | None = None


def working_rate(filmed: float) -> int:
    """The twin's constant frame rate for footage filmed at ``filmed`` frames a second (its
    average rate): the rate itself (rounded) up to ``MAX_FPS``; above it, the largest whole
    fraction of it not above the cap, if that is 20 fps or more: 50 → 25, 60 → 30, 48 → 24,
    100 → 25, 120 → 30. Every kept frame is then a filmed one at its own time; 50 fps taken at
    30 showed filmed frames 0, 2, 4, 5, 7, 9, 10… (steps of 40, 40 and 20 ms in a steady 33 ms
    beat: judder), each 0, 7 or 13 ms late by turns. Elsewhere (45 fps) ``MAX_FPS``, each
    frame the nearest filmed one (``iter_frames``).

    Variable-rate footage stays at its average rate. Tried 2026-12-06: a clip whose frames sit
    on a 30 fps grid with some dropped (``videoretalking_man_suit_window``, 22.1 a second) taken
    at the grid's rate, each dropped frame held, so that every frame keeps its time. Its
    self-reconstruction (``benchmarks/lipsync.py``) held back at the end went r 0.948 → 0.956,
    at the start 0.387 → 0.244, and its A/V offset −1 → −2 frames at both ends (about the same
    time, 45 → 67 ms early, in frames of 30 fps): not kept.
    """
    whole = max(1, round(filmed))
    if whole <= MAX_FPS:
        return whole
    for k in range(2, whole // 20 + 1):
        if whole % k == 0 and whole // k <= MAX_FPS:
            return whole // k
    return MAX_FPS


def _not_a_video(path: Path, why: str) -> FootageError:
    return FootageError(
        "not_a_video",
        f"{path.name} could not be read as a video ({why}). Upload an MP4, MOV or WebM file "
        "recorded by a phone or camera, and make sure the upload finished.",
    )


def _unreadable_codec(path: Path, codec: str) -> FootageError:
    return FootageError(
        "unreadable_codec",
        f"{path.name} opened as a video, but its picture (codec {codec}) could not be decoded: "
        "it is damaged or in a format this server cannot read. Export or record it again as an "
        "H.264 MP4 (on a phone: the 'Most compatible' camera format) and upload it again.",
    )


def _codec_name(stream: Any) -> str | None:
    """The stream's codec name when this FFmpeg build has a decoder for it, else None."""
    import av

    try:
        ctx = stream.codec_context
        name = str(ctx.name) if ctx is not None else ""
        if not name:
            return None
        av.codec.Codec(name, "r")
    except Exception:  # no decoder for this codec in the bundled FFmpeg
        return None
    return name


def working_size(width: int, height: int) -> tuple[int, int]:
    """Size frames are processed at: the short side at most 1080 px, both sides even."""
    scale = min(1.0, MAX_WORKING_SHORT_SIDE / max(1, min(width, height)))
    w = max(2, round(width * scale / 2) * 2)
    h = max(2, round(height * scale / 2) * 2)
    return w, h


def without_borders(path: Path, info: SourceInfo) -> SourceInfo:
    """``info`` for the footage at ``path`` with the bars it carries at its edges cut off
    (``twins.borders``), or as it is when it has none."""
    from twinstudio.twins.borders import find_borders

    box = find_borders(path, info)
    if box is None:
        return info
    x0, y0, x1, y1 = box
    return replace(info, width=x1 - x0, height=y1 - y0, crop=box)


def probe(path: Path) -> SourceInfo:
    """Open ``path`` and check length; raises FootageError(not_a_video|too_short|too_long)."""
    import av

    try:
        container = av.open(str(path))
    except Exception as exc:  # libav raises many types: all mean "cannot read it"
        raise _not_a_video(path, type(exc).__name__) from exc
    with container:
        if not container.streams.video:
            raise _not_a_video(path, "it holds no picture track")
        stream = container.streams.video[0]
        codec = _codec_name(stream)
        filmed = float(stream.average_rate or stream.guessed_rate or Fraction(25))
        fps = working_rate(filmed)
        # Decode the first frame: a damaged stream or a codec without a decoder fails here, not
        # halfway through. (A renamed or truncated file already failed to open above.)
        if codec is None:
            raise _unreadable_codec(path, "unknown")
        try:
            first = next(container.decode(video=0))
        except Exception as exc:
            raise _unreadable_codec(path, codec) from exc
        rotation = int(getattr(first, "rotation", 0) or 0) % 360
        width, height = first.width, first.height
        if rotation in (90, 270):
            width, height = height, width
        has_audio = bool(container.streams.audio)
        colour = footage_colour(first)
        start = float(first.time) if first.time is not None else 0.0
        if has_audio:
            start = min(start, _first_sound_time(path, start))
        end = _stated_end(container)
    if end is None:
        end = _packet_end(path, filmed)
    duration = end - start
    if duration < min_footage_s():
        raise FootageError(
            "too_short",
            f"The footage is {duration:.1f} s long; at least {min_footage_s():.0f} s are needed "
            "(30 s to 2 minutes of talking works best). Record yourself talking to the camera "
            "for longer.",
        )
    if duration > MAX_FOOTAGE_S:
        raise FootageError(
            "too_long",
            f"The footage is {duration / 60:.1f} minutes long; at most {MAX_FOOTAGE_S / 60:.0f} "
            "minutes are accepted. Trim it to the best 1 to 5 minutes of you talking to camera.",
        )
    return SourceInfo(width, height, fps, duration, has_audio, rotation, filmed, colour, start)


def _first_sound_time(path: Path, default: float) -> float:
    """The time stamp of the first decoded sound (s); ``default`` when there is none."""
    import av

    try:
        with av.open(str(path)) as container:
            frame = next(container.decode(audio=0), None)
    except Exception:  # damaged sound: read_audio copes with it on its own
        return default
    return float(frame.time) if frame is not None and frame.time is not None else default


def _stated_end(container: Any) -> float | None:
    """When the picture ends (s, on the file's clock), from the start and duration the file
    states for it; None when it states no duration (Matroska, WebM from browsers).

    The twin spans the recording from its time zero (``SourceInfo.start_s``, the earlier
    stream's start) to the picture's end. Before 2026-12-06 its length was the picture's own
    duration counted from time zero: an MP4 whose sound starts 0.2 s before its picture lost
    its last 0.2 s of pictures. Sound that runs on past the picture is not held on its last
    frame: a frozen mouth under speech would teach training the wrong mouths. The container's
    total is not used either: Matroska states it from its segment's zero, so a file whose
    stamps start at 1 s read 1 s longer than it is.
    """
    stream = container.streams.video[0]
    if stream.duration is None or stream.start_time is None or stream.time_base is None:
        return None
    return float((stream.start_time + stream.duration) * stream.time_base)


def _packet_end(path: Path, fps: float) -> float:
    """When the last picture ends (s, on the file's clock), read from the picture's packets;
    packets without time stamps count as ``fps`` pictures a second."""
    import av

    with av.open(str(path)) as container:
        end, pictures = 0.0, 0
        for packet in container.demux(video=0):
            pictures += 1
            if packet.pts is not None and packet.time_base is not None:
                length = packet.duration or 0
                end = max(end, float((packet.pts + length) * packet.time_base))
    return end if end > 0 else pictures / fps


def tracking_size(size: tuple[int, int], max_side: int = 960) -> tuple[int, int]:
    """A smaller size for the face tracker (its model sees a 192 px face crop anyway)."""
    w, h = size
    scale = min(1.0, max_side / max(w, h))
    return max(2, round(w * scale / 2) * 2), max(2, round(h * scale / 2) * 2)


def iter_frames(
    path: Path, info: SourceInfo, size: tuple[int, int], small: tuple[int, int] | None = None
) -> Iterator[tuple[Any, np.ndarray]]:
    """(yuv420p ``av.VideoFrame`` at ``size``, RGB uint8 array at ``small``) at ``info.fps``.

    Output frame k shows the filmed frame nearest its time k / fps after the recording's time
    zero (``info.start_s``; before 2026-12-06 after time stamp 0 while the sound began at its
    first sample, so in footage whose stamps start at 1 s every picture came 1 s after its
    sound, behind 25 copies of the first frame): the one on screen half a filmed frame later
    (frames are repeated or dropped to get a constant rate; at the same rate, frame k itself,
    however its time stamp jitters). Footage filmed faster than the twin's rate
    used half an *output* frame too, before 2026-12-06: frame k at 30 fps then showed frame
    2k + 1 of 60 fps footage, every picture 17 ms late against the sound. The yuv frame is in
    the renderer's colour (``twins.colour.Converter``: BT.601, limited range, SDR) and goes
    straight to an encoder; footage already coded so makes no round trip through RGB (other
    codings, and turned footage, do). The small RGB one is
    for tracking. Decoding errors after the first frame end the stream early rather than failing
    the whole job (a damaged tail).
    """
    import av

    fps = info.fps
    # Half a filmed frame (s); at the footage's own rate, half an output frame as always.
    half = 0.5 / (info.filmed_fps if info.filmed_fps > fps + 0.5 else fps)
    small = small or size
    n_out = max(1, round(info.duration_s * fps))
    k = 0
    convert = Converter(info.colour, size, small, info.rotation, info.crop)
    prev_raw: Any = None
    prev: tuple[Any, np.ndarray] | None = None  # prev_raw converted, when it had to be
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            try:
                for frame in container.decode(stream):
                    t = float(frame.time) - info.start_s if frame.time is not None else k / fps
                    # Every output instant before this frame's display time shows the previous
                    # one; frames no instant shows (higher source rates) are never converted.
                    while prev_raw is not None and k < n_out and k / fps + half < t:
                        prev = prev or convert(prev_raw)
                        yield prev
                        k += 1
                    prev_raw, prev = frame, None
                    if k >= n_out:
                        break
            except av.error.FFmpegError:
                pass  # a damaged tail: keep what decoded
            while prev_raw is not None and k < n_out:
                prev = prev or convert(prev_raw)
                yield prev
                k += 1
    finally:
        convert.close()  # also when the caller stops early


def read_audio(
    path: Path, sample_rate: int = AUDIO_RATE, start_s: float = 0.0
) -> np.ndarray | None:
    """The first audio track as float32 mono at ``sample_rate``, its first sample at time
    ``start_s`` (``SourceInfo.start_s``, the recording's time zero); None when there is none.

    The sound is placed by its own time stamps: silence is put before sound that starts later,
    and sound from before ``start_s`` is dropped. Before 2026-12-06 its first decoded sample was
    taken as time zero, so a recording whose sound starts 0.2 s after its picture (some phones'
    and capture cards' do) trained a twin with every mouth 0.2 s late against its sound.
    """
    import av

    try:
        container = av.open(str(path))
    except Exception:
        return None
    chunks: list[np.ndarray] = []
    first: float | None = None
    with container:
        if not container.streams.audio:
            return None
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
        try:
            for frame in container.decode(audio=0):
                if first is None and frame.time is not None:
                    first = float(frame.time)
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
        except av.error.FFmpegError:
            pass
    if not chunks:
        return None
    audio = np.concatenate(chunks).astype(np.float32)
    shift = round(((first if first is not None else start_s) - start_s) * sample_rate)
    if shift > 0:
        audio = np.concatenate([np.zeros(shift, np.float32), audio])
    elif shift < 0:
        audio = audio[-shift:]
    return audio if audio.size else None
