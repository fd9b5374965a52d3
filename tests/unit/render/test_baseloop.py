"""Base loop: loop-point crossfades and the decoding prefetch thread."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from twinstudio.render.baseloop import crossfades, prefetch, schedule


class _Pack:
    """Just what ``schedule``/``crossfades`` read from a twin pack."""

    def __init__(self, start: int, end: int, n_frames: int, fps: int = 25) -> None:
        self.meta: dict[str, Any] = {"loop": {"start": start, "end": end}, "n_frames": n_frames}
        self.fps = fps
        self.track = {"valid": np.ones(n_frames, bool)}
        self.path = Path("/nonexistent")


def test_crossfade_after_the_jump_uses_the_footage_continuation() -> None:
    pack: Any = _Pack(10, 110, 200)
    idx = schedule(pack, 250)
    partner, weight = crossfades(pack, idx)
    jumps = np.flatnonzero(np.diff(idx) < 0) + 1
    assert len(jumps) == 2
    for k in jumps:
        assert idx[k] == 10 and partner[k] == 110  # fades from where the footage would go on
        run = weight[k : k + 5]
        assert np.all(np.diff(run) < 0) and 0.5 < run[0] < 1.0 and run[-1] > 0
        assert weight[k + 5] == 0 and partner[k + 5] == -1
    assert (partner >= 0).sum() == 10  # nothing else is touched


def test_crossfade_before_the_jump_when_the_footage_ends_at_the_loop() -> None:
    pack: Any = _Pack(20, 200, 200)
    idx = schedule(pack, 400)
    partner, weight = crossfades(pack, idx)
    k = int(np.flatnonzero(np.diff(idx) < 0)[0] + 1)
    before = slice(k - 5, k)
    assert np.all(partner[before] == np.arange(15, 20))  # the frames that precede the start
    assert np.all(np.diff(weight[before]) > 0) and weight[k] == 0


def test_prefetch_keeps_order_and_reraises() -> None:
    assert list(prefetch(iter(range(50)), depth=2)) == list(range(50))

    def broken() -> Iterator[int]:
        yield 1
        raise ValueError("decoder failed")

    got = []
    with pytest.raises(ValueError, match="decoder failed"):
        for item in prefetch(broken()):
            got.append(item)
    assert got == [1]


def test_prefetch_stops_when_abandoned() -> None:
    produced = []

    def endless() -> Iterator[int]:
        i = 0
        while True:
            produced.append(i)
            yield i
            i += 1

    gen = prefetch(endless(), depth=2)
    assert next(gen) == 0
    gen.close()
    count = len(produced)
    assert count < 10


def test_loop_morph_glides_the_head_instead_of_showing_two() -> None:
    from twinstudio.render.lipsync.sample import _LoopMorph

    rng = np.random.default_rng(0)
    lm_base = rng.uniform(80, 160, (478, 2))
    lm_partner = lm_base + np.array([20.0, 0.0])  # the partner's head sits 20 px to the right
    base = np.zeros((240, 320), np.uint8)
    partner = np.zeros((240, 320), np.uint8)
    base[100:120, 100:120] = 255
    partner[100:120, 120:140] = 255
    out = _LoopMorph(lm_partner, lm_base, 0.5)(base, partner)
    cols = np.flatnonzero(out[110] > 200)
    assert 108 <= cols.min() <= 112 and 128 <= cols.max() <= 132  # one square, half-way
    assert out[110, 100] < 60 and out[110, 139] < 60  # no ghost at either end
    start = _LoopMorph(lm_partner, lm_base, 1.0)(base, partner)
    assert np.array_equal(start, partner)  # w = 1: exactly the footage's continuation
