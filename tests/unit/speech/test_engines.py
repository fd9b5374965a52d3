"""Real engines end to end: Piper (bundled model), Festival and eSpeak NG (binaries), if installed."""

from __future__ import annotations

import shutil

import pytest

from twinstudio.errors import InvalidParameter
from twinstudio.speech import VoiceSettings, get_voice, list_voices, synthesize
from twinstudio.speech.analysis import median_f0
from twinstudio.speech.engines import festival
from twinstudio.speech.types import Speech

from .helpers import assert_tiles, assert_words_in_order

pytestmark = pytest.mark.slow

PIPER = "en_US-joe-medium"
ESPEAK = "espeak-en-us"
needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng not installed"
)
FESTIVAL = "festival-en_US-slt-hts"
needs_festival = pytest.mark.skipif(
    shutil.which("festival") is None or festival.voice_dir("cmu_us_slt_arctic_hts") is None,
    reason="festival + festvox-us-slt-hts not installed",
)
VOICES = [
    PIPER,
    pytest.param(FESTIVAL, marks=needs_festival),
    pytest.param(ESPEAK, marks=needs_espeak),
]
TEXT = "The quick brown fox jumps over the lazy dog. Dr. Smith paid $3.50 in 1985!"

_cache: dict[tuple[str, str, VoiceSettings], Speech] = {}


def speak(text: str, voice_id: str, settings: VoiceSettings | None = None) -> Speech:
    key = (text, voice_id, settings or VoiceSettings())
    if key not in _cache:
        _cache[key] = synthesize(text, voice_id, settings)
    return _cache[key]


@pytest.mark.parametrize("voice_id", VOICES)
def test_timings_tile_the_audio_and_words_are_in_order(voice_id: str) -> None:
    speech = speak(TEXT, voice_id)
    assert speech.sample_rate == 22050 and speech.duration_ms > 2000
    assert_tiles(speech)
    assert_words_in_order(speech)
    spoken = [w.symbol.lower() for w in speech.words]
    assert spoken[:4] == ["the", "quick", "brown", "fox"]
    assert "nineteen" in spoken and "doctor" in spoken and "cents" in spoken


def test_piper_phonemes_are_clean_ipa() -> None:
    symbols = [p.symbol for p in speak(TEXT, PIPER).phonemes]
    assert "" in symbols
    assert any(s.endswith("ː") and len(s) == 2 for s in symbols)  # length mark kept on its vowel
    assert not any(c in s for s in symbols for c in "ˈˌ ^$.,!")


@pytest.mark.parametrize("voice_id", VOICES)
def test_break_inserts_requested_silence(voice_id: str) -> None:
    first, second = "Hello there.", "Nice to meet you."
    alone = speak(first, voice_id).duration_ms + speak(second, voice_id).duration_ms
    joined = speak(f'{first} <break time="1.5s"/> {second}', voice_id)
    assert_tiles(joined)
    assert joined.duration_ms - alone == pytest.approx(1500, abs=50)
    longest = max(joined.phonemes, key=lambda p: p.end_ms - p.start_ms if not p.symbol else 0)
    assert longest.symbol == "" and longest.end_ms - longest.start_ms >= 1500


@pytest.mark.parametrize("voice_id", VOICES)
@pytest.mark.parametrize("speed", [0.5, 1.5])
def test_speed_scales_duration(voice_id: str, speed: float) -> None:
    normal = speak(TEXT, voice_id).duration_ms
    changed = speak(TEXT, voice_id, VoiceSettings(speed=speed))
    assert changed.duration_ms == pytest.approx(normal / speed, rel=0.03)
    assert_tiles(changed)
    assert_words_in_order(changed)


@pytest.mark.parametrize("voice_id", VOICES)
def test_pitch_moves_f0_keeps_duration(voice_id: str) -> None:
    text = "The quick brown fox jumps over the lazy dog."
    f0 = {}
    for pitch in (-50, 0, 50):
        speech = speak(text, voice_id, VoiceSettings(pitch=pitch))
        # Within a millisecond: eSpeak NG's output can differ by a few samples with the pitch
        # (2895 against 2894 ms with one build of its library), which rounds either way.
        assert abs(speech.duration_ms - speak(text, voice_id).duration_ms) <= 1
        assert_tiles(speech)
        f0[pitch] = median_f0(speech.audio, speech.sample_rate)
    assert f0[-50] < 0.9 * f0[0] and f0[50] > 1.1 * f0[0]


def test_settings_out_of_range_are_rejected() -> None:
    with pytest.raises(InvalidParameter) as caught:
        synthesize("Hello", PIPER, VoiceSettings(speed=3.0))
    assert caught.value.param == "voice_settings.speed"


@needs_espeak
def test_espeak_other_language() -> None:
    speech = speak("Olá mundo, tudo bem? Sim.", "espeak-pt-br")
    assert_tiles(speech)
    assert [w.symbol for w in speech.words] == ["Olá", "mundo", "tudo", "bem", "Sim"]


def test_catalog() -> None:
    voices = list_voices()
    ids = [v.voice_id for v in voices]
    assert PIPER in ids and len(ids) == len(set(ids))
    joe = get_voice(PIPER)
    assert (joe.language, joe.locale, joe.gender) == ("English", "en-US", "male")
    assert "CC0" in joe.license and "commercial" in joe.license
    if shutil.which("espeak-ng"):
        espeak = [v for v in voices if v.engine == "espeak"]
        assert len({v.language for v in espeak}) >= 30
        assert all("robotic" in v.name for v in espeak)
    with pytest.raises(InvalidParameter) as caught:
        get_voice("no-such-voice")
    assert caught.value.param == "voice_id"
