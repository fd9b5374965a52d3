"""eSpeak NG voices: robotic but intelligible speech in 40+ languages.

Each sentence is spoken through eSpeak's shared library (``espeak_lib``), which reports where
every phoneme and word starts as it synthesises: the timings the mouth follows are eSpeak's own.
Without the library, one ``espeak-ng`` process per sentence writes the WAV (``-w``) and the IPA
(``--ipa`` via ``--phonout``); the command line gives no phoneme times without MBROLA, so timings
are then *estimated*: leading/trailing silence and clause pauses are found from the waveform's
energy, and each clause's speech span is shared among its IPA phonemes by typical duration
(vowels longer than consonants, long vowels longer still), ~44 ms off on average (``espeak_lib``).
The binary also lists the installed voices, so it is what the engine needs either way.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import wave
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from twinstudio.errors import MissingDependency, TwinstudioError
from twinstudio.speech import ipa
from twinstudio.speech.analysis import speech_regions
from twinstudio.speech.base import TTSEngine, engines
from twinstudio.speech.engines import espeak_lib
from twinstudio.speech.text import words_of
from twinstudio.speech.timeline import Track, rescale_spans
from twinstudio.speech.types import Voice

INSTALL_HINT = "install the espeak-ng binary (Debian/Ubuntu: apt-get install -y espeak-ng)"
LICENSE = "eSpeak NG is GPL-3.0-or-later; its speech output carries no licence restriction."
TIMEOUT_S = 60
# The binary ends each sentence on 0.23-0.29 s of silence (ten sentences, five languages) that
# the library's synthesis leaves out; it is added back so that sentences keep their pace.
SENTENCE_END_PAUSE_S = 0.28

# espeak voice → (language as HeyGen lists it, locale, variant shown in the name)
LANGUAGES: dict[str, tuple[str, str, str]] = {
    "af": ("Afrikaans", "af-ZA", ""),
    "ar": ("Arabic", "ar-SA", ""),
    "bg": ("Bulgarian", "bg-BG", ""),
    "ca": ("Catalan", "ca-ES", ""),
    "cs": ("Czech", "cs-CZ", ""),
    "cy": ("Welsh", "cy-GB", ""),
    "da": ("Danish", "da-DK", ""),
    "de": ("German", "de-DE", ""),
    "el": ("Greek", "el-GR", ""),
    "en-us": ("English", "en-US", "US"),
    "en-gb": ("English", "en-GB", "UK"),
    "es": ("Spanish", "es-ES", "Spain"),
    "es-419": ("Spanish", "es-419", "Latin America"),
    "et": ("Estonian", "et-EE", ""),
    "fa": ("Persian", "fa-IR", ""),
    "fi": ("Finnish", "fi-FI", ""),
    "fr-fr": ("French", "fr-FR", ""),
    "he": ("Hebrew", "he-IL", ""),
    "hi": ("Hindi", "hi-IN", ""),
    "hr": ("Croatian", "hr-HR", ""),
    "hu": ("Hungarian", "hu-HU", ""),
    "id": ("Indonesian", "id-ID", ""),
    "is": ("Icelandic", "is-IS", ""),
    "it": ("Italian", "it-IT", ""),
    "ko": ("Korean", "ko-KR", ""),
    "lt": ("Lithuanian", "lt-LT", ""),
    "lv": ("Latvian", "lv-LV", ""),
    "ms": ("Malay", "ms-MY", ""),
    "nb": ("Norwegian", "nb-NO", ""),
    "nl": ("Dutch", "nl-NL", ""),
    "pl": ("Polish", "pl-PL", ""),
    "pt": ("Portuguese", "pt-PT", "Portugal"),
    "pt-br": ("Portuguese", "pt-BR", "Brazil"),
    "ro": ("Romanian", "ro-RO", ""),
    "ru": ("Russian", "ru-RU", ""),
    "sk": ("Slovak", "sk-SK", ""),
    "sl": ("Slovenian", "sl-SI", ""),
    "sr": ("Serbian", "sr-RS", ""),
    "sv": ("Swedish", "sv-SE", ""),
    "sw": ("Swahili", "sw-KE", ""),
    "ta": ("Tamil", "ta-IN", ""),
    "tr": ("Turkish", "tr-TR", ""),
    "uk": ("Ukrainian", "uk-UA", ""),
    "vi": ("Vietnamese", "vi-VN", ""),
}

_LANGUAGE_SWITCH = re.compile(r"\([a-z-]+\)")  # espeak marks "(en)" when it switches language
_TONE_OR_DIGIT = re.compile(r"[0-9]")


def binary() -> str | None:
    return shutil.which("espeak-ng")


@lru_cache(maxsize=1)
def _installed_languages() -> frozenset[str]:
    """Voice names ``espeak-ng --voices`` knows (one quick process, cached)."""
    exe = binary()
    if exe is None:
        return frozenset()
    try:
        listing = subprocess.run(
            [exe, "--voices"], capture_output=True, text=True, timeout=10, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset(line.split()[1].lower() for line in listing.splitlines()[1:] if line.split())


def voice_id(language: str) -> str:
    return f"espeak-{language}"


class EspeakEngine(TTSEngine):
    """Formant synthesis through the ``espeak-ng`` binary; see the module docstring."""

    name = "espeak"
    sample_rate = 22050

    def voices(self) -> list[Voice]:
        installed = _installed_languages()
        voices = []
        for code, (language, locale, variant) in LANGUAGES.items():
            if code not in installed:
                continue
            detail = f"{variant}, robotic" if variant else "robotic"
            voices.append(
                Voice(
                    voice_id=voice_id(code),
                    name=f"eSpeak {language} ({detail})",
                    language=language,
                    locale=locale,
                    gender="male",
                    engine=self.name,
                    license=LICENSE,
                    origin=f"espeak-ng voice {code!r}",
                    quality="robotic",
                )
            )
        return voices

    def speak(self, sentence: str, voice: Voice) -> Track:
        exe = binary()  # it lists the voices; the package that installs it brings the library
        if exe is None:
            raise MissingDependency(f"eSpeak voices need espeak-ng: {INSTALL_HINT}")
        code = voice.voice_id.removeprefix("espeak-")
        lib = espeak_lib.library()
        spoken = lib.speak(sentence, code) if lib is not None else None
        if spoken is None:
            return self._speak_estimated(exe, sentence, code)
        pause = np.zeros(round(SENTENCE_END_PAUSE_S * spoken.sample_rate), np.float32)
        audio = np.concatenate([spoken.audio.astype(np.float32) / 32768.0, pause])
        entries = [*alignment_from_marks(spoken.marks, len(spoken.audio)), (".", len(pause))]
        if spoken.sample_rate != self.sample_rate:
            from twinstudio.speech.effects import resample_to_length

            ratio = self.sample_rate / spoken.sample_rate
            spoken_n = len(audio)
            audio = resample_to_length(audio, round(spoken_n * ratio))
            entries = rescale_spans(entries, spoken_n, len(audio))
        aligned = ipa.clean_alignment(entries)
        track = Track(audio, self.sample_rate, aligned.phonemes)
        track.words = ipa.word_spans(aligned, words_of(sentence))
        track.check()
        return track

    def _speak_estimated(self, exe: str, sentence: str, code: str) -> Track:
        """Through the binary ``exe`` in eSpeak's voice ``code``, timings estimated (no library:
        see ``espeak_lib``)."""
        with tempfile.TemporaryDirectory(prefix="twinstudio-espeak-") as folder:
            wav_path, ipa_path = Path(folder) / "speech.wav", Path(folder) / "ipa.txt"
            command = [exe, "-v", code, "-b", "1", "--ipa", f"--phonout={ipa_path}"]
            command += ["-w", str(wav_path), "--stdin"]
            try:
                subprocess.run(
                    command, input=sentence.encode(), capture_output=True,
                    timeout=TIMEOUT_S, check=True,
                )  # fmt: skip
            except (OSError, subprocess.SubprocessError) as error:
                raise TwinstudioError(f"espeak-ng failed on voice {code!r}: {error}") from error
            audio, rate = _read_wav(wav_path)
            clauses = _clauses(ipa_path.read_text(encoding="utf-8", errors="replace"))
        if rate != self.sample_rate:
            from twinstudio.speech.effects import resample_to_length

            audio = resample_to_length(audio, round(len(audio) * self.sample_rate / rate))
        aligned = ipa.clean_alignment(estimate_alignment(audio, self.sample_rate, clauses))
        track = Track(audio, self.sample_rate, aligned.phonemes)
        track.words = ipa.word_spans(aligned, words_of(sentence))
        track.check()
        return track


def _read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as handle:
        rate, frames = handle.getframerate(), handle.readframes(handle.getnframes())
    return np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0, rate


def _clauses(ipa_text: str) -> list[str]:
    cleaned = (
        _TONE_OR_DIGIT.sub("", _LANGUAGE_SWITCH.sub("", line)) for line in ipa_text.splitlines()
    )
    return [" ".join(line.split()) for line in cleaned if line.strip()]


def alignment_from_marks(marks: list[tuple[Any, ...]], n_samples: int) -> list[tuple[str, int]]:
    """``(IPA code point, n_samples)`` entries covering ``n_samples`` from the library's marks
    (``espeak_lib.Synthesis``): each phoneme lasts until the next one starts, its samples shared
    among its code points as Piper's are (a diphthong's two letters, a long vowel's mark); a
    word break before each word, silence before the first phoneme and wherever eSpeak pauses."""
    phones = [(int(m[1]), _phoneme_ipa(str(m[2]))) for m in marks if m[0] == "phoneme"]
    words = sorted(int(m[1]) for m in marks if m[0] == "word")
    entries: list[tuple[str, int]] = []
    position, w = 0, 0
    for k, (start, name) in enumerate(phones):
        start = min(max(start, position), n_samples)
        end = phones[k + 1][0] if k + 1 < len(phones) else n_samples
        end = min(max(end, start), n_samples)
        while w < len(words) and words[w] <= start:
            entries.append((" ", 0))
            w += 1
        if start > position:
            entries.append((".", start - position))
        entries.extend(ipa.distribute(list(name), end - start) if name else [(".", end - start)])
        position = end
    if n_samples > position:
        entries.append((".", n_samples - position))
    return entries


def _phoneme_ipa(name: str) -> str:
    return _TONE_OR_DIGIT.sub("", _LANGUAGE_SWITCH.sub("", name)).strip()


def estimate_alignment(
    audio: np.ndarray, sample_rate: int, clauses: list[str]
) -> list[tuple[str, int]]:
    """``(IPA code point, n_samples)`` entries covering ``audio`` (see module docstring)."""
    total = len(audio)
    regions = speech_regions(audio, sample_rate)
    if not clauses or not regions:
        return [(".", total)] if total else []
    if len(regions) != len(clauses):
        # Pauses and clauses do not match one to one: spread all speech over the outer span.
        regions = [(regions[0][0], regions[-1][1])]
        clauses = [" , ".join(clauses)]
    entries: list[tuple[str, int]] = []
    position = 0
    for (start, end), clause in zip(regions, clauses, strict=True):
        if start > position:
            entries.append((".", start - position))
        entries.extend(ipa.distribute(list(clause), end - start))
        entries.append((" ", 0))
        position = end
    if total > position:
        entries.append((".", total - position))
    return entries


engines.register("espeak")(EspeakEngine)
