"""Phoneme and viseme labels for every frame of the footage (Video Rewrite's idea).

Bregler et al. (1997) label each frame of the training footage with the phoneme being spoken, so
that a new utterance can pick mouth images *by sound class* as well as by shape. Here pocketsphinx
(its wheel ships the US English model) times the phones of the footage's own sound:

* with a ``transcript`` (what the person says): **forced alignment** of the known words — the
  phones are the dictionary's, only their timing is estimated, so labels are reliable;
* without one: **phone recognition** (pocketsphinx's phone-loop ``allphone`` mode with its
  phonetic language model), ~0.1 × real time. Far noisier (a phone is right perhaps half the
  time) but still sorts closed / rounded / open / spread mouths better than nothing.
  (Word recognition followed by alignment is better still, but costs about 1 × real time on
  these 2 cores, which alone would break the training-speed goal.)

Phones are ARPAbet (39 + ``SIL``); visemes are the 15 classes used by Oculus/Meta lip-sync
(``sil PP FF TH DD kk CH SS nn RR aa E ih oh ou``), a common standard that renderers and
animators know. Labels land in the pack as ``labels.npz`` (see ``twins.pack``).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

_LOGGER = logging.getLogger(__name__)

RATE = 16000
PHONE_FRAME_S = 0.01  # pocketsphinx frames are 10 ms
_HOP = round(RATE * PHONE_FRAME_S)  # samples in one of them
PHONES = ("SIL", "AA", "AE", "AH", "AO", "AW", "AY", "B", "CH", "D", "DH", "EH", "ER", "EY",
          "F", "G", "HH", "IH", "IY", "JH", "K", "L", "M", "N", "NG", "OW", "OY", "P", "R",
          "S", "SH", "T", "TH", "UH", "UW", "V", "W", "Y", "Z", "ZH")  # fmt: skip
VISEMES = ("sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa", "E", "ih", "oh", "ou")
PHONE_TO_VISEME = {
    "SIL": "sil", "P": "PP", "B": "PP", "M": "PP", "F": "FF", "V": "FF", "TH": "TH", "DH": "TH",
    "T": "DD", "D": "DD", "K": "kk", "G": "kk", "NG": "kk", "HH": "kk", "CH": "CH", "JH": "CH",
    "SH": "CH", "ZH": "CH", "S": "SS", "Z": "SS", "N": "nn", "L": "nn", "R": "RR", "ER": "RR",
    "AA": "aa", "AE": "aa", "AH": "aa", "AY": "aa", "AW": "aa", "EH": "E", "EY": "E",
    "IH": "ih", "IY": "ih", "Y": "ih", "AO": "oh", "OW": "oh", "OY": "oh", "UW": "ou", "UH": "ou",
    "W": "ou",
}  # fmt: skip
# What a person can say to show a viseme the footage lacks (for the quality report's advice).
VISEME_EXAMPLES = {
    "PP": "lips closing: 'people', 'maybe', 'bob'",
    "FF": "teeth on the lip: 'five', 'very', 'off'",
    "TH": "tongue between teeth: 'think', 'this', 'both'",
    "DD": "'today', 'did', 'tea'",
    "kk": "'keep', 'go', 'hello'",
    "CH": "'she', 'church', 'judge'",
    "SS": "'see', 'zoo', 'yes'",
    "nn": "'no', 'lately', 'nine'",
    "RR": "'red', 'right', 'her'",
    "aa": "wide-open vowels: 'father', 'hot', 'about'",
    "E": "'bed', 'say', 'ten'",
    "ih": "spread lips: 'see', 'it', 'yes'",
    "oh": "rounded open vowels: 'all', 'go', 'boy'",
    "ou": "rounded lips: 'you', 'who', 'would'",
}
_VISEME_INDEX = {name: i for i, name in enumerate(VISEMES)}
PHONE_VISEME = np.array([_VISEME_INDEX[PHONE_TO_VISEME[p]] for p in PHONES], np.int8)
_PHONE_INDEX = {p: i for i, p in enumerate(PHONES)}


@dataclass(frozen=True)
class FrameLabels:
    """Per video frame: ``phone`` (T,) index into PHONES, ``viseme`` (T,) index into VISEMES."""

    phone: np.ndarray
    viseme: np.ndarray
    source: str  # "transcript" | "recognition" | "none"
    n_words: int = 0  # transcript words that were aligned

    def meta(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "phones": list(PHONES),
            "visemes": list(VISEMES),
            "aligned_words": self.n_words,
        }


def empty_labels(n_frames: int) -> FrameLabels:
    zeros = np.zeros(n_frames, np.int8)
    return FrameLabels(zeros, zeros.copy(), "none")


def _model_dir() -> str:
    import pocketsphinx

    return os.path.join(os.path.dirname(pocketsphinx.__file__), "model", "en-us")


def _decoder(**options: Any) -> Any:
    from twinstudio.speech.audio import sphinx_decoder

    return sphinx_decoder(samprate=RATE, **options)


def _pcm(audio: np.ndarray) -> bytes:
    return (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2").tobytes()


def _base_phone(name: str) -> str | None:
    name = name.split("(")[0].upper()
    if name in _PHONE_INDEX:
        return name
    return None  # SIL, fillers (+NSN+, +BREATH+), <s>, </s>


def _aligned_phones(audio: np.ndarray, transcript: str) -> tuple[list[tuple[str, int, int]], int]:
    """Forced alignment: (phone, start frame, end frame) in 10 ms frames, and words aligned."""
    from twinstudio.speech.audio import forced_alignment
    from twinstudio.speech.text import normalize_english, words_of

    words = [w.lower() for w in words_of(normalize_english(transcript))]
    _, alignment = forced_alignment(_pcm(audio), words)
    if alignment is None:
        return [], 0
    phones: list[tuple[str, int, int]] = []
    n_words = 0
    for word in alignment:
        if word.name.startswith(("<", "[", "+")):
            continue
        n_words += 1
        for phone in word:
            base = _base_phone(phone.name)
            if base is not None:
                phones.append((base, phone.start, phone.start + phone.duration))
    return phones, n_words


# Phone-loop recognition: pocketsphinx's pruning beams, and the longest stretch decoded as one
# utterance. With beams of 1e-10 the search could die for good on one odd sound: on two minutes
# of footage every phone after 51 s became one 67-second "Y" (so half the bank was labelled
# "ih"), and it died the same way wherever in the footage the utterance began. At 1e-20 it
# holds (as at the library's default, 1e-48), for 0.05 × real time instead of 0.02; 88-100 %
# of the dev clips' frames keep their viseme. Cutting the sound into utterances at its quiet
# moments bounds what a dead search could still cost.
PHONE_BEAM = 1e-20
UTTERANCE_S = 30.0
_QUIET_WINDOW_S = 0.2  # loudness is judged over this much sound around a possible cut
_CUT_SEARCH_S = 8.0  # a cut is sought in this last stretch of an utterance's longest span


def utterances(audio: np.ndarray, longest_s: float = UTTERANCE_S) -> list[tuple[int, int]]:
    """``audio`` (16 kHz) cut into spans of at most ``longest_s``, each cut at the quietest
    moment of the span's last :data:`_CUT_SEARCH_S` seconds, on a 10 ms frame boundary."""
    from twinstudio.speech.analysis import utterances as cut

    return cut(audio, RATE, longest_s, _CUT_SEARCH_S, _QUIET_WINDOW_S)


def _recognised_phones(audio: np.ndarray) -> list[tuple[str, int, int]]:
    """Phone-loop recognition with the phonetic language model, utterance by utterance."""
    decoder = _decoder(
        allphone=os.path.join(_model_dir(), "en-us-phone.lm.bin"), lw=2.0, pip=0.3,
        beam=PHONE_BEAM, pbeam=PHONE_BEAM,
    )  # fmt: skip
    out: list[tuple[str, int, int]] = []
    for start, end in utterances(audio):
        decoder.start_utt()
        decoder.process_raw(_pcm(audio[start:end]), full_utt=True)
        decoder.end_utt()
        first = start // _HOP
        for seg in decoder.seg():
            base = _base_phone(seg.word)
            if base is not None:
                out.append((base, first + seg.start_frame, first + seg.end_frame + 1))
    return out


def label_frames(
    audio: np.ndarray | None, fps: float, n_frames: int, transcript: str | None = None,
    voiced: np.ndarray | None = None,
) -> FrameLabels:  # fmt: skip
    """Phone and viseme of every video frame of 16 kHz mono ``audio``.

    ``voiced`` (n_frames,) from the VAD: recognised phones outside voiced frames are dropped
    (the phone loop "hears" phones in breaths and hum); aligned phones are kept as they are.
    """
    if audio is None or len(audio) == 0 or n_frames == 0:
        return empty_labels(n_frames)
    from twinstudio.speech.audio import alignable

    try:
        import pocketsphinx  # noqa: F401
    except ImportError:
        _LOGGER.warning("pocketsphinx is not installed: the mouth bank is not labelled")
        return empty_labels(n_frames)
    phones: list[tuple[str, int, int]] = []
    source, n_words = "none", 0
    try:
        # A transcript the recogniser cannot align (mostly words its English dictionary does
        # not know: ``speech.audio.TRANSCRIPT_MIN_KNOWN``) is left for recognition.
        if transcript and transcript.strip() and alignable(transcript):
            phones, n_words = _aligned_phones(audio, transcript)
            source = "transcript" if phones else "none"
        if not phones:
            phones = _recognised_phones(audio)
            source = "recognition" if phones else "none"
    except RuntimeError as error:  # pocketsphinx's error for input it cannot decode
        _LOGGER.info("pocketsphinx could not label the footage: %s", error)
        return empty_labels(n_frames)
    n_ps = int(np.ceil(len(audio) / RATE / PHONE_FRAME_S)) + 1
    timeline = np.zeros(n_ps, np.int8)
    for name, start, end in phones:
        timeline[max(0, start) : min(n_ps, max(end, start + 1))] = _PHONE_INDEX[name]
    at = np.clip(np.round(np.arange(n_frames) / fps / PHONE_FRAME_S).astype(int), 0, n_ps - 1)
    phone = timeline[at]
    if source == "recognition" and voiced is not None:
        phone = np.where(voiced[:n_frames], phone, 0).astype(np.int8)
    return FrameLabels(phone, PHONE_VISEME[phone], source, n_words)


def viseme_counts(viseme: np.ndarray, valid: np.ndarray | None = None) -> dict[str, int]:
    """Frames per viseme (over ``valid`` frames when given), every viseme listed."""
    v = viseme if valid is None else viseme[valid[: len(viseme)]]
    counts = np.bincount(v.astype(np.int64), minlength=len(VISEMES))
    return {name: int(counts[i]) for i, name in enumerate(VISEMES)}
