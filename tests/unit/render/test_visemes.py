"""Visemes: every language's sounds get the lips they are made with (``render.visemes``)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from twinstudio.render.motion import normalised_track, viseme_frames
from twinstudio.render.visemes import NEUTRAL, lip_symbol, viseme, viseme_class
from twinstudio.twins.labels import VISEMES

from .helpers import timings


def test_rounded_front_vowels_are_rounded() -> None:
    # German "schön", French "peu" / "heure", Swedish "hus": lips pursed, not spread.
    for sym in ("ø", "øː", "œ", "ʏ", "ʉ", "œ̃"):
        _open, width, _dom = viseme(sym)
        assert width < -0.5, sym
        assert viseme_class(sym) in ("oh", "ou"), sym
    # ... while their unrounded partners stay spread.
    assert viseme("ɨ")[1] > 0.3 and viseme("ɯ")[1] > 0.3


def test_other_consonants_take_the_lips_they_are_made_with() -> None:
    assert viseme("ç") == viseme("j") and viseme_class("ç") == "ih"  # German "ich": not open
    assert viseme("ʁ")[0] < 0.4 and viseme_class("ʁ") == "kk"  # French r: a back consonant
    assert viseme("ʋ") == viseme("v") and viseme("ɲ") == viseme("n")
    assert viseme_class("ɕ") == viseme_class("ʑ") == "CH"
    assert viseme("ts")[2] == viseme("t")[2] and viseme_class("ts") == "DD"  # the first sound leads
    assert viseme("β")[0] < 0.08 and viseme_class("β") == "PP"  # Spanish "la boca"
    # Diacritics keep their letter's lips: a nasal vowel, a Japanese centralised a.
    assert viseme("ɑ̃") == viseme("ɑ") and viseme("ä") == viseme("a")
    assert lip_symbol("øː") == "o" and lip_symbol("") == ""
    assert lip_symbol("mʲ") == "m" and lip_symbol("ʲ") == "j"  # Russian "мя"; a glide alone


def test_japanese_sounds_are_placed() -> None:
    # Kokoro's Japanese: a quarter of a sample script's phonemes were unplaced before.
    for sym in ("ɕ", "ɨ", "ɯ", "ɲ", "ɴ", "ʦ", "ʣ", "ʨ", "ç", "β", "kʲ", "ɾʲ"):
        assert viseme(sym) != NEUTRAL, sym
    assert viseme_class("ʨ") == viseme_class("ɕ") == "CH" and viseme_class("ʦ") == "DD"


def test_english_symbols_are_unchanged() -> None:
    assert viseme("ɑː") == (0.95, 0.1, 1.0)
    assert viseme("p") == (0.0, 0.0, 2.0) and viseme_class("p") == "PP"
    assert viseme_class("aɪ") == "aa" and viseme_class("oʊ") == "oh"
    assert viseme_class("") == "sil" and viseme("") == (0.0, 0.0, 1.0)
    assert viseme("ʘ") == NEUTRAL  # a click nothing places: relaxed and half open


def test_bilabials_of_other_languages_close_or_nearly_close() -> None:
    # Implosive /ɓ/ (Vietnamese, Swahili) is a closure; Spanish /β/ nearly meets but never does.
    spec = [("", 300), ("a", 200), ("ɓ", 80), ("a", 200), ("β", 80), ("a", 200), ("mʲ", 80)]
    spec += [("a", 200), ("", 300)]
    ph = timings(spec)
    n = round(ph[-1].end_ms / 1000 * 50)
    norm, closed, _ = normalised_track(ph, n, 50.0)
    frame = {p.symbol: round((p.start_ms + p.end_ms) / 2000 * 50) for p in ph}
    assert closed[frame["ɓ"]] and norm[frame["ɓ"], 0] == 0.0
    assert closed[frame["mʲ"]]  # palatalised, still a closure
    assert not closed[frame["β"]]
    assert norm[frame["β"], 0] < 0.5 * norm[frame["a"], 0]


def test_labels_of_other_languages_are_not_read_as_wide_open_vowels() -> None:
    ph = timings([("", 100), ("ʃ", 100), ("øː", 200), ("n", 100), ("ɪ", 100), ("ç", 100)])
    frames = viseme_frames(ph, 35, 50.0, VISEMES)
    names = [VISEMES[i] for i in frames]
    assert names[7] == "CH" and names[15] == "oh" and names[32] == "ih"
    assert "aa" not in names


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
@pytest.mark.parametrize(
    ("voice_id", "text"),
    [
        ("espeak-de", "Schöne Grüße aus München, ich möchte über Bücher sprechen."),
        ("espeak-fr-fr", "Un bon vin blanc, je suis très heureux. Huit cent."),
        ("espeak-es", "El perro corre rápido y la niña baila en la calle de Sevilla."),
        ("espeak-it", "Gli gnocchi sono buoni e la pizza è calda."),
        ("espeak-sv", "Sju sjösjuka sjömän, hus och gata."),
        ("espeak-tr", "Merhaba, gösterimize hoş geldiniz. Güzel bir gün."),
        ("espeak-pl", "Dzień dobry, szczęście i źdźbło trawy."),
        ("espeak-hu", "Jó napot, üdvözöljük. Gyönyörű."),
        ("espeak-ta", "வணக்கம், எங்கள் விளக்கக்காட்சிக்கு வரவேற்கிறோம்"),
    ],
)
def test_every_sound_espeak_says_has_a_shape(voice_id: str, text: str) -> None:
    from twinstudio.speech import synthesize

    speech = synthesize(text, voice_id)
    sounds = [p.symbol for p in speech.phonemes if p.symbol.strip()]
    assert len(sounds) > 10
    unplaced = sorted({s for s in sounds if viseme(s) == NEUTRAL and lip_symbol(s) != "ə"})
    assert unplaced == [], f"{voice_id}: no lip shape for {unplaced}"
    classes = {viseme_class(s) for s in sounds}
    assert classes <= set(VISEMES)
    assert np.mean([viseme_class(s) == "aa" for s in sounds]) < 0.3
