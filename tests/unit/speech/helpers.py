"""Assertions and tiny media factories shared by the speech tests."""

from __future__ import annotations

import itertools
import wave
from pathlib import Path

import numpy as np

from twinstudio.speech.types import Speech


def assert_tiles(speech: Speech) -> None:
    """Phonemes start at 0, are consecutive and non-empty, and end at ``duration_ms``."""
    phonemes = speech.phonemes
    assert phonemes, "no phonemes"
    assert phonemes[0].start_ms == 0
    assert phonemes[-1].end_ms == speech.duration_ms
    for before, after in itertools.pairwise(phonemes):
        assert before.end_ms == after.start_ms, (before, after)
        assert after.end_ms > after.start_ms, after
    assert all("ˈ" not in p.symbol and "ˌ" not in p.symbol for p in phonemes)


def assert_words_in_order(speech: Speech) -> None:
    words = speech.words
    assert words, "no words"
    for before, after in itertools.pairwise(words):
        assert before.start_ms < before.end_ms <= after.start_ms, (before, after)
    assert words[-1].end_ms <= speech.duration_ms


def write_wav(path: Path, audio: np.ndarray, sample_rate: int = 22050) -> Path:
    pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(sample_rate)
        handle.writeframes(pcm.tobytes())
    return path


def voiced(f0: float, seconds: float, sample_rate: int = 22050) -> np.ndarray:
    """A buzzy harmonic tone (a crude vowel) at ``f0`` Hz."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    tone = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 8))
    return (0.3 * tone / np.max(np.abs(tone))).astype(np.float32)
