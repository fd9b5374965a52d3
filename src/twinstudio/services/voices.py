"""The voice catalog as the API shows it, and cached voice previews."""

from __future__ import annotations

import io
import threading
import wave
from typing import Any

import numpy as np

from twinstudio.services.context import AppContext
from twinstudio.speech.types import Voice

PREVIEW_TEXT = "Hello! This is how I sound. I can read any script you write for your videos."
_preview_lock = threading.Lock()


def catalog(
    language: str | None = None, gender: str | None = None, voice_type: str | None = None
) -> list[Voice]:
    """Every voice, filtered. All built-in and operator-added voices are public to every account."""
    from twinstudio import speech

    if voice_type == "private":
        return []
    voices = speech.list_voices()
    if language:
        want = language.strip().lower()
        voices = [
            v
            for v in voices
            if want in (v.language.lower(), v.locale.lower(), v.locale.split("-")[0].lower())
        ]
    if gender:
        voices = [v for v in voices if v.gender == gender]
    return voices


def voice_view(ctx: AppContext, voice: Voice) -> dict[str, Any]:
    return {
        "voice_id": voice.voice_id,
        "name": voice.name,
        "language": voice.language,
        "locale": voice.locale,
        "gender": voice.gender,
        "preview_audio_url": f"{ctx.settings.base_url()}/v3/voices/{voice.voice_id}/preview.wav",
        "support_pause": voice.support_pause,
        "support_locale": voice.support_locale,
        "type": "public",
        "engine": voice.engine,
        "license": voice.license,
        "quality": voice.quality,
        "origin": voice.origin,
    }


def wav_bytes(audio: np.ndarray, sample_rate: int) -> bytes:
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


def preview(ctx: AppContext, voice_id: str) -> bytes:
    """A short sample of the voice, synthesised once and kept in storage."""
    from twinstudio import speech

    voice = speech.get_voice(voice_id)
    key = f"public/voice-previews/{voice.voice_id}.wav"
    with _preview_lock:
        if not ctx.storage.exists(key):
            out = speech.synthesize(PREVIEW_TEXT, voice.voice_id)
            ctx.storage.put_bytes(key, wav_bytes(out.audio, out.sample_rate), "audio/wav")
    return ctx.storage.local_copy(key, ctx.settings.work_dir).read_bytes()


def speak(
    ctx: AppContext, account_id: str, text: str, voice_id: str, settings: Any
) -> dict[str, Any]:
    """``POST /v3/voices/speech``: synthesise, store the WAV, return its link and timings."""
    from twinstudio import speech
    from twinstudio.db.base import new_id
    from twinstudio.speech.types import VoiceSettings

    vs = VoiceSettings(**settings.model_dump()) if settings is not None else VoiceSettings()
    out = speech.synthesize(text, voice_id, vs)
    key = f"speech/{account_id}/{new_id('tts')}.wav"
    ctx.storage.put_bytes(key, wav_bytes(out.audio, out.sample_rate), "audio/wav")
    return {
        "audio_url": ctx.storage.url(key, ctx.settings.url_ttl_seconds),
        "duration": round(out.duration_s, 3),
        "sample_rate": out.sample_rate,
        "words": [
            {"word": w.symbol, "start_ms": w.start_ms, "end_ms": w.end_ms} for w in out.words
        ],
        "phonemes": [
            {"phoneme": p.symbol, "start_ms": p.start_ms, "end_ms": p.end_ms} for p in out.phonemes
        ],
    }
