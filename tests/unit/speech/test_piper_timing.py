"""Piper's phonemes start where the sound does (``piper._phoneme_spans``)."""

from __future__ import annotations

import difflib

import numpy as np
import pytest

from twinstudio.speech import synthesize
from twinstudio.speech.audio import SAMPLE_RATE, _recognise, voice_regions
from twinstudio.speech.effects import resample_to_length

pytestmark = pytest.mark.slow

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Please call Stella and ask her to bring these things with her from the store.",
    "We will meet at the big blue building next to the old paper mill on Monday morning.",
]


def test_piper_phonemes_start_where_the_aligner_hears_them() -> None:
    # The aligner that times footage and custom audio (pocketsphinx, given the words) against
    # Piper's own timings of the same audio: a median 32 ms apart when each of Piper's blank
    # tokens was counted in the phoneme before it; about 10 ms now, as Festival's and eSpeak's
    # timings are (5 and 11 ms).
    differences: list[float] = []
    for text in SENTENCES:
        speech = synthesize(text, "en_US-joe-medium")
        audio = speech.audio
        if speech.sample_rate != SAMPLE_RATE:
            audio = resample_to_length(audio, round(len(audio) * SAMPLE_RATE / speech.sample_rate))
        track = _recognise(audio, text, voice_regions(audio, SAMPLE_RATE))
        assert track is not None
        heard, position = [], 0
        for symbol, n in track.phonemes:
            if symbol:
                heard.append((symbol, position / SAMPLE_RATE * 1000))
            position += n
        said = [
            (p.symbol.replace("ː", ""), p.start_ms) for p in speech.phonemes if p.symbol.strip()
        ]
        match = difflib.SequenceMatcher(
            a=[s for s, _ in said], b=[s for s, _ in heard], autojunk=False
        )
        for block in match.get_matching_blocks():
            for k in range(block.size):
                differences.append(heard[block.b + k][1] - said[block.a + k][1])
    assert len(differences) > 80
    assert abs(float(np.median(differences))) < 20
    assert float(np.median(np.abs(differences))) < 25
