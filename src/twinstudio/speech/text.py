"""Script preprocessing: ``<break time="1.5s"/>`` pauses, sentence splitting, English normalising.

A script becomes a list of :class:`Segment` — either text to speak or an exact pause — so engines
only ever see plain sentences, and pauses are inserted as digital silence of the requested length.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from twinstudio.errors import InvalidParameter
from twinstudio.speech import numbers

MAX_BREAK_MS = 10_000  # longer pauses are almost certainly a typo ("15s" for "1.5s")

_BREAK = re.compile(r"<\s*break\b([^>]*)/?\s*>", re.IGNORECASE)
_BREAK_TIME = re.compile(r"""time\s*=\s*["']?\s*(\d+(?:\.\d+)?)\s*(ms|s)?\s*["']?""", re.I)
_OTHER_TAG = re.compile(r"<[^>]{0,200}>")


@dataclass(frozen=True)
class Segment:
    """Either ``text`` to speak (``pause_ms == 0``) or a pause of ``pause_ms`` (``text == ""``)."""

    text: str = ""
    pause_ms: int = 0

    @property
    def is_pause(self) -> bool:
        return not self.text


def _break_ms(attributes: str) -> int:
    match = _BREAK_TIME.search(attributes)
    if not match:
        raise InvalidParameter(
            f'<break{attributes}> needs a time, e.g. <break time="1.5s"/> or "500ms"',
            param="script",
        )
    value = float(match.group(1))
    ms = round(value if (match.group(2) or "s").lower() == "ms" else value * 1000)
    if ms > MAX_BREAK_MS:
        raise InvalidParameter(
            f"a <break> may last at most {MAX_BREAK_MS / 1000:g}s (got {ms / 1000:g}s)",
            param="script",
        )
    return ms


def parse_script(script: str) -> list[Segment]:
    """Split a script at ``<break>`` tags; other tags are dropped, adjacent pauses are merged."""
    segments: list[Segment] = []

    def add_text(chunk: str) -> None:
        chunk = " ".join(_OTHER_TAG.sub(" ", chunk).split())
        if chunk:
            segments.append(Segment(text=chunk))

    position = 0
    for match in _BREAK.finditer(script):
        add_text(script[position : match.start()])
        ms = _break_ms(match.group(1))
        if segments and segments[-1].is_pause:
            segments[-1] = Segment(pause_ms=segments[-1].pause_ms + ms)
        elif ms:
            segments.append(Segment(pause_ms=ms))
        position = match.end()
    add_text(script[position:])
    return segments


# A sentence ends at . ! ? (optionally followed by quotes/brackets) before whitespace, or at
# the full-width 。！？ of Chinese and Japanese, which need no space after them.
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+|(?<=[。！？])[」』）]*\s*")


def split_sentences(text: str) -> list[str]:
    """Split normalised text into sentences (abbreviations are already expanded by then)."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


_ABBREVIATIONS = {
    "dr": "Doctor",
    "mr": "Mister",
    "mrs": "Missus",
    "ms": "Miz",
    "prof": "Professor",
    "st": "Saint",
    "jr": "Junior",
    "sr": "Senior",
    "vs": "versus",
    "etc": "et cetera",
    "approx": "approximately",
    "inc": "Incorporated",
    "ltd": "Limited",
    "dept": "Department",
    "no": "number",  # only before a digit, see below
}
_LATIN = {"e.g.": "for example", "i.e.": "that is", "a.m.": "A M", "p.m.": "P M"}
_SYMBOLS = {"&": " and ", "%": " percent", "+": " plus ", "@": " at ", "=": " equals "}
_SCALE_WORDS = r"(?:\s+(thousand|million|billion|trillion))?"

_RE_LATIN = re.compile(r"(?<!\w)(e\.g\.|i\.e\.|a\.m\.|p\.m\.)", re.I)
_RE_ABBREV = re.compile(
    r"\b(" + "|".join(_ABBREVIATIONS) + r")\.(\s+\d)?(?=(\s+(?-i:[A-Z]))?)", re.I
)
# These usually end a phrase, so before a capital letter the period also ends the sentence.
_PHRASE_FINAL = {"etc", "inc", "ltd", "jr", "sr", "st"}
_RE_MONEY = re.compile(r"([$€£])\s?(\d[\d,]*(?:\.\d+)?)" + _SCALE_WORDS, re.I)
_RE_PERCENT = re.compile(r"(-?\d[\d,]*(?:\.\d+)?)\s?%")
_RE_ORDINAL = re.compile(r"\b(\d+)(st|nd|rd|th)\b", re.I)
_RE_TIME = re.compile(r"\b([01]?\d|2[0-3]):([0-5]\d)\b")
_RE_YEAR = re.compile(r"(?<![\d.,$€£-])\b(1[1-9]\d\d|20\d\d)(s?)\b(?![.,]\d)")
_RE_NUMBER = re.compile(r"(?<![\w.])(-)?(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?!\w)")


def _abbreviation(match: re.Match[str]) -> str:
    word, digit = match.group(1), match.group(2)
    if word.lower() == "no":
        # "No." is only "number" before a digit; otherwise it is the word "no" ending a sentence.
        return f"number{digit}" if digit else match.group(0)
    key = word.lower()
    before = match.string[: match.start()].rstrip()
    if key == "st" and before[-1:].isalpha() and before.split()[-1][:1].isupper():
        # "Main St." is a street; "St. Louis" is a saint.
        expansion = "Street"
    else:
        expansion = _ABBREVIATIONS[key]
    if key in _PHRASE_FINAL and match.group(3) and (key != "st" or expansion == "Street"):
        expansion += "."
    return expansion + (digit or "")


def _year(match: re.Match[str]) -> str:
    spoken = numbers.year(int(match.group(1)))
    if match.group(2):  # "the 1980s" → "the nineteen eighties"
        last = spoken.rsplit(" ", 1)[-1]
        plural = last[:-1] + "ies" if last.endswith("y") else last + "s"
        spoken = spoken[: len(spoken) - len(last)] + plural
    return spoken


def _number(match: re.Match[str]) -> str:
    sign, whole, frac = match.group(1), match.group(2), match.group(3) or ""
    spoken = numbers.decimal(whole + frac)
    return f"minus {spoken}" if sign else spoken


def _time(match: re.Match[str]) -> str:
    hour, minute = int(match.group(1)), int(match.group(2))
    if minute == 0:
        return f"{numbers.cardinal(hour)} o'clock"
    if minute < 10:
        return f"{numbers.cardinal(hour)} oh {numbers.cardinal(minute)}"
    return f"{numbers.cardinal(hour)} {numbers.cardinal(minute)}"


def normalize_english(text: str) -> str:
    """Spell out what an English TTS would misread: numbers, years, money, %, abbreviations.

    ``"Dr. Smith paid $3.50 in 1985"`` → ``"Doctor Smith paid three dollars and fifty cents in
    nineteen eighty-five"``.
    """
    text = _RE_LATIN.sub(lambda m: _LATIN[m.group(1).lower()], text)
    text = _RE_ABBREV.sub(_abbreviation, text)
    text = _RE_MONEY.sub(lambda m: numbers.money(m.group(1), m.group(2), m.group(3)), text)
    text = _RE_PERCENT.sub(lambda m: f"{_number_text(m.group(1))} percent", text)
    text = _RE_ORDINAL.sub(lambda m: numbers.ordinal(int(m.group(1))), text)
    text = _RE_TIME.sub(_time, text)
    text = _RE_YEAR.sub(_year, text)
    text = _RE_NUMBER.sub(_number, text)
    for symbol, word in _SYMBOLS.items():
        text = text.replace(symbol, word)
    return " ".join(text.split())


def _number_text(text: str) -> str:
    match = _RE_NUMBER.fullmatch(text)
    return _number(match) if match else text


def prepare(script: str, language: str = "en") -> list[Segment]:
    """The whole pipeline: breaks → (English: normalise) → one text segment per sentence."""
    prepared: list[Segment] = []
    for segment in parse_script(script):
        if segment.is_pause:
            prepared.append(segment)
            continue
        text = (
            normalize_english(segment.text) if language.lower().startswith("en") else segment.text
        )
        prepared.extend(Segment(text=sentence) for sentence in split_sentences(text))
    return prepared


_WORD = re.compile(r"[\w'’-]+")


def words_of(text: str) -> list[str]:
    """The spoken words of a sentence (punctuation dropped, apostrophes and hyphens kept)."""
    return [w.strip("'’-") for w in _WORD.findall(text) if w.strip("'’-")]
