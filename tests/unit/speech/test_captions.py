from __future__ import annotations

import itertools
import re

from twinstudio.speech.captions import group_cues, to_srt, to_vtt
from twinstudio.speech.types import Timing

WORDS = [
    Timing(w, i * 400, i * 400 + 350)
    for i, w in enumerate(
        [
            "the",
            "quick",
            "brown",
            "fox",
            "jumps",
            "over",
            "the",
            "lazy",
            "dog",
            "while",
            "seven",
            "small",
            "birds",
            "sing",
            "loudly",
        ]
    )
]
_CUE = re.compile(r"(\d\d):(\d\d):(\d\d)[,.](\d{3}) --> (\d\d):(\d\d):(\d\d)[,.](\d{3})")


def _ms(h: str, m: str, s: str, ms: str) -> int:
    return ((int(h) * 60 + int(m)) * 60 + int(s)) * 1000 + int(ms)


def _spans(text: str) -> list[tuple[int, int]]:
    return [(_ms(*g[:4]), _ms(*g[4:])) for g in _CUE.findall(text)]


def test_srt_cues_ordered_inside_audio_and_short() -> None:
    srt = to_srt(WORDS, max_chars=20)
    spans = _spans(srt)
    assert len(spans) >= 3
    assert spans[0][0] == WORDS[0].start_ms and spans[-1][1] == WORDS[-1].end_ms
    for (s1, e1), (s2, _) in itertools.pairwise(spans):
        assert s1 < e1 <= s2
    blocks = srt.strip().split("\n\n")
    assert [b.splitlines()[0] for b in blocks] == [str(i) for i in range(1, len(blocks) + 1)]
    assert all(len(b.splitlines()[2]) <= 20 for b in blocks)
    assert " ".join(b.splitlines()[2] for b in blocks) == " ".join(w.symbol for w in WORDS)


def test_long_pause_starts_a_new_cue() -> None:
    words = [Timing("hello", 0, 300), Timing("again", 2000, 2400)]
    assert [c.text for c in group_cues(words)] == ["hello", "again"]


def test_vtt_header_and_dot_separator() -> None:
    vtt = to_vtt(WORDS)
    assert vtt.startswith("WEBVTT\n\n")
    assert "00:00:00.000 --> " in vtt
    assert _spans(vtt)[-1][1] == WORDS[-1].end_ms


def test_no_words_no_cues() -> None:
    assert to_srt([]) == ""
