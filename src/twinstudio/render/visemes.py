"""Visemes: what an IPA phoneme looks like on the lips.

Each phoneme has a shape, ``(open, width, dominance)``: a normalised opening (0 closed … 1 the
person's widest), a width (-1 rounded/pursed … 0 rest … +1 spread) and how strongly it imposes
itself on its neighbours (``render.motion`` blends them). It also has a *class* among the fifteen
the twin's footage is labelled with (``twins.labels.VISEMES``), which the twin's audio-to-mouth
model reads as context.

The tables hold the sounds of English, which is what the footage's recogniser (pocketsphinx's US
English model) hears and what Piper's English voices say. eSpeak's voices speak some forty other
languages and Kokoro's Japanese, and their IPA brings sounds English lacks: the rounded front
vowels of German, French, Swedish or Turkish (``ø œ ʏ``), German's ``ç``, French's ``ʁ``,
Spanish's ``β``, the palatals of Italian or Hungarian (``ɲ ʎ ɟ``), Japanese's ``ɕ ɨ ɯ ʦ ʨ ɴ``,
the retroflexes of Tamil. Before 2026-12-06 each of them got a neutral, unrounded, half-open
shape, and the audio model read it as a wide-open vowel ("aa"); so a German "schön" was said
with spread lips and "ich" with an open mouth (on sample sentences, 111 of 2,350 eSpeak phonemes
across its languages, and 21 of 83 in a Japanese script). :data:`LOOKS_LIKE` now gives each the
English sound made with the same lips: rounding, closure and opening follow the lips and jaw,
while tongue position (palatal, uvular, retroflex), which a camera barely sees, is dropped.
``β``/``ɸ`` (lips nearly meeting, without a closure) have their own shape, and their opening is
held as low as /f v/'s. Letters carrying diacritics (nasal ``ɑ̃``, Japanese ``ä``) take their
base letter's shape, and modifier letters go with their sound (``mʲ`` closes the lips).
"""

from __future__ import annotations

import unicodedata

from twinstudio.speech.audio import ARPABET_TO_IPA
from twinstudio.twins.labels import PHONE_TO_VISEME

# (open, width, dominance)
REST = (0.0, 0.0, 1.0)
NEUTRAL = (0.35, 0.0, 0.6)  # a sound we cannot place: a relaxed, half-open mouth
_CONSONANTS: dict[str, tuple[float, float, float]] = {
    "p": (0.0, 0.0, 2.0), "b": (0.0, 0.0, 2.0), "m": (0.0, 0.0, 2.0),
    "β": (0.04, 0.0, 1.6), "ɸ": (0.04, 0.0, 1.6),
    "f": (0.06, 0.15, 1.6), "v": (0.06, 0.15, 1.6),
    "θ": (0.18, 0.15, 1.5), "ð": (0.18, 0.15, 1.2),
    "t": (0.22, 0.15, 0.5), "d": (0.22, 0.15, 0.5), "n": (0.2, 0.1, 0.5),
    "l": (0.3, 0.1, 0.5), "ɾ": (0.25, 0.1, 0.4), "ʔ": (0.2, 0.0, 0.3),
    "s": (0.1, 0.35, 1.5), "z": (0.1, 0.35, 1.5),
    "ʃ": (0.18, -0.55, 2.0), "ʒ": (0.18, -0.55, 2.0), "tʃ": (0.18, -0.55, 2.0),
    "dʒ": (0.18, -0.55, 2.0),
    "k": (0.3, 0.0, 0.4), "ɡ": (0.3, 0.0, 0.4), "g": (0.3, 0.0, 0.4), "ŋ": (0.25, 0.0, 0.4),
    "x": (0.3, 0.0, 0.4), "h": (0.35, 0.0, 0.2),
    "ɹ": (0.2, -0.5, 1.2), "r": (0.2, -0.5, 1.2), "w": (0.1, -1.0, 1.6),
    "j": (0.15, 0.4, 0.8),
}  # fmt: skip
_VOWELS: dict[str, tuple[float, float, float]] = {
    "i": (0.22, 0.7, 1.0), "ɪ": (0.35, 0.5, 1.0), "ᵻ": (0.33, 0.4, 1.0), "y": (0.2, -0.8, 1.2),
    "e": (0.45, 0.5, 1.0), "ɛ": (0.55, 0.4, 1.0), "æ": (0.8, 0.5, 1.0),
    "a": (0.9, 0.3, 1.0), "ɑ": (0.95, 0.1, 1.0), "ɒ": (0.8, -0.4, 1.0), "ʌ": (0.6, 0.1, 1.0),
    "ə": (0.4, 0.0, 0.7), "ɐ": (0.45, 0.0, 0.7), "ɜ": (0.4, -0.3, 0.8), "ɚ": (0.35, -0.4, 0.8),
    "ɔ": (0.7, -0.6, 1.1), "o": (0.5, -0.8, 1.2), "ʊ": (0.35, -0.7, 1.1), "u": (0.28, -1.0, 1.4),
}  # fmt: skip
# Sounds of other languages → the English sound made with the same lips (see the module doc).
LOOKS_LIKE: dict[str, str] = {
    # rounded front and central vowels: the lips of their back partners
    "ø": "o", "œ": "ɔ", "ʏ": "ʊ", "ɶ": "ɒ", "ɵ": "o", "ʉ": "u", "ɞ": "ɜ",
    # unrounded central and back vowels
    "ɨ": "ɪ", "ɯ": "ɪ", "ɤ": "ə", "ɘ": "ə", "ɝ": "ɚ", "ε": "ɛ",
    # lips: implosive and trilled bilabials close; labiodentals rest the lip on the teeth
    "ɓ": "b", "ʙ": "b", "ʋ": "v", "ɱ": "v", "ⱱ": "v",
    # rounded approximants
    "ɥ": "w", "ʍ": "w",
    # palatals, retroflexes, laterals, implosives: the tongue moves, the lips barely
    "ç": "j", "ʝ": "j", "ɲ": "n", "ʎ": "l", "c": "k", "ɟ": "ɡ", "ɰ": "ɡ",
    "ɭ": "l", "ɫ": "l", "ɬ": "l", "ɮ": "l", "ʟ": "l", "ɺ": "l",
    "ɳ": "n", "ɴ": "ŋ", "ɖ": "d", "ʈ": "t", "ɗ": "d", "ʄ": "d", "ɠ": "ɡ", "ʛ": "ɡ",
    "ɽ": "ɾ", "ɻ": "ɹ", "ʀ": "x", "ʁ": "x", "χ": "x", "ɣ": "x", "q": "k", "ɢ": "ɡ",
    "ħ": "h", "ʕ": "h", "ɦ": "h", "ʡ": "ʔ", "ʜ": "h", "ʢ": "h",
    # hushing and hissing sibilants
    "ɕ": "ʃ", "ʑ": "ʒ", "ʂ": "ʃ", "ʐ": "ʒ", "ɧ": "ʃ",
    # modifier letters standing alone (after a pause, eSpeak's Tamil starts words with "ʲ")
    "ʲ": "j", "ʷ": "w", "ʰ": "h", "ʱ": "h",
    # ligatures
    "ʧ": "tʃ", "ʤ": "dʒ", "ʦ": "ts", "ʣ": "dz", "ʨ": "tʃ", "ʥ": "dʒ",
}  # fmt: skip
CLOSED = frozenset({"p", "b", "m"})  # lips must meet
# Lips nearly meet: the lower lip on the upper teeth (/f v/), or on the upper lip without a
# closure (Spanish "la boca", /β/; /ɸ/).
NEARLY_CLOSED = frozenset({"f", "v", "β", "ɸ"})
# The fifteen classes of the footage's labels (``twins.labels.VISEMES``): every phone the labels
# know, as the labels class it (so training and rendering read a sound alike), and the IPA
# symbols the recogniser never gives but voices do.
_CLASS_OF: dict[str, str] = {
    "": "sil",
    **{ARPABET_TO_IPA[p]: c for p, c in PHONE_TO_VISEME.items() if p in ARPABET_TO_IPA},
    "β": "PP", "ɸ": "PP", "ɾ": "DD", "ʔ": "DD", "g": "kk", "x": "kk", "r": "RR", "ɜ": "RR",
    "a": "aa", "ɐ": "aa", "ə": "aa", "e": "E", "ᵻ": "ih", "o": "oh", "ɒ": "oh", "y": "ou",
}  # fmt: skip


def _known(char: str) -> bool:
    return char in _CONSONANTS or char in _VOWELS


def _english(char: str) -> str:
    """One code point as the English sound with the same lips (itself when English, or
    unknown: a letter with diacritics first falls back to its base letter)."""
    if _known(char):
        return char
    if char in LOOKS_LIKE:
        return LOOKS_LIKE[char]
    base = unicodedata.normalize("NFD", char)[:1]
    if base != char and (_known(base) or base in LOOKS_LIKE):
        return _english(base)
    return char


def lip_symbol(symbol: str) -> str:
    """``symbol`` (one phoneme, IPA) as English sounds with the same lips: length marks,
    diacritics and modifier letters dropped, each other language's sound replaced (``"øː"`` →
    ``"o"``, ``"ɑ̃"`` → ``"ɑ"``, ``"mʲ"`` → ``"m"``, ``"ts"`` stays). Silence is ``""``."""
    s = symbol.replace("ː", "").replace("ˑ", "").strip()
    if _known(s) or s in _CLASS_OF:
        return s
    if s in LOOKS_LIKE:
        return LOOKS_LIKE[s]
    letters = [c for c in s if unicodedata.category(c) != "Mn"]
    # Modifier letters (palatalised "mʲ", aspirated "tʰ") go with their sound: an "mʲ" still
    # closes the lips. Alone (after a pause) a modifier stands for the glide it writes.
    sounds = [c for c in letters if unicodedata.category(c) != "Lm"] or letters
    out = "".join(_english(c) for c in sounds)
    return out or s


def viseme(symbol: str) -> tuple[float, float, float]:
    """(open, width, dominance) of one IPA phoneme; unknown symbols get a neutral mid shape."""
    s = lip_symbol(symbol)
    if not s:
        return REST
    if s in _CONSONANTS:
        return _CONSONANTS[s]
    if s in _VOWELS:
        return _VOWELS[s]
    # Diphthongs and clusters: the first vowel dominates the shape, the second tints it.
    parts = [_VOWELS.get(c) or _CONSONANTS.get(c) for c in s]
    known = [p for p in parts if p is not None]
    if not known:
        return NEUTRAL
    first = known[0]
    if len(known) == 1:
        return first
    second = known[1]
    return (0.7 * first[0] + 0.3 * second[0], 0.7 * first[1] + 0.3 * second[1], first[2])


def viseme_class(symbol: str) -> str:
    """The footage-label class (``"PP"``, ``"aa"``…) of one IPA phoneme; ``"sil"`` for silence.
    A cluster takes its first known sound's class; a sound nothing can place, the neutral "aa"
    (whose shape, ``ə``, is the neutral one too)."""
    s = lip_symbol(symbol)
    if not s:
        return "sil"
    if s in _CLASS_OF:
        return _CLASS_OF[s]
    for c in s:
        if c in _CLASS_OF:
            return _CLASS_OF[c]
    return "aa"
