from __future__ import annotations

import itertools

import numpy as np

from twinstudio.speech.ipa import clean_alignment, distribute, word_spans
from twinstudio.speech.timeline import Track, concat, retime
from twinstudio.speech.types import Timing

from .helpers import assert_tiles


def test_clean_alignment_folds_stress_length_and_pauses() -> None:
    entries = [("^", 10), ("h", 5), ("ˈ", 4), ("iː"[0], 6), ("ː", 3), (" ", 8), ("w", 5), ("ʌ", 7),
               (",", 9), ("$", 1)]  # fmt: skip
    aligned = clean_alignment(entries)
    assert aligned.phonemes == [
        ("", 10),
        ("h", 5),
        ("iː", 4 + 6 + 3 + 4),
        ("w", 4 + 5),
        ("ʌ", 7),
        ("", 10),
    ]
    assert sum(n for _, n in aligned.phonemes) == sum(n for _, n in entries)
    assert aligned.groups == [(1, 2), (3, 4)]


def test_word_spans_split_joined_function_words() -> None:
    # espeak writes "of the people" as two groups: "ʌvðə" "piːpəl"
    aligned = clean_alignment([(c, 10) for c in "ʌvðə piːpəl"])
    spans = word_spans(aligned, ["of", "the", "people"])
    assert [w for w, _, _ in spans] == ["of", "the", "people"]
    assert spans[0][1] == 0 and spans[-1][2] == sum(n for _, n in aligned.phonemes)
    assert all(a[2] <= b[1] for a, b in itertools.pairwise(spans))


def test_distribute_keeps_every_sample() -> None:
    shares = distribute(list("ˈhɛloʊ, wɜːld"), 12345)
    assert sum(n for _, n in shares) == 12345
    assert dict(shares)["ˈ"] == 0


def test_track_to_speech_tiles_after_concatenation() -> None:
    pieces = [
        Track(np.zeros(1001, np.float32), 22050, [("a", 500), ("", 501)], [("x", 0, 500)]),
        Track.silence(333, 22050),
        Track(np.zeros(777, np.float32), 22050, [("", 7), ("b", 770)], [("y", 7, 777)]),
    ]
    speech = concat(pieces, 22050).to_speech()
    assert_tiles(speech)
    assert [p.symbol for p in speech.phonemes] == ["a", "", "b"]
    assert [w.symbol for w in speech.words] == ["x", "y"]


def test_retime_keeps_tiling() -> None:
    timings = [Timing("", 0, 33), Timing("a", 33, 70), Timing("b", 70, 101)]
    scaled = retime(timings, 101, 202, tile=True)
    assert scaled[0].start_ms == 0 and scaled[-1].end_ms == 202
    assert all(a.end_ms == b.start_ms for a, b in itertools.pairwise(scaled))


def test_words_spread_over_the_voice_in_order_by_their_length() -> None:
    from twinstudio.speech.audio import spread_words

    regions = [(1000, 5000), (8000, 10000)]  # 6000 samples of voice, a pause between
    words = spread_words(["a", "bbbb", "cc"], regions, 12000)
    assert [w for w, _, _ in words] == ["a", "bbbb", "cc"]
    starts = [s for _, s, _ in words]
    assert starts[0] == 1000 and starts == sorted(starts)
    # By length + 1 (2 : 5 : 3 of the 6000 voiced samples): "bbbb" starts 1200 in.
    assert abs(starts[1] - 2200) <= 1 and abs(starts[2] - 8200) <= 1  # past the pause
    assert all(1000 <= s < e <= 10000 for _, s, e in words)
    assert spread_words([], regions, 12000) == []
    assert [s for _, s, _ in spread_words(["x", "y"], [], 100)] == [0, 50]  # no voice found
