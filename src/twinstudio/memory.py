"""Process memory: fast reuse of per-frame buffers, without keeping the peaks of big temporaries.

Rendering and speech allocate large short-lived arrays: decoded 1080p frames are 6 MB each and
a render allocates and frees a dozen such buffers per frame; a TTS decoder's tensors grow with
the sentence (~40 MB per second of speech). Two glibc behaviours pull in opposite directions:

- Blocks above the *mmap threshold* are mapped on ``malloc`` and unmapped on ``free``, so every
  reuse page-faults all of them in again. On this class of VM a fault costs ~2 µs: with a 1 MB
  threshold a 53 s 1080p render (speech synthesised beforehand) took 7.9 million faults and
  43.2 s; with the threshold at 8 MB, 0.3 million and 35.8 s (32 MB: 0.1 million, 33.2 s);
  measured 2026-11-24, idle machine, same frames.
- Blocks below it come from the heap, which is only given back from its top. glibc's *dynamic*
  threshold rises to the size of every mmapped block freed (up to 32 MB), and then a few small
  allocations made after a big temporary pin the freed space under them: a worker that spoke a
  few long sentences kept ~150 MB it no longer used (5,000-character script: +178 MB).

So :func:`keep_heap_flat` fixes the threshold at 8 MB: every per-frame buffer up to a 1080p RGB
frame (6.2 MB) comes from the heap and is reused without faults, while a TTS decoder's big
tensors (tens of MB for a long sentence) are still mapped and given back the moment they are
freed. The automatic top trim is set to the same 8 MB (a freed frame at the heap's top stays
for the next one), and :func:`release_free_memory` (``malloc_trim(0)``,
which also gives back whole free pages *inside* the heap, in every thread's arena) runs at coarse
points: after each synthesised chunk of speech and every 50 rendered frames. The top trim was
32 MB (so that the heap's top would not be given back and faulted in again every frame), but
each arena then kept up to 32 MB free between two trims, and where it stood when the peak was
taken varied from run to run: 1080p 16:9 renders of one minute peaked at 661–677 MB with it.
At 8 MB (2026-12-02, back to back): 1080p peak 676 / 675 → 652 / 653 MB, median RSS 663 / 667 →
643 / 638 MB, wall 25.6 / 25.1 → 24.3 / 23.7 s. 4 MB did as well on memory (peaks 650 / 662 MB;
720p with background removal 539 / 533 → 529 / 524 MB, wall within noise) but gave a 6 MB frame
freed at the top back at once, to fault in again (``tests/unit/test_memory.py``). Decoding the
base loop once per render (``render.framestore``) had already taken most per-frame allocation
churn away.

One more glibc behaviour: every thread that allocates gets its own *arena* (up to 8 per core),
and each arena keeps up to the trim threshold of free memory at its top. A render has a dozen
such threads (base-loop decoding, the encoder, x264's, OpenCV's and onnxruntime's pools), so
freed frames sat in many arenas at once and the steady state crept up for the first minute or
two. :func:`keep_heap_flat` therefore caps the arenas at :data:`ARENA_MAX` (threads then share
them; a frame's few big allocations hardly contend). A 4-minute 1080p render, RSS sampled every
20 ms (2026-12-01): median 757 → 701 MB and peak 799 → 743 MB with both the cap and the 50-frame
release (default glibc arenas and a 250-frame release before), the wall time unchanged (142 s →
137 s). Memory then stays flat with length (benchmarks/HISTORY.md, render section). Elsewhere than
glibc both functions do nothing.

The cap was two arenas until 2026-12-02; it is one now. With two, glibc hands each new thread the
next arena in turn, so which arena a render's new threads (the base loop's decoder and its frame
threads, the prefetch threads) got depended on how many threads the process had started before,
and where the render's first buffers landed depended on that: at the first frame the heap grew by
9 MB in one trace and by 43 MB in another, with in-use totals 7 MB apart. A render's peak is set in
its first ~120 frames (the loop's first turn, while its decoder still runs beside x264's full
lookahead), and seven 1-minute 1080p renders after the same warm-up peaked at 511–514 MB five times
and at 523–524 MB twice. With one arena, seven peaked at 510–514 MB, in the same time (19.6 s on
average against 19.9 s): the threads that allocate per frame are few and hardly contend. A
10.6-minute render with one arena peaked at 513.6 MB, reached by its 100th frame and never passed
in the 15,900 frames after it.

Last, :func:`keep_heap_flat` opts the process out of transparent huge pages (``prctl``
``PR_SET_THP_DISABLE``). NumPy asks for huge pages on every array of 4 MB or more (``madvise``), as
x264 does for its big buffers; where the system's THP mode is ``madvise`` (Debian's default), the
kernel's ``khugepaged`` then collapses those heap ranges into 2 MB pages minutes later, the pages
never touched and the freed ones inside them included. A 10-minute 1080p render stepped up 12–16 MB
a few minutes in, always at the same point (``AnonHugePages`` 156 → 168 MB in the same 20 s), which
made it peak above a 1-minute render. Without huge pages (2026-12-02, same machine): medians by
quarter of the frames 505 / 507 / 509 / 511 MB against 504 / 506 / 518 / 519 MB, and 1-minute 1080p
renders peaked at 606 / 604 MB against 619 / 627 MB, in the same time (26.7 / 26.8 s against
27.5 / 26.3 s). Where ``prctl`` is missing or refuses, nothing changes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from typing import Any

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
PR_SET_THP_DISABLE = 41  # Linux prctl option: no transparent huge pages for this process
MMAP_THRESHOLD_BYTES = 8 << 20  # above a 1080p RGB frame (6.2 MB); TTS's big tensors stay mapped
TRIM_THRESHOLD_BYTES = 8 << 20  # automatic top trims past this; release_free_memory does the rest
ARENA_MAX = 1  # malloc arenas shared by all threads (glibc's default: 8 per core)

_done = False
_lock = threading.Lock()
_libc: Any = None


def _c() -> Any:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    return _libc


def keep_heap_flat() -> bool:
    """Fix glibc's mmap and trim thresholds, cap its arenas and turn transparent huge pages off
    for the process (idempotent); False where the allocator settings are not possible. Threads
    that already have an arena keep it: call this early.

    Callers that make big temporaries must then call :func:`release_free_memory` now and then.
    """
    global _done
    with _lock:
        if _done:
            return True
        try:
            libc = _c()
            ok = (
                bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
                and bool(libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))
                and bool(libc.mallopt(M_ARENA_MAX, ARENA_MAX))
            )
        except (OSError, AttributeError):
            return False
        _done = ok
        if ok:
            _no_huge_pages(libc)
        return ok


def _no_huge_pages(libc: Any) -> None:
    """``prctl(PR_SET_THP_DISABLE, 1)``: later faults get 4 kB pages and ``khugepaged`` leaves the
    process alone (see the module's docs); a kernel without it leaves things as they were."""
    try:
        libc.prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0)
    except (OSError, AttributeError):
        return


def release_free_memory() -> None:
    """Give the heap's free pages back to the system (``malloc_trim(0)``): a few ms; call it at
    coarse points (per chunk of speech, per rendered piece), never per frame."""
    if not _done:
        return
    try:
        _c().malloc_trim(0)
    except (OSError, AttributeError):
        return
