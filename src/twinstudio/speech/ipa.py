"""From per-character espeak IPA alignments to clean phonemes and word spans.

Piper (and our eSpeak engine) give one entry per IPA *code point* with a sample count: stress
marks ``ˈ ˌ`` and the length mark ``ː`` are separate entries, words are separated by ``" "``, and
``^``/``$``/punctuation are pauses. :func:`clean_alignment` folds these into the contract's
phonemes: stress marks dropped (their time goes to the next phoneme), modifiers such as ``ː``
kept on their vowel (``"iː"``), every pause as ``""``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from twinstudio.speech.timeline import SILENCE

STRESS = frozenset("ˈˌ'")
WORD_BREAK = " "


def is_modifier(char: str) -> bool:
    """Length marks, aspiration, palatalisation, combining diacritics: part of the previous sound."""
    return unicodedata.category(char) in ("Lm", "Mn") and char not in STRESS


def is_sound(char: str) -> bool:
    return unicodedata.category(char)[0] in "LM" and char not in STRESS


@dataclass
class Aligned:
    """The cleaned result: phonemes tiling the samples, and each word's phoneme index range."""

    phonemes: list[tuple[str, int]]
    groups: list[tuple[int, int]]  # [first, last] phoneme indices of each spoken word group


def clean_alignment(entries: Sequence[tuple[str, int]]) -> Aligned:
    """Fold ``(code point, n_samples)`` entries into phonemes and word groups (see module doc)."""
    phonemes: list[tuple[str, int]] = []
    groups: list[tuple[int, int]] = []
    group_start: int | None = None
    carry = 0  # samples of stress marks waiting for the next phoneme
    pending_space = 0  # samples of a word break waiting to be shared by its neighbours

    def close_group() -> None:
        nonlocal group_start
        if group_start is not None and group_start < len(phonemes):
            groups.append((group_start, len(phonemes) - 1))
        group_start = None

    for char, n in entries:
        if char == WORD_BREAK:
            close_group()
            pending_space += n
        elif char in STRESS:
            carry += n
        elif is_modifier(char) and phonemes and phonemes[-1][0] != SILENCE:
            symbol, samples = phonemes[-1]
            phonemes[-1] = (symbol + char, samples + n)
        elif is_sound(char):
            if pending_space:
                # A word break inside speech: half to the end of the last word, half to this one.
                if phonemes and phonemes[-1][0] != SILENCE:
                    half = pending_space // 2
                    symbol, samples = phonemes[-1]
                    phonemes[-1] = (symbol, samples + half)
                    carry += pending_space - half
                else:
                    carry += pending_space
                pending_space = 0
            if group_start is None:
                group_start = len(phonemes)
            phonemes.append((char, n + carry))
            carry = 0
        else:  # ^ $ and punctuation: a pause
            close_group()
            n += carry + pending_space
            carry = pending_space = 0
            if phonemes and phonemes[-1][0] == SILENCE:
                phonemes[-1] = (SILENCE, phonemes[-1][1] + n)
            else:
                phonemes.append((SILENCE, n))
    close_group()
    rest = carry + pending_space
    if rest:
        if phonemes:
            symbol, samples = phonemes[-1]
            phonemes[-1] = (symbol, samples + rest)
        else:
            phonemes.append((SILENCE, rest))
    return Aligned(phonemes, groups)


def phoneme_count(ipa: str) -> int:
    """How many phonemes :func:`clean_alignment` would make of an IPA string."""
    return sum(1 for c in ipa if is_sound(c) and not is_modifier(c))


def _nearest(values: set[int], target: int) -> int:
    return min(sorted(values), key=lambda value: abs(value - target))


def _letters(word: str) -> int:
    return sum(c.isalpha() for c in word)


def word_spans(
    aligned: Aligned,
    words: Sequence[str],
    expected_length: Callable[[str], int] | None = None,
) -> list[tuple[str, int, int]]:
    """Give each text word a sample span from the phoneme groups.

    espeak joins some function words ("of the" → ``ʌvðə``) and splits others, so when the group
    count differs from the word count, each word's phoneme boundary is placed proportionally to
    its expected phoneme count (``expected_length``, default: its letter count), then snapped to a
    nearby word break.
    """
    if not words or not aligned.groups:
        return []
    starts = [0]
    for _, n in aligned.phonemes:
        starts.append(starts[-1] + n)
    if len(words) == len(aligned.groups):
        return [
            (w, starts[a], starts[b + 1]) for w, (a, b) in zip(words, aligned.groups, strict=True)
        ]

    speech = [i for g in aligned.groups for i in range(g[0], g[1] + 1)]  # spoken phoneme indices
    breaks = {0, len(speech)}
    position = 0
    for a, b in aligned.groups:
        position += b - a + 1
        breaks.add(position)
    measure = expected_length or _letters
    weights = [max(1, measure(w)) for w in words]
    total = sum(weights)
    spans: list[tuple[str, int, int]] = []
    previous = 0
    cumulative = 0
    for k, (word, weight) in enumerate(zip(words, weights, strict=True)):
        cumulative += weight
        if k == len(words) - 1:
            boundary = len(speech)
        else:
            boundary = round(len(speech) * cumulative / total)
            near = _nearest(breaks, boundary)
            if abs(near - boundary) <= 1:
                boundary = near
            remaining = len(words) - k - 1
            boundary = max(previous + 1, min(boundary, len(speech) - remaining))
        boundary = min(max(boundary, previous), len(speech))
        if boundary > previous:
            first, last = speech[previous], speech[boundary - 1]
            spans.append((word, starts[first], starts[last + 1]))
        previous = boundary
    return spans


_VOWELS = frozenset("aeiouyæɑɐɒɔəɘɚɛɜɝɞɤɨɪɯɵøœɶʉʊʌʏ")


def _weight(char: str) -> float:
    """Rough relative duration of one IPA code point, for estimated (not measured) timings."""
    if char in STRESS:
        return 0.0
    if char == WORD_BREAK:
        return 0.3
    if is_modifier(char):
        return 0.6  # mostly the length mark: a long vowel is ~1.5x a short one
    if char in _VOWELS:
        return 1.6
    if is_sound(char):
        return 1.0
    return 2.0  # pauses: ^ $ and punctuation


def distribute(chars: Sequence[str], n_samples: int) -> list[tuple[str, int]]:
    """Share ``n_samples`` among IPA code points by typical duration (largest remainder)."""
    weights = [_weight(c) for c in chars]
    total = sum(weights)
    if not chars:
        return []
    if total <= 0:
        weights, total = [1.0] * len(chars), float(len(chars))
    exact = [w * n_samples / total for w in weights]
    counts = [int(e) for e in exact]
    order = sorted(range(len(chars)), key=lambda i: exact[i] - counts[i], reverse=True)
    for i in order[: n_samples - sum(counts)]:
        counts[i] += 1
    return list(zip(chars, counts, strict=True))
