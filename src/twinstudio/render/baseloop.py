"""The base loop: which footage frame carries head and body at each output frame, streamed.

Training chose loop points ``start``/``end`` (``twins.loop``): output frame k shows footage frame
``start + k mod (end - start)``. Frames are decoded as they are needed; at each jump back the
reader seeks (the pack video has a keyframe every second), so memory stays one frame deep
whatever the length of the video.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np

from twinstudio.twins import pack as P
from twinstudio.twins.pack import TwinPack
from twinstudio.twins.video import read_frames


def schedule(pack: TwinPack, n_frames: int) -> np.ndarray:
    """Footage frame index for each of ``n_frames`` output frames."""
    loop = pack.meta.get("loop") or {"start": 0, "end": int(pack.meta["n_frames"])}
    start, end = int(loop["start"]), int(loop["end"])
    length = max(1, end - start)
    return (start + np.arange(n_frames) % length).astype(np.int64)


def _runs(indices: np.ndarray) -> Iterator[tuple[int, int]]:
    """Split a schedule into (first, count) runs of consecutive frames."""
    if len(indices) == 0:
        return
    breaks = np.flatnonzero(np.diff(indices) != 1) + 1
    bounds = [0, *breaks.tolist(), len(indices)]
    for a, b in itertools.pairwise(bounds):
        yield int(indices[a]), b - a


def base_frames(pack: TwinPack, indices: np.ndarray) -> Iterator[np.ndarray]:
    """RGB frames of the pack video in the order of ``indices`` (consecutive runs stream)."""
    path = pack.file(P.BASE_VIDEO)
    last: np.ndarray | None = None
    for first, count in _runs(indices):
        got = 0
        for rgb in read_frames(path, start=first, fps=pack.fps):
            last = rgb
            yield rgb
            got += 1
            if got == count:
                break
        while got < count and last is not None:  # a short file: hold the last frame
            yield last
            got += 1


def matte_frames(pack: TwinPack, indices: np.ndarray) -> Iterator[np.ndarray]:
    """Alpha (H, W) uint8 for each index, from the pack's matte (decoded in order, skipping)."""
    from twinstudio.twins.matte import read_matte

    path = pack.file(P.MATTE)
    last: np.ndarray | None = None
    for first, count in _runs(indices):
        got = 0
        for i, alpha in enumerate(read_matte(path)):
            if i < first:
                continue
            last = alpha
            yield alpha
            got += 1
            if got == count:
                break
        while got < count and last is not None:
            yield last
            got += 1
