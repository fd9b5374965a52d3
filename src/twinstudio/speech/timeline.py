"""Sample-accurate timelines: build speech piece by piece, then round to milliseconds once.

Engines produce :class:`Track` pieces whose phonemes are counted in *samples*, so concatenating
sentences and pauses never accumulates rounding error; :meth:`Track.to_speech` converts to the
millisecond :class:`~twinstudio.speech.types.Speech` contract (phonemes tile the audio exactly).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from twinstudio.speech.types import Speech, Timing

SILENCE = ""


@dataclass
class Track:
    """Audio with phonemes as ``(symbol, n_samples)`` (tiling it) and words as sample spans."""

    audio: np.ndarray
    sample_rate: int
    phonemes: list[tuple[str, int]] = field(default_factory=list)
    words: list[tuple[str, int, int]] = field(default_factory=list)

    @classmethod
    def silence(cls, n_samples: int, sample_rate: int) -> Track:
        n_samples = max(0, n_samples)
        phonemes = [(SILENCE, n_samples)] if n_samples else []
        return cls(np.zeros(n_samples, dtype=np.float32), sample_rate, phonemes)

    def check(self) -> None:
        """Raise ``ValueError`` if the phonemes do not tile the audio (a bug, never user error)."""
        total = sum(n for _, n in self.phonemes)
        if total != len(self.audio):
            raise ValueError(f"phonemes cover {total} samples, audio has {len(self.audio)}")

    def to_speech(self) -> Speech:
        """Round sample boundaries to ms; drop phonemes that round to nothing; merge silences."""
        self.check()
        sr = self.sample_rate
        phonemes: list[Timing] = []
        position = 0
        for symbol, n in self.phonemes:
            start, position = position, position + n
            start_ms, end_ms = round(start * 1000 / sr), round(position * 1000 / sr)
            if end_ms <= start_ms:
                continue
            if phonemes and (phonemes[-1].symbol == symbol == SILENCE):
                phonemes[-1] = Timing(SILENCE, phonemes[-1].start_ms, end_ms)
            else:
                phonemes.append(Timing(symbol, start_ms, end_ms))
        words = [
            Timing(word, round(start * 1000 / sr), round(end * 1000 / sr))
            for word, start, end in self.words
            if end > start
        ]
        audio = np.clip(self.audio, -1.0, 1.0).astype(np.float32, copy=False)
        return Speech(audio=audio, sample_rate=sr, phonemes=phonemes, words=words)


def concat(pieces: list[Track], sample_rate: int) -> Track:
    """Join tracks end to end (all at ``sample_rate``), shifting word spans."""
    audio: list[np.ndarray] = []
    phonemes: list[tuple[str, int]] = []
    words: list[tuple[str, int, int]] = []
    offset = 0
    for piece in pieces:
        if piece.sample_rate != sample_rate:
            raise ValueError(f"piece at {piece.sample_rate} Hz, expected {sample_rate} Hz")
        audio.append(np.asarray(piece.audio, dtype=np.float32))
        for symbol, n in piece.phonemes:
            if phonemes and phonemes[-1][0] == symbol == SILENCE:
                phonemes[-1] = (SILENCE, phonemes[-1][1] + n)
            elif n > 0:
                phonemes.append((symbol, n))
        words.extend((w, s + offset, e + offset) for w, s, e in piece.words)
        offset += len(piece.audio)
    joined = np.concatenate(audio) if audio else np.zeros(0, dtype=np.float32)
    return Track(joined, sample_rate, phonemes, words)


def rescale_spans(spans: list[tuple[str, int]], old_n: int, new_n: int) -> list[tuple[str, int]]:
    """``(symbol, n_samples)`` spans laid over ``old_n`` samples, stretched over ``new_n``: each
    boundary scaled and rounded, so none is lost and zero-length marks (word breaks) stay."""
    out: list[tuple[str, int]] = []
    position = edge = 0
    for symbol, n in spans:
        position += n
        new_edge = min(new_n, round(position * new_n / max(old_n, 1)))
        out.append((symbol, new_edge - edge))
        edge = new_edge
    return out


def retime(timings: list[Timing], old_ms: int, new_ms: int, tile: bool) -> list[Timing]:
    """Scale timings from a ``old_ms`` long audio to a ``new_ms`` long one.

    With ``tile`` the result still tiles ``[0, new_ms]`` exactly (for phonemes); otherwise spans
    are only kept inside it (for words).
    """
    if old_ms <= 0:
        return [Timing(SILENCE, 0, new_ms)] if tile and new_ms > 0 else []
    factor = new_ms / old_ms
    scaled: list[Timing] = []
    for timing in timings:
        start = min(new_ms, round(timing.start_ms * factor))
        end = min(new_ms, round(timing.end_ms * factor))
        if tile and scaled:
            start = scaled[-1].end_ms
        if end > start:
            scaled.append(Timing(timing.symbol, start, end))
    if tile:
        if not scaled:
            return [Timing(SILENCE, 0, new_ms)] if new_ms > 0 else []
        last = scaled[-1]
        if last.end_ms != new_ms:
            scaled[-1] = Timing(last.symbol, last.start_ms, new_ms)
        if scaled[0].start_ms != 0:
            scaled.insert(0, Timing(SILENCE, 0, scaled[0].start_ms))
    return scaled
