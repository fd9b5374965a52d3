"""The heap does not keep the peaks of big temporary arrays (glibc's thresholds are fixed and
free pages are given back at coarse points), yet big buffers are reused without page faults."""

from __future__ import annotations

import subprocess
import sys

CHILD = """
import numpy as np
from pathlib import Path
from twinstudio.memory import keep_heap_flat, release_free_memory

def rss_mb():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

if {fixed}:
    assert keep_heap_flat() and keep_heap_flat()
base = rss_mb()
first = np.ones(32 * 2**20 // 8)  # a big block, freed: glibc's threshold rises to its size
del first
pinned = []
for _ in range(5):  # big temporaries (a TTS decoder's tensors), with small survivors after them
    keep = [np.ones(16 * 2**20 // 8) for _ in range(3)]
    pinned.append([np.ones(1000) for _ in range(20)])
    del keep
if {fixed}:
    release_free_memory()
print(rss_mb() - base)
"""


def _child(code: str) -> float:
    """The number a fresh interpreter prints last running ``code`` (allocator settings are per
    process, so each measure needs its own)."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def _growth(fixed: bool) -> float:
    return _child(CHILD.format(fixed=fixed))


def test_freed_big_blocks_go_back_to_the_system() -> None:
    assert _growth(fixed=True) < 10  # MB kept after the loop
    # What it prevents (and proof the measure can fail): glibc's dynamic threshold keeps them.
    assert _growth(fixed=False) > 30


FAULTS = """
import resource
import numpy as np
from twinstudio.memory import keep_heap_flat

if {fixed}:
    assert keep_heap_flat()
frame = np.ones((1080, 1920, 3), np.uint8)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(50):  # a render's per-frame buffers: same sizes, allocated and freed each frame
    copy = frame.copy()
    del copy
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 50)
"""


def test_per_frame_buffers_are_reused_without_page_faults() -> None:
    def faults(fixed: bool) -> float:
        return _child(FAULTS.format(fixed=fixed))

    # A 6 MB frame is ~1,500 pages: reused, not faulted in again. (~30 faults a frame remain,
    # the heap's top pad given back and taken again, now that huge pages are off.)
    assert faults(fixed=True) < 100


ARENAS = """
import sys
import threading
import numpy as np
from pathlib import Path
from twinstudio import memory

def rss_mb():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

assert memory.keep_heap_flat()
if not {capped}:  # what glibc does by default: an arena per thread, up to 8 per core
    memory._c().mallopt(memory.M_ARENA_MAX, 64)
base = rss_mb()
barrier = threading.Barrier(8)

def work():  # frames made and freed in a worker thread (decoder, encoder, OpenCV's pool)
    blocks = [np.ones(5 * 2**20 // 8) for _ in range(5)]
    barrier.wait()  # all at once: each thread takes an arena of its own when it may
    del blocks

threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(rss_mb() - base)
sys.stdout.flush()
memory._c().malloc_stats()  # "Arena N:" for each arena, on stderr
"""


def _threads(capped: bool) -> tuple[float, int]:
    """MB kept after 8 threads freed their frames, and how many arenas the process has."""
    code = ARENAS.format(capped=capped)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    arenas = sum(line.startswith("Arena ") for line in out.stderr.splitlines())
    return float(out.stdout.strip().splitlines()[-1]), arenas


def test_threads_share_few_arenas_so_freed_frames_are_not_kept_in_each() -> None:
    def kept(capped: bool) -> float:
        return _threads(capped)[0]

    # 8 threads x 25 MB freed: each arena keeps up to the 8 MB trim threshold at its top (and
    # more where the freed blocks interleave, which depends on how the threads were scheduled).
    # Measured on an idle machine: 60-85 MB capped (12 runs), 200 not; once, during a CI run,
    # 120 MB capped. So the best of three runs is judged: a missing cap gives 200 in every run.
    assert min(kept(capped=True) for _ in range(3)) < 120
    assert kept(capped=False) > 170  # what the cap prevents (and proof the measure can fail)


def test_every_thread_allocates_from_one_arena() -> None:
    """With two arenas, which one a render's new threads got depended on how many threads the
    process had started before, and the render's peak moved by ~12 MB with it (memory.py)."""
    assert _threads(capped=True)[1] == 1
    assert _threads(capped=False)[1] > 1  # what the cap prevents (and proof the count can fail)


def test_the_process_opts_out_of_transparent_huge_pages() -> None:
    """khugepaged collapsed NumPy's and x264's huge-page ranges minutes into a long render, the
    untouched pages in them included: the process turns huge pages off for itself."""
    code = """
from pathlib import Path
from twinstudio.memory import keep_heap_flat

def thp():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("THP_enabled:"):
            return int(line.split()[1])
    return -1

import ctypes
ctypes.CDLL("libc.so.6").prctl(41, 0, 0, 0, 0)  # on again: a parent that rendered passed it off
before = thp()
assert keep_heap_flat()
print(before * 10 + thp())
"""
    got = int(_child(code))
    if got // 10 == -1:  # a kernel that does not report it (before Linux 5.0)
        return
    assert got == 10  # enabled before, disabled after
