"""The speech layer: voices, text-to-speech with exact phoneme timings, custom audio, captions.

    >>> from twinstudio.speech import synthesize
    >>> speech = synthesize('Hello. <break time="1s"/> Nice to meet you.', "en_US-joe-medium")
    >>> speech.phonemes[0].start_ms, speech.phonemes[-1].end_ms == speech.duration_ms
    (0, True)

Listing voices is cheap (no model is loaded); models load on first synthesis and stay cached.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from twinstudio.errors import InvalidParameter, MissingDependency
from twinstudio.speech.base import TTSEngine
from twinstudio.speech.base import engines as tts_engines
from twinstudio.speech.types import Speech, Timing, Voice, VoiceSettings

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "Speech",
    "TTSEngine",
    "Timing",
    "Voice",
    "VoiceSettings",
    "add_piper_voice",
    "get_voice",
    "list_voices",
    "load_audio",
    "synthesize",
    "to_srt",
    "to_vtt",
    "tts_engines",
]


def _ensure_engines() -> None:
    import twinstudio.speech.engines  # noqa: F401  (registers the built-in engines)


def list_voices() -> list[Voice]:
    """Every voice of every available engine can speak; engines missing a dependency add none."""
    _ensure_engines()
    voices: list[Voice] = []
    for name in tts_engines.names():
        try:
            voices.extend(tts_engines.get(name).voices())
        except MissingDependency:
            continue
    return voices


def get_voice(voice_id: str) -> Voice:
    """The catalog entry for ``voice_id``; ``InvalidParameter(param="voice_id")`` if unknown."""
    for voice in list_voices():
        if voice.voice_id == voice_id:
            return voice
    raise InvalidParameter(
        f"unknown voice_id {voice_id!r}: GET /v3/voices lists the available voices",
        param="voice_id",
    )


def synthesize(text: str, voice_id: str, settings: VoiceSettings | None = None) -> Speech:
    """Speak ``text`` (``<break time="1.5s"/>`` allowed) with ``voice_id`` and ``settings``.

    The result's phonemes tile its audio exactly (IPA, ``""`` for silence) and its words carry
    start/end times; see :mod:`twinstudio.speech.effects` for what the settings do.
    """
    voice = get_voice(voice_id)
    return tts_engines.get(voice.engine).synthesize(text, voice, settings or VoiceSettings())


def load_audio(path: str | Path, transcript: str | None = None) -> Speech:
    """Decode a custom audio file into :class:`Speech` with timings; see :mod:`.audio`."""
    from twinstudio.speech.audio import load_audio as load

    return load(path, transcript)


def to_srt(words: Sequence[Timing], max_chars: int = 42) -> str:
    """SubRip captions grouped from word timings; see :mod:`.captions`."""
    from twinstudio.speech.captions import to_srt as srt

    return srt(words, max_chars)


def to_vtt(words: Sequence[Timing], max_chars: int = 42) -> str:
    """WebVTT captions grouped from word timings; see :mod:`.captions`."""
    from twinstudio.speech.captions import to_vtt as vtt

    return vtt(words, max_chars)


def add_piper_voice(onnx_path: str | Path) -> Voice:
    """Install an operator's Piper voice (``.onnx`` + ``.onnx.json``) into the data folder."""
    from twinstudio.speech.engines.piper import add_piper_voice as add

    return add(onnx_path)
