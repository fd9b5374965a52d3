"""Two leaks in Piper's espeak-ng bridge (``piper.espeakbridge``, piper-tts 1.8.0), stopped.

Piper turns text into phonemes through a small C extension over espeak-ng, and every call leaked:

- ``get_phonemes`` appends each clause's ``(phonemes, terminator, end_of_sentence)`` tuple to the
  list it returns without dropping its own reference (``PyList_Append(list, Py_BuildValue(…))``),
  so every clause's tuple and phoneme string outlive the list: 2 objects per clause;
- ``set_voice`` calls espeak-ng's ``espeak_SetVoiceByName``, which allocates ~1.4 kB that it
  never frees, even for the voice already set; and ``PiperVoice.phonemize`` sets the voice on
  every call.

Our Piper engine phonemizes every word of a sentence on its own (to place word boundaries where
espeak joins words, ``ipa.word_spans``), so a worker leaked ~2.7 MB of heap and 4,000 objects per
2,000 words: ~2 MB for 10 minutes of speech, for as long as the process lives (measured
2026-12-02, ``mallinfo2`` and ``sys.getallocatedblocks`` around 2,000 calls). Ten copies of a
1-minute script (its words repeating) left 1.1 MB more in the heap than one copy, right before a
render began: a long video's render started on a heap a short one's did not have.

:func:`stop_leaks` wraps both functions in the module, where Piper looks them up at each call:
``set_voice`` is passed on only when the voice changes (espeak-ng keeps the voice set until then,
process-wide), and the extra reference of each tuple ``get_phonemes`` returns is dropped, only
when the tuple's reference count shows it (so a fixed bridge is left alone).
"""

from __future__ import annotations

import ctypes
import sys
import threading
from typing import Any

_lock = threading.Lock()
_voice_lock = threading.Lock()
_done = False
# The bridge's own functions, once wrapped (to measure what they do on their own).
originals: dict[str, Any] = {}


def stop_leaks() -> bool:
    """Wrap ``piper.espeakbridge``'s ``set_voice`` and ``get_phonemes`` (idempotent); False when
    Piper or its bridge is not there."""
    global _done
    with _lock:
        if _done:
            return True
        try:
            from piper import espeakbridge
        except ImportError:
            return False
        set_voice, get_phonemes = espeakbridge.set_voice, espeakbridge.get_phonemes
        current: str | None = None

        def set_voice_once(voice: str) -> Any:
            """espeak-ng's voice, set only when it changes (each set leaks ~1.4 kB)."""
            nonlocal current
            with _voice_lock:
                if current == voice:
                    return None
                result = set_voice(voice)  # raises on an unknown voice: nothing is remembered
                current = voice
                return result

        def get_phonemes_owned(text: str) -> Any:
            """The bridge's clauses, each tuple referenced by the list alone."""
            clauses = get_phonemes(text)
            for clause in clauses:
                # The list, ``clause`` and getrefcount's argument make 3; a 4th is the leak.
                if sys.getrefcount(clause) == 4:
                    ctypes.pythonapi.Py_DecRef(ctypes.py_object(clause))
            return clauses

        originals.update(set_voice=set_voice, get_phonemes=get_phonemes)
        espeakbridge.set_voice = set_voice_once
        espeakbridge.get_phonemes = get_phonemes_owned
        _done = True
        return True
