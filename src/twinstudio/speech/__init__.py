"""The speech layer: voices, text-to-speech with exact phoneme timings, custom audio, captions.

    >>> from twinstudio.speech import synthesize
    >>> speech = synthesize('Hello. <break time="1s"/> Nice to meet you.', "en_US-joe-medium")
    >>> speech.phonemes[0].start_ms, speech.phonemes[-1].end_ms == speech.duration_ms
    (0, True)

Listing voices is cheap (no model is loaded); models load on first synthesis and stay cached.

Long scripts stream: :func:`synthesize_stream` yields one :class:`Speech` per sentence group
(the first sentence alone first), each timed from its own start; :func:`join_speech` joins them.

The catalog hides eSpeak NG's *English* voices by default: pocketsphinx understands them far
worse than Piper's joe (68 % vs 18 % word error rate), and English has better voices (Piper joe,
Festival slt). They still speak when asked for by id, and ``TWINSTUDIO_SPEECH_ROBOTIC_ENGLISH=1``
(or ``list_voices(include_hidden=True)``) lists them. eSpeak voices of other languages are
listed, named "... (robotic)" with ``quality="robotic"``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from twinstudio.errors import InvalidParameter, MissingDependency
from twinstudio.speech.base import TTSEngine, join_speech, join_timings
from twinstudio.speech.base import engines as tts_engines
from twinstudio.speech.types import Speech, Timing, Voice, VoiceSettings

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from twinstudio.speech.audio import AudioPieces

ROBOTIC_ENGLISH_ENV = "TWINSTUDIO_SPEECH_ROBOTIC_ENGLISH"

__all__ = [
    "Speech",
    "TTSEngine",
    "Timing",
    "Voice",
    "VoiceSettings",
    "add_piper_voice",
    "get_voice",
    "is_hidden",
    "join_speech",
    "join_timings",
    "list_voices",
    "load_audio",
    "stream_audio",
    "synthesize",
    "synthesize_stream",
    "to_srt",
    "to_vtt",
    "tts_engines",
]


def _ensure_engines() -> None:
    import twinstudio.speech.engines  # noqa: F401  (registers the built-in engines)


def is_hidden(voice: Voice) -> bool:
    """A robotic English voice, left out of the default catalog (see the module docstring)."""
    if os.environ.get(ROBOTIC_ENGLISH_ENV, "").strip().lower() in ("1", "true", "yes"):
        return False
    return voice.quality == "robotic" and voice.locale.lower().startswith("en")


def list_voices(include_hidden: bool = False) -> list[Voice]:
    """Every voice of every available engine; engines missing a dependency add none.

    Robotic English voices are left out unless ``include_hidden`` (see the module docstring).
    """
    _ensure_engines()
    voices: list[Voice] = []
    for name in tts_engines.names():
        try:
            voices.extend(tts_engines.get(name).voices())
        except MissingDependency:
            continue
    return voices if include_hidden else [v for v in voices if not is_hidden(v)]


def get_voice(voice_id: str) -> Voice:
    """The catalog entry for ``voice_id`` (hidden voices too); ``InvalidParameter`` if unknown."""
    for voice in list_voices(include_hidden=True):
        if voice.voice_id == voice_id:
            return voice
    raise InvalidParameter(
        f"unknown voice_id {voice_id!r}: GET /v3/voices lists the available voices",
        param="voice_id",
    )


def synthesize(text: str, voice_id: str, settings: VoiceSettings | None = None) -> Speech:
    """Speak ``text`` (``<break time="1.5s"/>`` allowed) with ``voice_id`` and ``settings``.

    The result's phonemes tile its audio exactly (IPA, ``""`` for silence) and its words carry
    start/end times; see :mod:`twinstudio.speech.effects` for what the settings do. It is the
    join of :func:`synthesize_stream`'s chunks.
    """
    voice = get_voice(voice_id)
    return tts_engines.get(voice.engine).synthesize(text, voice, settings or VoiceSettings())


def synthesize_stream(
    text: str, voice_id: str, settings: VoiceSettings | None = None
) -> Iterator[Speech]:
    """Speak ``text`` chunk by chunk (first sentence first); each chunk timed from its start.

    The voice and settings are checked before the first chunk is made; ``join_speech(chunks)``
    equals :func:`synthesize`'s result. ``chunk.text`` says which sentences a chunk holds.
    """
    voice = get_voice(voice_id)
    return tts_engines.get(voice.engine).synthesize_stream(text, voice, settings or VoiceSettings())


def load_audio(path: str | Path, transcript: str | None = None) -> Speech:
    """Decode a custom audio file into :class:`Speech` with timings; see :mod:`.audio`."""
    from twinstudio.speech.audio import load_audio as load

    return load(path, transcript)


def stream_audio(path: str | Path, transcript: str | None = None) -> Speech | AudioPieces:
    """Custom audio timed a piece at a time (a long recording's render starts before all of it
    is recognised); see :func:`.audio.stream_audio`."""
    from twinstudio.speech.audio import stream_audio as stream

    return stream(path, transcript)


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
