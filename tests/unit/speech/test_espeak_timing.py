"""eSpeak voices are timed by eSpeak itself (its library's phoneme events), not estimated."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from twinstudio.speech import get_voice
from twinstudio.speech.engines import espeak, espeak_lib
from twinstudio.speech.ipa import clean_alignment
from twinstudio.speech.timeline import Track, rescale_spans

from .helpers import assert_tiles, assert_words_in_order

needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None or espeak_lib.library() is None,
    reason="espeak-ng (binary and library) not installed",
)


def test_marks_become_entries_that_tile_the_sound() -> None:
    marks = [
        ("word", 100),
        ("phoneme", 100, "h"),
        ("phoneme", 300, "aʊ"),
        ("phoneme", 700, ""),  # a pause inside the sentence
        ("word", 900),
        ("phoneme", 900, "øː"),
        ("phoneme", 1200, "n"),
    ]
    entries = espeak.alignment_from_marks(marks, 1500)
    assert sum(n for _, n in entries) == 1500
    assert entries[0] == (" ", 0) and entries[1] == (".", 100)  # the word, then leading silence
    aligned = clean_alignment(entries)
    starts, position = {}, 0
    for symbol, n in aligned.phonemes:
        starts.setdefault(symbol, position)
        position += n
    # Each phoneme starts where eSpeak said; a diphthong's letters share its span.
    assert starts["h"] == 100 and starts["a"] == 300 and starts["ʊ"] < 700
    assert starts["øː"] == 900 and starts["n"] == 1200
    assert len(aligned.groups) == 2  # two words
    # At another sample rate the same spans, stretched, still tile the sound.
    stretched = rescale_spans(entries, sum(n for _, n in entries), 3000)
    assert sum(n for _, n in stretched) == 3000
    assert [s for s, _ in stretched] == [s for s, _ in entries]
    assert all(
        2 * n - 1 <= m <= 2 * n + 1 for (_, n), (_, m) in zip(entries, stretched, strict=True)
    )


@needs_espeak
@pytest.mark.slow
@pytest.mark.parametrize(
    ("code", "text"),
    [
        ("en-us", "Papa kept a tiny pot of paint by the back door."),
        ("de", "Peter packt tapfer Pakete, Kati backt Kuchen."),
        ("es", "Papá tapa la copa de Pepe con cuidado."),
        ("it", "Papà porta la pasta, Tito tocca le tappe."),
    ],
)
def test_stop_closures_fall_where_the_sound_is_silent(code: str, text: str) -> None:
    # A /p t k b/ starts with its closure: near silence. With phonemes placed where eSpeak
    # says, the first half of every stop is quiet against the vowels (0.19-0.25 of their
    # loudness); with the old estimates these spans caught vowels (es 1.07, it 1.35).
    track = espeak.EspeakEngine().speak(text, get_voice(f"espeak-{code}"))
    track.check()
    spans, position = [], 0
    for symbol, n in track.phonemes:
        spans.append((symbol, position, position + n))
        position += n

    def rms(a: int, b: int) -> float:
        return float(np.sqrt(np.mean(track.audio[a:b] ** 2)))

    closures = [
        rms(a, a + (b - a) // 2) for s, a, b in spans if s in ("p", "b", "t", "k") and b > a
    ]
    vowels = [rms(a, b) for s, a, b in spans if s[:1] in "aeiouɑɛɪɔʊəæʌ" and s and b > a]
    assert len(closures) >= 8 and vowels
    assert np.mean(closures) < 0.3 * np.mean(vowels)


@needs_espeak
@pytest.mark.slow
def test_a_script_keeps_its_words_and_each_phoneme_starts_at_its_event(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from twinstudio.speech import synthesize

    sentence = "Schöne Grüße aus München."
    speech = synthesize(f"{sentence} Ich möchte über Bücher sprechen.", "espeak-de")
    assert_tiles(speech)
    assert_words_in_order(speech)
    assert [w.symbol for w in speech.words] == [
        "Schöne", "Grüße", "aus", "München", "Ich", "möchte", "über", "Bücher", "sprechen",
    ]  # fmt: skip
    symbols = [p.symbol for p in speech.phonemes]
    assert "øː" in symbols and "ç" in symbols
    # Every phoneme starts at the sample eSpeak's event gave it, in the same synthesis.
    lib = espeak_lib.library()
    assert lib is not None
    seen: list[espeak_lib.Synthesis] = []
    speak = lib.speak

    def spy(text: str, code: str) -> espeak_lib.Synthesis | None:
        result = speak(text, code)
        if result is not None:
            seen.append(result)
        return result

    monkeypatch.setattr(lib, "speak", spy)
    track = espeak.EspeakEngine().speak(sentence, get_voice("espeak-de"))
    events = {m[1] for m in seen[0].marks if m[0] == "phoneme" and m[2]}
    position, first_letters = 0, []
    for symbol, n in track.phonemes:
        if symbol and position not in events:
            first_letters.append((symbol, position))
        position += n
    assert len(events) > 15
    assert all(symbol in "ʊɪ" for symbol, _ in first_letters), first_letters


@needs_espeak
@pytest.mark.slow
def test_without_the_library_timings_are_estimated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(espeak_lib, "library", lambda: None)
    track = espeak.EspeakEngine().speak("Hello there, friend.", get_voice("espeak-en-us"))
    assert isinstance(track, Track)
    track.check()
    assert [w[0] for w in track.words] == ["Hello", "there", "friend"]


@needs_espeak
@pytest.mark.slow
def test_threads_speaking_at_once_each_get_their_own_sentence() -> None:
    # eSpeak has one synthesis per process: the library serialises them (``espeak_lib._lock``).
    from concurrent.futures import ThreadPoolExecutor

    engine = espeak.EspeakEngine()
    jobs = [("de", "Guten Morgen, liebe Freunde."), ("es", "Buenas noches a todos.")] * 4

    def words(job: tuple[str, str]) -> list[str]:
        track = engine.speak(job[1], get_voice(f"espeak-{job[0]}"))
        track.check()
        return [w[0] for w in track.words]

    with ThreadPoolExecutor(4) as pool:
        heard = list(pool.map(words, jobs))
    assert (
        heard == [["Guten", "Morgen", "liebe", "Freunde"], ["Buenas", "noches", "a", "todos"]] * 4
    )
