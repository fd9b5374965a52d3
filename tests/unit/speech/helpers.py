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


def syllables(seconds: float, rate: int, rt60_s: float | None = None, seed: int = 3) -> np.ndarray:
    """Speech-like sound: 150 ms bursts of 0.3–5 kHz noise (10 ms rise and fall), 100 ms apart.

    With ``rt60_s``, in a room's echo (:func:`in_a_room`).
    """
    from scipy.signal import butter, sosfilt

    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    band = sosfilt(butter(4, (300, 5000), "bandpass", fs=rate, output="sos"), rng.normal(size=n))
    gate = np.zeros(n)
    syllable, gap, edge = int(0.15 * rate), int(0.10 * rate), int(0.01 * rate)
    shape = np.concatenate([np.linspace(0, 1, edge), np.ones(syllable - 2 * edge),
                            np.linspace(1, 0, edge)])  # fmt: skip
    for start in range(gap, n - syllable, syllable + gap):
        gate[start : start + syllable] = shape * rng.uniform(0.5, 1.0)
    audio = band * gate
    if rt60_s is not None:
        audio = in_a_room(audio, rate, rt60_s, rng)
    return (0.3 * audio / np.abs(audio).max()).astype(np.float32)


def in_a_room(audio: np.ndarray, rate: int, rt60_s: float, rng: np.random.Generator) -> np.ndarray:
    """``audio`` in a room's echo, as long as it was: convolved with a noise tail decaying 60 dB
    in ``rt60_s``, as much energy as the direct sound, its first reflection 5 ms late (the
    impulse of ``benchmarks/recode.py room``, which tests do not import)."""
    from scipy.signal import fftconvolve

    t = np.arange(int(rate * rt60_s)) / rate
    tail = rng.normal(size=len(t)) * np.exp(-6.9 * t / rt60_s)
    tail[: rate // 200] = 0
    impulse = tail / np.sqrt((tail**2).sum())
    impulse[0] = 1.0
    return np.asarray(fftconvolve(audio, impulse)[: len(audio)])
