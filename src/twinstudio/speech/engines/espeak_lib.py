"""eSpeak NG as a library: the speech together with *when* each phoneme and word starts.

The ``espeak-ng`` command line writes a WAV and the phonemes' IPA, but not their times (without
MBROLA), so the eSpeak engine had to share each clause among its phonemes by typical duration
(``espeak.estimate_alignment``). Measured against the library's own phoneme events in the same
synthesis (``benchmarks/espeak_timing.py``: 13 sentences in de, fr, es, en-us, it and pl,
2026-12-06), those estimates were off by 44 ms on average (median 37, 90th percentile 91, the
worst 170 ms; French 61 ms on average), 53 % of the phonemes by more than a frame at 30 fps and
23 % by more than two: a mouth visibly early or late on every robotic voice, which is every
language but English.

The shared library (``libespeak-ng.so.1``, which Debian's ``espeak-ng`` package depends on) tells
them exactly: initialised with phoneme events and IPA names, its synthesis callback receives the
audio and, with it, an event at each phoneme and each word, stamped with its sample position.
This module binds the few functions that needs with :mod:`ctypes`. eSpeak keeps one voice and one
synthesis at a time for the whole process, so every call holds :data:`_lock`. (Piper's own
phonemizer, ``piper.espeakbridge``, links a separate static copy of eSpeak: the two do not share
state.) Where the library cannot be loaded, :func:`library` is None and the engine uses the
binary as before.

The library keeps some state from one synthesis to the next, so it is not bit-identical between
calls: a sentence spoken first in a process equals the binary's output, and a few milliseconds
shorter or longer after that (82,156 samples, then 81,957–81,962). Each call's timings are still
its own audio's. Re-initialising it between calls is not an option: espeak-ng then hangs.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

_LOGGER = logging.getLogger(__name__)

_AUDIO_OUTPUT_SYNCHRONOUS = 2  # synthesis returns when done; audio through the callback
_INITIALIZE_PHONEME_EVENTS = 0x0001
_INITIALIZE_PHONEME_IPA = 0x0002
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_EVENT_LIST_TERMINATED, _EVENT_WORD, _EVENT_PHONEME = 0, 1, 7
_lock = threading.Lock()


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    """``espeak_EVENT`` (speak_lib.h)."""

    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),  # ms
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


class _VoiceSpec(ctypes.Structure):
    """``espeak_VOICE`` (speak_lib.h), to choose a voice by its language."""

    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_char_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


_Callback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


@dataclass
class Synthesis:
    """One sentence spoken: 16-bit PCM at ``sample_rate``, and its marks in order: ``("word",
    sample)`` where a word starts, ``("phoneme", sample, ipa)`` where a phoneme does (``ipa``
    empty for a pause)."""

    sample_rate: int
    audio: np.ndarray
    marks: list[tuple[Any, ...]] = field(default_factory=list)


class Library:
    """The loaded library (see the module docstring); use :func:`library`."""

    def __init__(self, handle: ctypes.CDLL) -> None:
        self._lib = handle
        self._lib.espeak_Initialize.restype = ctypes.c_int
        self._lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self._lib.espeak_SetVoiceByProperties.argtypes = [ctypes.POINTER(_VoiceSpec)]
        self._lib.espeak_Synth.argtypes = [
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
            ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        flags = _INITIALIZE_PHONEME_EVENTS | _INITIALIZE_PHONEME_IPA
        self.sample_rate = int(
            self._lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, None, flags)
        )
        if self.sample_rate <= 0:
            raise OSError("espeak_Initialize failed (is espeak-ng-data installed?)")
        self._chunks: list[np.ndarray] = []
        self._marks: list[tuple[Any, ...]] = []
        self._callback = _Callback(self._receive)  # kept referenced while the library holds it
        self._lib.espeak_SetSynthCallback(self._callback)
        self._voice: str | None = None

    def _receive(self, wav: Any, n_samples: int, events: Any) -> int:
        if wav and n_samples > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(n_samples,)).copy())
        k = 0
        while events[k].type != _EVENT_LIST_TERMINATED:
            event = events[k]
            if event.type == _EVENT_WORD:
                self._marks.append(("word", int(event.sample)))
            elif event.type == _EVENT_PHONEME:
                name = bytes(event.id.string).split(b"\0")[0].decode("utf-8", "replace")
                self._marks.append(("phoneme", int(event.sample), name))
            k += 1
        return 0  # go on

    def _set_voice(self, code: str) -> bool:
        """Choose the voice by its name (``de``), else by language (``fr-fr``), as the command
        line does. Set once per change: eSpeak keeps it, and each call leaks a little."""
        if code == self._voice:
            return True
        ok = self._lib.espeak_SetVoiceByName(code.encode()) == 0
        if not ok:
            spec = _VoiceSpec(languages=code.encode())
            ok = self._lib.espeak_SetVoiceByProperties(ctypes.byref(spec)) == 0
        self._voice = code if ok else None
        return ok

    def speak(self, text: str, code: str) -> Synthesis | None:
        """``text`` in the voice ``code``; None when eSpeak has no such voice or fails."""
        data = text.encode("utf-8")
        with _lock:
            if not self._set_voice(code):
                return None
            self._chunks, self._marks = [], []
            status = self._lib.espeak_Synth(
                data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None
            )
            self._lib.espeak_Synchronize()
            chunks, marks = self._chunks, self._marks
            self._chunks, self._marks = [], []
        if status != 0:
            _LOGGER.warning("espeak_Synth failed (%s) on voice %r", status, code)
            return None
        audio = np.concatenate(chunks) if chunks else np.zeros(0, np.int16)
        return Synthesis(self.sample_rate, audio.astype(np.int16, copy=False), marks)


@lru_cache(maxsize=1)
def library() -> Library | None:
    """The eSpeak NG library, loaded and initialised once per process; None when absent."""
    name = ctypes.util.find_library("espeak-ng") or "libespeak-ng.so.1"
    try:
        return Library(ctypes.CDLL(name))
    except (OSError, AttributeError) as error:
        _LOGGER.info("libespeak-ng unavailable (%s): eSpeak timings will be estimated", error)
        return None
