"""Process memory: keep the heap from holding on to the peaks of big temporary arrays.

Rendering and speech allocate large short-lived arrays (a TTS decoder's tensors grow with the
sentence: ~40 MB per second of speech; decoded 1080p frames are 6 MB each). glibc serves
allocations above its *mmap threshold* with ``mmap`` and gives them back on ``free``, but the
threshold is dynamic: every time a big mmapped block is freed it rises to that block's size (up to
32 MB), and from then on such blocks come from the heap, which is rarely given back. A worker
that spoke a few long sentences kept ~150 MB it no longer used (measured: synthesising a
5,000-character script grew RSS by 178 MB with the dynamic threshold, by 22 MB with a fixed 1 MB
one, at no measurable cost in speed). :func:`keep_heap_flat` fixes the threshold, once per process.
Elsewhere than glibc it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number
MMAP_THRESHOLD_BYTES = 1 << 20

_done = False
_lock = threading.Lock()


def keep_heap_flat() -> bool:
    """Fix glibc's mmap threshold at 1 MB (idempotent); False where that is not possible."""
    global _done
    with _lock:
        if _done:
            return True
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            ok = bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
        except (OSError, AttributeError):
            return False
        _done = ok
        return ok
