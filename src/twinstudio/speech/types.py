"""Plain data types shared by speech engines, the renderer and the services.

This module is the contract between ``speech`` and everything that consumes speech
(``render``, ``services``): keep it dependency-free apart from numpy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Timing:
    """One timed unit of speech: a phoneme (IPA symbol, or ``""`` for silence) or a word.

    ``start_ms``/``end_ms`` are integer milliseconds from the start of the audio.
    """

    symbol: str
    start_ms: int
    end_ms: int


@dataclass(frozen=True)
class VoiceSettings:
    """HeyGen's ``voice_settings``: validated by the API before they reach an engine."""

    speed: float = 1.0  # 0.5 .. 1.5; duration becomes 1/speed of the speed-1.0 duration
    pitch: float = 0.0  # -50 .. 50; see speech docs for the mapping to semitones
    volume: float = 1.0  # 0 .. 2, linear gain after loudness normalisation
    locale: str | None = None


@dataclass
class Speech:
    """Synthesised (or decoded) speech with its timings.

    ``audio`` is float32 mono in [-1, 1]. ``phonemes`` tile the audio exactly: consecutive,
    the first starting at 0 and the last ending at ``duration_ms`` (silences are ``""``).
    ``words`` cover only the spoken words (used for captions). ``text`` is what was spoken
    (normalised; empty for decoded audio): a streamed chunk says which sentences it holds.
    """

    audio: np.ndarray
    sample_rate: int
    phonemes: list[Timing] = field(default_factory=list)
    words: list[Timing] = field(default_factory=list)
    text: str = ""

    @property
    def duration_ms(self) -> int:
        return round(len(self.audio) * 1000 / self.sample_rate)

    @property
    def duration_s(self) -> float:
        return len(self.audio) / self.sample_rate


@dataclass(frozen=True)
class Voice:
    """A voice in the catalog (``GET /v3/voices``)."""

    voice_id: str
    name: str
    language: str  # e.g. "English", as HeyGen lists it
    locale: str  # e.g. "en-US"
    gender: str  # "male" | "female" | "unknown"
    engine: str  # registry name of the engine that speaks it
    support_pause: bool = True
    support_locale: bool = False
    license: str = ""
    origin: str = ""
    # How it sounds, so operators are not misled: "neural" (Piper, Kokoro), "parametric"
    # (Festival HTS: clear but buzzy), "robotic" (eSpeak NG formant synthesis).
    quality: str = "neural"
