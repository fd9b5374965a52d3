"""Piper's espeak-ng bridge no longer leaks at each phonemization (``espeak_bridge``).

Each measure runs in a fresh interpreter: the allocator's totals and the interpreter's block count
are per process, and the fix is installed process-wide."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytest.importorskip("piper")

CHILD = """
import ctypes, gc, json, sys
from twinstudio.speech.engines.piper import PiperEngine, bundled_voice
from twinstudio.speech.engines import espeak_bridge

class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = Info
model = PiperEngine()._model(bundled_voice())  # loading the voice installs the fix
if not {fixed}:
    from piper import espeakbridge  # what the bridge does on its own
    espeakbridge.set_voice = espeak_bridge.originals["set_voice"]
    espeakbridge.get_phonemes = espeak_bridge.originals["get_phonemes"]
words = "the quick brown fox jumps over a lazy dog while seven people watch it".split()
first = model.phonemize("warm up")

def totals():
    gc.collect()
    return sys.getallocatedblocks(), libc.mallinfo2().uordblks

blocks, heap = totals()
for i in range(1000):
    out = model.phonemize(words[i % len(words)] + ", and " + words[-1 - i % len(words)])
again = model.phonemize("warm up")
now_blocks, now_heap = totals()
print(json.dumps({{"blocks": now_blocks - blocks, "heap_kb": (now_heap - heap) / 1024,
                  "same": again == first, "phonemes": again}}))
"""


def _leak(fixed: bool) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", CHILD.format(fixed=fixed)], capture_output=True,
                         text=True, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def test_phonemizing_leaks_neither_objects_nor_heap() -> None:
    fixed = _leak(fixed=True)
    # 1,000 calls of two clauses each: the bridge alone kept ~4,000 objects and ~1.4 MB.
    assert fixed["same"], fixed  # the same phonemes as before the thousand calls
    assert isinstance(fixed["blocks"], int) and fixed["blocks"] < 200, fixed
    assert isinstance(fixed["heap_kb"], float) and fixed["heap_kb"] < 200, fixed
    bare = _leak(fixed=False)  # proof the measure sees the leaks the fix stops
    assert isinstance(bare["blocks"], int) and bare["blocks"] > 3000, bare
    assert isinstance(bare["heap_kb"], float) and bare["heap_kb"] > 1000, bare
    assert bare["phonemes"] == fixed["phonemes"]
