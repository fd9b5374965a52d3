"""Plain data types for rendering: the contract between services, ``render`` and ``twins``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from twinstudio.speech.types import Timing

# progress(fraction 0..1) — called often; must be cheap.
ProgressFn = Callable[[float], None]

RESOLUTIONS = {"720p": 720, "1080p": 1080, "4k": 2160}
ASPECTS = ("16:9", "9:16")


def output_size(resolution: str, aspect_ratio: str) -> tuple[int, int]:
    """(width, height) of the output: 1080p 16:9 → (1920, 1080); 720p 9:16 → (720, 1280)."""
    short = RESOLUTIONS[resolution]
    long = short * 16 // 9
    return (long, short) if aspect_ratio == "16:9" else (short, long)


@dataclass(frozen=True)
class Background:
    """A solid colour (``color`` = "#RRGGBB") or an image file already fetched to ``image_path``."""

    color: str | None = None
    image_path: Path | None = None


@dataclass(frozen=True)
class RenderOptions:
    resolution: str = "1080p"  # 720p | 1080p | 4k
    aspect_ratio: str = "16:9"  # 16:9 | 9:16
    fit: str = "contain"  # contain | cover
    remove_background: bool = False
    background: Background | None = None
    output_format: str = "mp4"  # mp4 | webm
    expressiveness: float = 1.0
    # The speech is a TTS voice, not a recording (perhaps of the person themself): the twin's
    # audio-to-mouth model, learnt on the person's own voice, then gets a smaller share
    # (``motion.SYNTHETIC_AUDIO_WEIGHT``).
    synthetic_voice: bool = False
    # The recording's phones were recognised (custom audio given without its transcript): when
    # it echoes, the recogniser mishears them and the audio model's share rises
    # (``motion.audio_share``). A transcript's words align well even in an echo.
    recognised_phones: bool = False


@dataclass(frozen=True)
class RenderResult:
    """What a render wrote. ``words``: the spoken words timed in the video's time (for the
    captions: streamed speech is never held whole, so the render collects them)."""

    video_path: Path
    thumbnail_path: Path
    gif_path: Path
    duration_s: float
    width: int
    height: int
    words: tuple[Timing, ...] = ()
