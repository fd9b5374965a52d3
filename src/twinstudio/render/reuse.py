"""Matte blends kept by the footage frame they show: a frame is blended again only where it changed.

A render shows the same loop of footage frames over and over, and the sample engine changes
each of them only in a box round the mouth (``SyncedFrame.changed``). With background removal
onto a colour (or the studio grey) the compositor blends the whole person over the background,
in the view, for every frame (``yuv.blend_onto``): outside that box the blend gives the same
pixels on every turn of the loop. So the compositor keeps the first blend of each footage frame,
with the box its mouth was in, in a :class:`~twinstudio.render.framestore.FrameStore` (a
temporary file: the page cache, not the process's memory; 1.4 MB a frame at 720p, 3.1 MB at
1080p), and a later frame of the same footage frame is that blend read back with only the two
boxes' union blended again from the new picture. A blend is per pixel (the chroma planes per
2x2 block of the alpha), so an even box gives exactly the pixels the whole blend would: the
frames are the same, byte for byte (``tests/unit/render/test_reuse.py``).

Per frame on one core (the benchmark twin's frames, 300 of them, a third of them first blends,
2026-12-04): 720p 16:9 0.70 against 0.95 ms, 1080p 16:9 1.40 against 2.0 ms. What follows the
blend (the resize to the output, bars) is done whole as before: kept *composites* of an upscaled
view (9:16 from 1080p footage) were tried and gave nothing, since a bilinear upscale can only be
redone exactly on windows aligned to blocks of 122 view pixels there (most of the width), with
``INTER_LINEAR_EXACT`` (1.7x slower than ``INTER_LINEAR``).

Over an image background, and for a transparent WebM, the blend is made at output size (or not
at all) and every frame is blended afresh; what is kept there is the *unmixed* picture
(``render.backdrop``, the filmed wall taken out of the soft edge: about twice the blend's
cost), and a later frame unmixes only the boxes again, exactly as for blends.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from twinstudio.render import yuv
from twinstudio.render.framestore import FrameStore

Box = tuple[int, int, int, int]  # (x0, y0, x1, y1), end-exclusive, in the view's pixels

__all__ = ["Box", "KeptBlends", "kept_or_made", "union"]


def union(a: Box | None, b: Box | None) -> Box | None:
    """The smallest box holding both (None: no box)."""
    if a is None:
        return b
    if b is None:
        return a
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


class KeptBlends:
    """Blended pictures by footage frame, each with the box (view px) its picture was changed in.

    ``capacity``: how many footage frames a render can show (``baseloop.frames_used``); frames
    past it, or past the store's byte limit, are simply not kept (blended whole each time)."""

    def __init__(self, capacity: int) -> None:
        self._store = FrameStore(capacity)
        self._boxes: dict[int, Box | None] = {}

    def get(self, key: int) -> tuple[np.ndarray, Box | None] | None:
        """A fresh copy of footage frame ``key``'s blend and its box, or None."""
        if key not in self._boxes or not self._store.covers(key, 1):
            return None
        return self._store.get(key), self._boxes[key]

    def put(self, key: int, picture: np.ndarray, changed: Box | None) -> None:
        """Keep ``picture`` (its bytes, now) as footage frame ``key``'s blend."""
        self._store.put(key, picture)
        if self._store.covers(key, 1) and key not in self._boxes:
            self._boxes[key] = changed

    def close(self) -> None:
        """Drop every blend (the file disappears)."""
        self._store.close()
        self._boxes.clear()


def kept_or_made(
    kept: KeptBlends | None,
    source: int | None,
    changed: Box | None,
    whole: Callable[[], np.ndarray],
    part: Callable[[Box], Sequence[np.ndarray]],
    even: Callable[[Box], Box],
) -> np.ndarray:
    """Footage frame ``source``'s picture made whole by ``whole()`` (and kept, when ``kept`` is
    a store and ``source`` known) the first time; after that its kept copy with the union of
    the kept and the new ``changed`` box (made ``even(box)``: a chroma sample covers 2x2
    pixels) replaced by ``part(box)``'s Y, U and V planes of that box."""
    found = kept.get(source) if kept is not None and source is not None else None
    if found is None:
        made = whole()
        if kept is not None and source is not None:
            kept.put(source, made, changed)
        return made
    out, before = found
    box = union(before, changed)
    if box is not None:
        box = even(box)
        for dst, src in zip(yuv.box_planes(out, box), part(box), strict=True):
            dst[...] = src
    return out
