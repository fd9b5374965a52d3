"""Subtitles from word timings: SubRip (``.srt``) and WebVTT (``.vtt``).

Words are grouped into cues of at most ``max_chars`` characters (one line); a cue also ends at
sentence punctuation or at a pause longer than :data:`PAUSE_MS`, and never lasts longer than
:data:`MAX_CUE_MS`. Cues are in order, never overlap, and lie inside the words' time span.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from twinstudio.speech.types import Timing

PAUSE_MS = 300  # a silence this long between words (a sentence gap) starts a new cue
MAX_CUE_MS = 6000
_SENTENCE_END = (".", "!", "?", "…")


@dataclass(frozen=True)
class Cue:
    start_ms: int
    end_ms: int
    text: str


def group_cues(words: Sequence[Timing], max_chars: int = 42) -> list[Cue]:
    """Group timed words into caption cues (see module docstring)."""
    cues: list[Cue] = []
    current: list[Timing] = []

    def flush() -> None:
        if current:
            text = " ".join(w.symbol for w in current)
            cues.append(Cue(current[0].start_ms, current[-1].end_ms, text))
            current.clear()

    for word in sorted((w for w in words if w.symbol.strip()), key=lambda w: w.start_ms):
        if current:
            length = len(" ".join(w.symbol for w in current)) + 1 + len(word.symbol)
            gap = word.start_ms - current[-1].end_ms
            too_long = word.end_ms - current[0].start_ms > MAX_CUE_MS
            if length > max_chars or gap > PAUSE_MS or too_long:
                flush()
        current.append(word)
        if word.symbol.endswith(_SENTENCE_END):
            flush()
    flush()
    # Word spans may touch; make cues strictly ordered and non-overlapping.
    for i in range(1, len(cues)):
        if cues[i].start_ms < cues[i - 1].end_ms:
            previous = cues[i - 1]
            cues[i - 1] = Cue(
                previous.start_ms, max(previous.start_ms, cues[i].start_ms), previous.text
            )
    return cues


def _clock(ms: int, separator: str) -> str:
    hours, rest = divmod(max(0, ms), 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{separator}{millis:03d}"


def to_srt(words: Sequence[Timing], max_chars: int = 42) -> str:
    """SubRip text: numbered cues, ``HH:MM:SS,mmm --> HH:MM:SS,mmm``."""
    blocks = [
        f"{i}\n{_clock(c.start_ms, ',')} --> {_clock(c.end_ms, ',')}\n{c.text}\n"
        for i, c in enumerate(group_cues(words, max_chars), start=1)
    ]
    return "\n".join(blocks)


def to_vtt(words: Sequence[Timing], max_chars: int = 42) -> str:
    """WebVTT text: a ``WEBVTT`` header, then ``HH:MM:SS.mmm --> HH:MM:SS.mmm`` cues."""
    blocks = [
        f"{_clock(c.start_ms, '.')} --> {_clock(c.end_ms, '.')}\n{c.text}\n"
        for c in group_cues(words, max_chars)
    ]
    return "WEBVTT\n\n" + "\n".join(blocks)
