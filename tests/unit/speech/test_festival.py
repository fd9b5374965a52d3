"""Festival (female US English HTS voice): Scheme dump parsing, exact timings, the catalog."""

from __future__ import annotations

import shutil

import pytest

from twinstudio.speech import get_voice, list_voices, synthesize
from twinstudio.speech.engines import festival

from .helpers import assert_tiles, assert_words_in_order

SLT = "festival-en_US-slt-hts"
needs_festival = pytest.mark.skipif(
    shutil.which("festival") is None or festival.voice_dir("cmu_us_slt_arctic_hts") is None,
    reason="festival + festvox-us-slt-hts not installed",
)

DUMP = """\
W 1 1
W 2 3
W 3 3
S pau 0.100000 0
S hh 0.150000 1
S ax 0.200000 1
S l 0.250000 1
S ow 0.400000 1
S pau 0.500000 0
S eh 0.600000 2
S dx 0.650000 2
S iy 0.700000 3
S pau 0.800000 0
"""


def test_dump_becomes_ipa_phonemes_tiling_the_audio() -> None:
    segments, word_token = festival.parse_dump(DUMP)
    assert word_token == {1: 1, 2: 3, 3: 3}
    aligned = festival.alignment(segments, word_token, n_samples=801, sample_rate=1000)
    symbols = [s for s, _ in aligned.phonemes]
    assert symbols == ["", "h", "ə", "l", "oʊ", "", "ɛ", "ɾ", "i", ""]
    assert sum(n for _, n in aligned.phonemes) == 801  # the last one absorbs the remainder
    assert aligned.phonemes[1] == ("h", 50)
    # words 2 and 3 belong to one token ("eddie-e" style): one group, so one caption word
    assert aligned.groups == [(1, 4), (6, 8)]


def test_scheme_string_escapes_quotes_and_backslashes() -> None:
    assert festival.scheme_string('say "hi" \\ now\n') == 'say \\"hi\\" \\\\ now '


def test_no_festival_binary_means_no_voices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(festival, "binary", lambda: None)
    assert festival.FestivalEngine().voices() == []


@pytest.mark.slow
@needs_festival
def test_festival_timings_tile_and_words_match_the_text() -> None:
    speech = synthesize("Dr. Smith paid $3.50 in 1985, didn't he? Yes!", SLT)
    assert speech.sample_rate == 22050
    assert_tiles(speech)
    assert_words_in_order(speech)
    assert [w.symbol for w in speech.words] == [
        "Doctor", "Smith", "paid", "three", "dollars", "and", "fifty", "cents", "in",
        "nineteen", "eighty-five", "didn't", "he", "Yes",
    ]  # fmt: skip
    symbols = {p.symbol for p in speech.phonemes}
    assert {"d", "ɑ", "θ", "aɪ"} <= symbols and not any(s.isascii() and len(s) > 1 for s in symbols)


@needs_festival
def test_catalog_has_a_female_english_voice_and_enough_languages() -> None:
    voices = list_voices()
    english = [v for v in voices if v.language == "English"]
    assert len(english) >= 2
    assert any(v.gender == "female" for v in english)
    assert len({v.language for v in voices}) >= 30
    assert all(v.quality != "robotic" for v in english)  # eSpeak English is hidden by default
    slt = get_voice(SLT)
    assert (slt.locale, slt.gender, slt.engine, slt.quality) == (
        "en-US",
        "female",
        "festival",
        "parametric",
    )
    assert "commercial" in slt.license and "EST" in slt.license
