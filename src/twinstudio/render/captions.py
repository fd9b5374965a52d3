"""Burned-in captions: the current caption cue drawn onto video frames.

    burner = CaptionBurner(speech.words, (720, 1280), {"font_size": 44, "position": "bottom"})
    for index, frame in enumerate(frames):
        frame = burner.draw(frame, index / fps)

Cues come from :func:`twinstudio.speech.captions.group_cues` (the same grouping as the SRT/VTT
files), sized for the frame: the characters per line follow from the frame width and the font
size, and a cue holds at most two lines, so 9:16 (720×1280) gets short lines and 16:9 long ones.

Each cue is rendered once into an RGBA overlay (text on a rounded semi-transparent box, or with
an outline when ``background`` is ``"none"``) and cached; per frame the cost is one alpha blend
of the box region. Outside every cue the frame is returned untouched (the same array).

``style`` keys (all optional; anything else is rejected with ``InvalidParameter``):

``font_size``
    font size in pixels, 8–200 (default: 4.5 % of the frame's shorter side, at least 16).
``color``
    text colour, ``"#RRGGBB"``, ``"#RRGGBBAA"`` or a CSS colour name (default ``"#FFFFFF"``).
``background``
    box colour with alpha, same syntax (default ``"#000000A0"``: black, 63 % opaque), or
    ``"none"`` for no box and a 2-pixel dark outline around the letters instead.
``position``
    ``"bottom"`` (default), ``"middle"`` or ``"top"``; the box is centred horizontally, with a
    margin of 7 % of the frame height from the top/bottom edge.

Font: DejaVu Sans Bold from the Debian package ``fonts-dejavu-core`` or, failing that, the copy
matplotlib ships; Noto Sans CJK (``fonts-noto-cjk``) for Chinese/Japanese/Korean text when
installed; PIL's built-in font as the last resort.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageColor, ImageDraw, ImageFont

from twinstudio.errors import InvalidParameter
from twinstudio.speech.captions import Cue, group_cues
from twinstudio.speech.types import Timing

MAX_LINES = 2
WIDTH_SHARE = 0.88  # of the frame width available to a caption line
MARGIN_SHARE = 0.07  # of the frame height between the box and the top/bottom edge
PADDING_EM = 0.35  # box padding around the text, in font heights
LINE_SPACING_EM = 0.25
POSITIONS = ("bottom", "middle", "top")
STYLE_KEYS = ("font_size", "color", "background", "position")

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)
CJK_FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)

FontType = ImageFont.FreeTypeFont | ImageFont.ImageFont


@dataclass(frozen=True)
class CaptionStyle:
    """A validated ``caption.style``; see the module docstring."""

    font_size: int
    color: tuple[int, int, int, int]
    background: tuple[int, int, int, int] | None  # None: outline instead of a box
    position: str


def _colour(value: Any, key: str) -> tuple[int, int, int, int]:
    if not isinstance(value, str):
        raise InvalidParameter(
            f"caption.style.{key} must be a colour string", param=f"caption.style.{key}"
        )
    text = value.strip()
    try:
        if text.startswith("#") and len(text) == 9:
            rgba = int(text[1:], 16)
            return (rgba >> 24 & 255, rgba >> 16 & 255, rgba >> 8 & 255, rgba & 255)
        red, green, blue = ImageColor.getrgb(text)[:3]
    except ValueError as error:
        raise InvalidParameter(
            f'caption.style.{key} {value!r} is not a colour: use "#RRGGBB", "#RRGGBBAA" or a name',
            param=f"caption.style.{key}",
        ) from error
    return (red, green, blue, 255)


def parse_style(style: dict[str, Any] | None, out_size: tuple[int, int]) -> CaptionStyle:
    """Validate ``style`` (see the module docstring); ``InvalidParameter`` names the bad key."""
    style = dict(style or {})
    unknown = sorted(set(style) - set(STYLE_KEYS))
    if unknown:
        raise InvalidParameter(
            f"unknown caption.style key {unknown[0]!r}: use {', '.join(STYLE_KEYS)}",
            param=f"caption.style.{unknown[0]}",
        )
    width, height = out_size
    size = style.get("font_size")
    if size is None:
        size = max(16, round(0.045 * min(width, height)))
    elif isinstance(size, bool) or not isinstance(size, int | float) or not 8 <= size <= 200:
        raise InvalidParameter(
            f"caption.style.font_size must be a number of pixels from 8 to 200 (got {size!r})",
            param="caption.style.font_size",
        )
    position = style.get("position", "bottom")
    if position not in POSITIONS:
        raise InvalidParameter(
            f"caption.style.position must be one of {', '.join(POSITIONS)} (got {position!r})",
            param="caption.style.position",
        )
    background = style.get("background", "#000000A0")
    return CaptionStyle(
        font_size=round(size),
        color=_colour(style.get("color", "#FFFFFF"), "color"),
        background=(
            None
            if isinstance(background, str) and background.strip().lower() in ("none", "")
            else _colour(background, "background")
        ),
        position=str(position),
    )


def _is_cjk(text: str) -> bool:
    return any("\u3040" <= c <= "\u30ff" or "\u3400" <= c <= "\u9fff" or "\uac00" <= c <= "\ud7af"
               for c in text)  # fmt: skip


def _matplotlib_font() -> str | None:
    try:
        import matplotlib
    except ImportError:
        return None
    path = Path(matplotlib.__file__).parent / "mpl-data" / "fonts" / "ttf" / "DejaVuSans-Bold.ttf"
    return str(path) if path.is_file() else None


@lru_cache(maxsize=32)
def load_font(size: int, cjk: bool = False) -> FontType:
    """The caption font at ``size`` pixels (see the module docstring for the search order)."""
    candidates = [*CJK_FONT_CANDIDATES] if cjk else []
    candidates += [*FONT_CANDIDATES, _matplotlib_font() or ""]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            try:
                return ImageFont.truetype(candidate, size)
            except OSError:
                continue
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # very old Pillow: a fixed-size bitmap font
        return ImageFont.load_default()


def _text_width(font: FontType, text: str) -> float:
    return float(font.getlength(text))


def chars_per_line(frame_width: int, font: FontType) -> int:
    """How many characters of typical text fit on one caption line of this frame."""
    sample = "the quick brown fox jumps over a lazy dog 0123"
    average = _text_width(font, sample) / len(sample)
    return max(8, int(WIDTH_SHARE * frame_width / max(average, 1.0)))


def wrap(text: str, font: FontType, max_width: float) -> list[str]:
    """Greedy line breaking at spaces by measured width; a too-long word is split by character."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if _text_width(font, candidate) <= max_width:
            current = candidate
            continue
        if current:
            lines.append(current)
            current = ""
        while _text_width(font, word) > max_width and len(word) > 1:
            cut = len(word) - 1
            while cut > 1 and _text_width(font, word[:cut]) > max_width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    if current:
        lines.append(current)
    return lines


@dataclass(frozen=True)
class Overlay:
    """One cue, rendered: where it goes and its blend terms (premultiplied colour, 255 − alpha)."""

    x: int
    y: int
    premultiplied: np.ndarray  # (h, w, 3) uint16: colour × alpha
    inverse_alpha: np.ndarray  # (h, w, 1) uint16: 255 − alpha
    lines: tuple[str, ...]
    font_size: int  # the style's, or smaller for a cue whose words could not fit two lines

    @property
    def box(self) -> tuple[int, int, int, int]:
        """``(x0, y0, x1, y1)`` of the region the overlay may change."""
        h, w = self.inverse_alpha.shape[:2]
        return (self.x, self.y, self.x + w, self.y + h)


class CaptionBurner:
    """Draws the caption cue active at a time onto RGB frames; see the module docstring."""

    def __init__(
        self,
        words: Sequence[Timing],
        out_size: tuple[int, int],
        style: dict[str, Any] | None = None,
    ) -> None:
        width, height = out_size
        if width <= 0 or height <= 0:
            raise ValueError(f"bad frame size {out_size!r}")
        self.out_size = (int(width), int(height))
        self.style = parse_style(style, self.out_size)
        cjk = _is_cjk(" ".join(w.symbol for w in words))
        self.font = load_font(self.style.font_size, cjk)
        self.max_chars = chars_per_line(width, self.font)
        # Greedy line breaks waste some of each line: leave a quarter line of slack per cue.
        budget = self.max_chars * MAX_LINES - self.max_chars // 4
        self.cues: list[Cue] = group_cues(words, max_chars=budget)
        self._starts = [cue.start_ms for cue in self.cues]
        self._cache: dict[int, Overlay] = {}

    def cue_at(self, t_seconds: float) -> int | None:
        """Index of the cue shown at ``t_seconds`` (start inclusive, end exclusive), or None."""
        ms = t_seconds * 1000.0
        index = bisect.bisect_right(self._starts, ms) - 1
        if index >= 0 and ms < self.cues[index].end_ms:
            return index
        return None

    def overlay(self, index: int) -> Overlay:
        """The cue's rendered overlay (made on first use, then cached)."""
        if index not in self._cache:
            self._cache[index] = self._render(self.cues[index].text)
        return self._cache[index]

    def draw(self, frame: np.ndarray, t_seconds: float) -> np.ndarray:
        """``frame`` (H×W×3 RGB uint8) with the cue at ``t_seconds`` burned in.

        Returns a new array when a cue is shown, ``frame`` itself otherwise; only the cue's box
        region differs from the input.
        """
        index = self.cue_at(t_seconds)
        if index is None:
            return frame
        overlay = self.overlay(index)
        out = frame.copy()
        x0, y0, x1, y1 = overlay.box
        fx0, fy0 = max(0, x0), max(0, y0)
        fx1, fy1 = min(frame.shape[1], x1), min(frame.shape[0], y1)
        if fx1 <= fx0 or fy1 <= fy0:
            return out
        sy, sx = slice(fy0 - y0, fy1 - y0), slice(fx0 - x0, fx1 - x0)
        region = out[fy0:fy1, fx0:fx1].astype(np.uint16)
        region *= overlay.inverse_alpha[sy, sx]
        region += overlay.premultiplied[sy, sx]
        region += 127
        out[fy0:fy1, fx0:fx1] = (region // 255).astype(np.uint8)
        return out

    def _lines(self, text: str) -> tuple[list[str], FontType, int]:
        width = self.out_size[0] * WIDTH_SHARE
        font = self.font
        lines = wrap(text, font, width)
        size = self.style.font_size
        while len(lines) > MAX_LINES and size > 8:  # unusually wide words: shrink this cue only
            size = max(8, int(size * 0.9))
            font = load_font(size, _is_cjk(text))
            lines = wrap(text, font, width)
        return lines, font, size  # more than MAX_LINES only if unreadable at any size

    def _render(self, text: str) -> Overlay:
        lines, font, size = self._lines(text)
        width, height = self.out_size
        ascent, descent = font.getmetrics() if hasattr(font, "getmetrics") else (10, 3)
        line_height = ascent + descent
        spacing = round(LINE_SPACING_EM * line_height)
        pad = max(4, round(PADDING_EM * line_height))
        text_w = max(math.ceil(_text_width(font, line)) for line in lines)
        text_h = line_height * len(lines) + spacing * (len(lines) - 1)
        box_w = min(width, text_w + 2 * pad)
        box_h = min(height, text_h + 2 * pad)
        image = Image.new("RGBA", (box_w, box_h), (0, 0, 0, 0))
        draw = ImageDraw.Draw(image)
        style = self.style
        outline = 0
        if style.background is not None:
            draw.rounded_rectangle(
                (0, 0, box_w - 1, box_h - 1), radius=pad // 2, fill=style.background
            )
        else:
            outline = max(1, round(style.font_size / 20))
        y = pad
        for line in lines:
            x = (box_w - _text_width(font, line)) / 2
            draw.text(
                (x, y), line, font=font, fill=style.color,
                stroke_width=outline, stroke_fill=(0, 0, 0, 255),
            )  # fmt: skip
            y += line_height + spacing
        rgba = np.asarray(image, dtype=np.uint16)
        alpha = rgba[:, :, 3:4]
        margin = round(MARGIN_SHARE * height)
        top = {
            "bottom": height - margin - box_h,
            "middle": (height - box_h) // 2,
            "top": margin,
        }[style.position]
        return Overlay(
            x=(width - box_w) // 2,
            y=max(0, top),
            premultiplied=rgba[:, :, :3] * alpha,
            inverse_alpha=255 - alpha,
            lines=tuple(lines),
            font_size=size,
        )


def burn_into_video(
    video_path: Path,
    out_path: Path,
    words: Sequence[Timing],
    style: dict[str, Any] | None,
) -> Path:
    """A copy of a rendered MP4 with the captions burned in (``captioned_video_url``).

    Frames are decoded, captioned and re-encoded one at a time, and the audio is decoded from the
    same file just ahead of the frames it belongs to: constant memory whatever the length.
    """
    import av

    from twinstudio.render.encode import VideoEncoder

    with av.open(str(video_path)) as src, av.open(str(video_path)) as sound:
        stream = src.streams.video[0]
        size = (stream.codec_context.width, stream.codec_context.height)
        fps = float(stream.average_rate or 25)
        burner = CaptionBurner(list(words), size, style)
        audio_stream = sound.streams.audio[0]
        rate = int(audio_stream.codec_context.sample_rate)
        chunks = (_mono(f) for f in sound.decode(audio_stream))
        fed = 0
        with VideoEncoder(out_path, size, fps, None, rate) as encoder:
            for index, frame in enumerate(src.decode(stream)):
                while fed < (index + 1) / fps * rate:  # the audio up to this frame's end
                    chunk = next(chunks, None)
                    if chunk is None:
                        break
                    encoder.feed_audio(chunk)
                    fed += chunk.size
                encoder.write(burner.draw(frame.to_ndarray(format="rgb24"), index / fps))
            for chunk in chunks:
                encoder.feed_audio(chunk)
    return out_path


def _mono(frame: Any) -> np.ndarray:
    """A decoded audio frame as float32 mono samples."""
    arr = np.asarray(frame.to_ndarray(), dtype=np.float32)
    if frame.format.is_planar:
        return arr.mean(axis=0) if arr.ndim == 2 else arr.reshape(-1)
    return arr.reshape(-1, len(frame.layout.channels)).mean(axis=1)
