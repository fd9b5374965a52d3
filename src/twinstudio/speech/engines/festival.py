"""Festival voices: the female US English HTS voice ``cmu_us_slt_arctic_hts`` (Debian package).

One ``festival --batch`` process per sentence, in its own temporary folder, runs a generated
Scheme script: it synthesises the sentence, saves the waveform, and dumps the utterance's
``Segment`` relation (phone name + end time) and its ``Word``/``Token`` relations. The HTS engine
sets each segment's end from the frame counts it generated (5 ms frames), and the last segment
ends exactly where the waveform ends, so the timings are *measured*, not estimated.

Festival's phones (the "radio" phone set, ARPAbet-like: ``aa``, ``ax``, ``dx``...) become IPA
through :data:`RADIO_TO_IPA`; ``pau``/``h#``/``brth`` become silence. Each Festival *token*
(a whitespace-separated piece of the text, e.g. "eighty-five", which Festival says as two words)
is one word group for :func:`~twinstudio.speech.ipa.word_spans`, so caption words match the text.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from twinstudio.errors import MissingDependency, TwinstudioError
from twinstudio.speech import ipa
from twinstudio.speech.base import TTSEngine, engines
from twinstudio.speech.text import words_of
from twinstudio.speech.timeline import SILENCE, Track
from twinstudio.speech.types import Voice

INSTALL_HINT = (
    "install Festival and the voice (Debian/Ubuntu: apt-get install -y festival festvox-us-slt-hts)"
)
TIMEOUT_S = 120
VOICE_ROOTS = (Path("/usr/share/festival/voices"), Path("/usr/lib/festival/voices"))

SLT_LICENSE = (
    "Festival HTS voice cmu_us_slt_arctic_hts (Debian festvox-us-slt-hts): the voice files are "
    "under CMU's EST-2003/EST-2000 licences and HTS's BSD-3-Clause licence, permissive licences "
    "that allow use, copying, modification and redistribution for any purpose, commercial "
    "included, without fee, provided the copyright notices are kept and modifications are marked. "
    "The CMU ARCTIC 'slt' recordings it was trained on are released by CMU for any use. "
    "Cleared for commercial use. Festival itself is MIT/X11-style licensed."
)


@dataclass(frozen=True)
class FestivalVoice:
    """A Festival voice we know how to describe: catalog facts + the Scheme voice name."""

    voice_id: str
    scheme_voice: str  # the voice's folder name; ``(voice_NAME)`` selects it
    name: str
    language: str
    locale: str
    gender: str
    license: str
    origin: str


KNOWN_VOICES = (
    FestivalVoice(
        voice_id="festival-en_US-slt-hts",
        scheme_voice="cmu_us_slt_arctic_hts",
        name="Sarah (US English, Festival HTS)",
        language="English",
        locale="en-US",
        gender="female",
        license=SLT_LICENSE,
        origin=(
            "Debian festvox-us-slt-hts 0.2010.10.25: CMU ARCTIC speaker 'slt', HTS 2.1 "
            "statistical parametric voice (Nagoya Institute of Technology / CMU)"
        ),
    ),
)

# Festival's radio phone set (CMU lexicon) → IPA; anything else is silence.
RADIO_TO_IPA = {
    "aa": "ɑ", "ae": "æ", "ah": "ʌ", "ao": "ɔ", "aw": "aʊ", "ax": "ə", "axr": "ɚ", "ay": "aɪ",
    "b": "b", "ch": "tʃ", "d": "d", "dh": "ð", "dx": "ɾ", "eh": "ɛ", "el": "l̩", "em": "m̩",
    "en": "n̩", "er": "ɝ", "ey": "eɪ", "f": "f", "g": "ɡ", "hh": "h", "hv": "ɦ", "ih": "ɪ",
    "iy": "i", "jh": "dʒ", "k": "k", "l": "l", "m": "m", "n": "n", "nx": "ɾ̃", "ng": "ŋ",
    "ow": "oʊ", "oy": "ɔɪ", "p": "p", "r": "ɹ", "s": "s", "sh": "ʃ", "t": "t", "th": "θ",
    "uh": "ʊ", "uw": "u", "v": "v", "w": "w", "y": "j", "z": "z", "zh": "ʒ",
}  # fmt: skip

# The Scheme run for one sentence. Tokens and words are numbered (features twtok / twword) so
# each segment can say which word, and each word which token, it belongs to.
_SCRIPT = """\
(voice_{voice})
(set! utt (Utterance Text "{text}"))
(utt.synth utt)
(utt.save.wave utt "{wav}" 'riff)
(set! fd (fopen "{dump}" "w"))
(set! k 0)
(mapcar (lambda (tok) (set! k (+ k 1)) (item.set_feat tok "twtok" k))
        (utt.relation.items utt 'Token))
(set! k 0)
(mapcar (lambda (w) (set! k (+ k 1)) (item.set_feat w "twword" k)
          (format fd "W %d %l\\n" k (item.feat w "R:Token.parent.twtok")))
        (utt.relation.items utt 'Word))
(mapcar (lambda (s)
          (format fd "S %s %f %l\\n" (item.name s) (item.feat s "end")
                  (item.feat s "R:SylStructure.parent.parent.twword")))
        (utt.relation.items utt 'Segment))
(fclose fd)
"""


def binary() -> str | None:
    return shutil.which("festival")


def voice_dir(scheme_voice: str) -> Path | None:
    """The installed voice's folder (``.../voices/<lang>/<name>``), or None."""
    for root in VOICE_ROOTS:
        if root.is_dir():
            for candidate in root.glob(f"*/{scheme_voice}"):
                if candidate.is_dir():
                    return candidate
    return None


def scheme_string(text: str) -> str:
    """``text`` escaped for a Scheme string literal (control characters become spaces)."""
    cleaned = "".join(" " if ord(c) < 32 else c for c in text)
    return cleaned.replace("\\", "\\\\").replace('"', '\\"')


@dataclass(frozen=True)
class Segment:
    phone: str
    end_s: float
    word: int  # 1-based index into the Word relation, 0 for pauses


def parse_dump(dump: str) -> tuple[list[Segment], dict[int, int]]:
    """Segments and the word → token map from the Scheme script's dump."""
    segments: list[Segment] = []
    word_token: dict[int, int] = {}
    for line in dump.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "W":
            word_token[int(parts[1])] = _int(parts[2])
        elif len(parts) == 4 and parts[0] == "S":
            segments.append(Segment(parts[1], float(parts[2]), _int(parts[3])))
    return segments, word_token


def _int(value: str) -> int:
    try:
        return int(float(value))
    except ValueError:
        return 0


def alignment(
    segments: list[Segment], word_token: dict[int, int], n_samples: int, sample_rate: int
) -> ipa.Aligned:
    """Phonemes tiling ``n_samples`` from segment end times; one word group per Festival token."""
    phonemes: list[tuple[str, int]] = []
    groups: list[tuple[int, int]] = []
    group_token: int | None = None
    position = 0
    for index, segment in enumerate(segments):
        end = n_samples if index == len(segments) - 1 else round(segment.end_s * sample_rate)
        end = min(max(end, position), n_samples)
        symbol = RADIO_TO_IPA.get(segment.phone, SILENCE)
        token = word_token.get(segment.word) if symbol and segment.word else None
        if symbol == SILENCE and phonemes and phonemes[-1][0] == SILENCE:
            phonemes[-1] = (SILENCE, phonemes[-1][1] + end - position)
        elif end > position or symbol:
            phonemes.append((symbol, end - position))
            if token is not None:
                if group_token == token and groups:
                    groups[-1] = (groups[-1][0], len(phonemes) - 1)
                else:
                    groups.append((len(phonemes) - 1, len(phonemes) - 1))
            group_token = token
        position = end
    if position < n_samples:  # never happens with HTS, but keep the tiling exact regardless
        phonemes.append((SILENCE, n_samples - position))
    # A phone that rounded to zero samples would break the tiling contract's "non-empty"; fold it.
    return _drop_empty(phonemes, groups)


def _drop_empty(phonemes: list[tuple[str, int]], groups: list[tuple[int, int]]) -> ipa.Aligned:
    keep = [i for i, (_, n) in enumerate(phonemes) if n > 0]
    new_index = {old: new for new, old in enumerate(keep)}
    new_groups = []
    for first, last in groups:
        members = [new_index[i] for i in range(first, last + 1) if i in new_index]
        if members:
            new_groups.append((members[0], members[-1]))
    return ipa.Aligned([phonemes[i] for i in keep], new_groups)


class FestivalEngine(TTSEngine):
    """Festival through its binary; see the module docstring."""

    name = "festival"
    sample_rate = 22050

    def voices(self) -> list[Voice]:
        if binary() is None:
            return []
        return [
            Voice(
                voice_id=known.voice_id,
                name=known.name,
                language=known.language,
                locale=known.locale,
                gender=known.gender,
                engine=self.name,
                license=known.license,
                origin=known.origin,
                quality="parametric",
            )
            for known in KNOWN_VOICES
            if voice_dir(known.scheme_voice) is not None
        ]

    def speak(self, sentence: str, voice: Voice) -> Track:
        exe = binary()
        known = next((k for k in KNOWN_VOICES if k.voice_id == voice.voice_id), None)
        if exe is None or known is None or voice_dir(known.scheme_voice) is None:
            raise MissingDependency(f"Festival voices need Festival: {INSTALL_HINT}")
        with tempfile.TemporaryDirectory(prefix="twinstudio-festival-") as folder:
            root = Path(folder)
            wav_path, dump_path, script_path = root / "out.wav", root / "segs.txt", root / "run.scm"
            script_path.write_text(
                _SCRIPT.format(
                    voice=known.scheme_voice,
                    text=scheme_string(sentence),
                    wav=wav_path.as_posix(),
                    dump=dump_path.as_posix(),
                ),
                encoding="utf-8",
            )
            try:
                subprocess.run(
                    [exe, "--batch", str(script_path)], cwd=folder, capture_output=True,
                    timeout=TIMEOUT_S, check=True,
                )  # fmt: skip
                audio, rate = _read_wav(wav_path)
                segments, word_token = parse_dump(dump_path.read_text(encoding="utf-8"))
            except (OSError, subprocess.SubprocessError, wave.Error, EOFError) as error:
                raise TwinstudioError(
                    f"festival failed on voice {known.scheme_voice!r}: {error}"
                ) from error
        if rate != self.sample_rate:
            from twinstudio.speech.effects import resample_to_length

            audio = resample_to_length(audio, round(len(audio) * self.sample_rate / rate))
        aligned = alignment(segments, word_token, len(audio), self.sample_rate)
        track = Track(audio, self.sample_rate, aligned.phonemes)
        track.words = ipa.word_spans(aligned, words_of(sentence))
        track.check()
        return track


def _read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as handle:
        rate, frames = handle.getframerate(), handle.readframes(handle.getnframes())
    return np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0, rate


engines.register("festival")(FestivalEngine)
