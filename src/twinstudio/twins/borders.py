"""Borders: bars of one flat colour that the footage carries at its edges, found so that training
cuts them off.

A recording can come with bars that are not the scene: a phone's portrait video placed in a 16:9
timeline (black pillarbox bars, a third of the width each), a film letterboxed into 16:9, or a
crop that ran past its source and was padded (the VoxCeleb clip among the development footage:
a grey strip under the collar, 4 to 19+ rows of 224 as the crop follows the head). Kept, they are
part of the twin: ``contain`` shows them inside its own bars, ``cover`` frames the face among
them, and with the background removed the matte calls a bar on the bottom edge part of the
person (it rises from the bottom edge, as a body does), so the grey strip ran on as a slab under
the chest (2026-12-08).

A side has a bar when, in most of the frames sampled through the footage (``SAMPLES``), its
outermost lines are one flat colour (all but ``FLAT_SHARE`` of a line's pixels within
``FLAT_LEVELS`` of the edge line's median), the same colour in every such frame, and the first
line past them differs from it almost everywhere (``STEP_SHARE`` of its pixels by more than
``STEP_LEVELS``): a bar ends at a straight line. A flat wall above a head is flat too, but where it
ends (at the hair) only part of the line changes, so it is not taken for a bar. The deepest bar
seen on a side is cut (a padded crop's strip changes size), with ``MARGIN`` more for the line of
coding blur at its edge, within ``MAX_SHARE`` of the frame.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from twinstudio.twins.ingest import SourceInfo

__all__ = ["find_borders"]

SAMPLES = 9  # frames sampled through the footage
FLAT_LEVELS = 10  # a bar line's pixels lie within this of its colour (luma levels)...
FLAT_SHARE = 0.03  # ...all but this share of them
SAME_COLOUR = 12  # a bar's colour in every sample it shows in, within this (levels)
STEP_LEVELS = 16  # the line past a bar differs from its colour by more than this...
STEP_SHARE = 0.6  # ...over at least this share of its pixels
MIN_LINES = 2  # a bar is at least this deep (lines of the footage)
MAX_SHARE = 0.4  # and at most this share of the frame's size across it
MARGIN = 2  # lines cut past a bar: the coding blur of its edge
KEEP_SHARE = 0.3  # what the cuts must leave of each dimension, or nothing is cut


def find_borders(path: Path, info: SourceInfo) -> tuple[int, int, int, int] | None:
    """The part of ``path``'s picture (``info``: what ``ingest.probe`` read of it) inside its
    bars, as (x0, y0, x1, y1) in the picture as shown (turned by ``info.rotation``; every side
    even), or None when it has none (see the module docstring)."""
    samples = _sample_luma(Path(path), info)
    if len(samples) < 2:
        return None
    height, width = samples[0].shape
    cuts = []
    for turn in range(4):  # top, left, bottom, right: each side turned to the top
        turned = [np.rot90(s, k=turn) for s in samples]
        cuts.append(_bar_depth(turned))
    top, left, bottom, right = cuts
    if not any(cuts):
        return None
    x0, x1 = _even(left), width - _even(right)
    y0, y1 = _even(top), height - _even(bottom)
    if x1 - x0 < KEEP_SHARE * width or y1 - y0 < KEEP_SHARE * height:
        return None
    return x0, y0, x1, y1


def _sample_luma(path: Path, info: SourceInfo) -> list[np.ndarray]:
    """Up to ``SAMPLES`` luma pictures spread through the footage, turned as shown."""
    import av

    from twinstudio.twins.video import read_frames

    last = max(0, round(info.duration_s * info.fps) - 1)
    turn = (info.rotation % 360) // 90
    pictures: list[np.ndarray] = []
    try:
        for share in np.linspace(0.05, 0.95, SAMPLES):
            # The first frame from that one on (the reader, dropped, closes its file).
            for luma in read_frames(path, round(share * last), info.fps,
                                    convert=lambda frame: frame.to_ndarray(format="gray")):  # fmt: skip
                pictures.append(np.ascontiguousarray(np.rot90(luma, k=turn)))
                break
    except (av.FFmpegError, OSError):
        return pictures
    return pictures


def _bar_depth(samples: list[np.ndarray]) -> int:
    """How many lines to cut at the top of these pictures (0: no bar there)."""
    height = samples[0].shape[0]
    limit = int(MAX_SHARE * height)
    depths, colours = [], []
    for luma in samples:
        colour = float(np.median(luma[0]))
        lines = np.abs(luma[: limit + MARGIN + 1].astype(np.int16) - round(colour))
        flat = (lines > FLAT_LEVELS).mean(axis=1) <= FLAT_SHARE
        depth = int(np.argmin(flat)) if not flat.all() else len(flat)
        if depth < MIN_LINES or depth > limit:
            continue
        # The bar ends at a straight line: past its blurred edge, the picture differs from it
        # almost everywhere.
        past = lines[min(depth + MARGIN, len(lines) - 1)]
        if (past > STEP_LEVELS).mean() < STEP_SHARE:
            continue
        depths.append(depth)
        colours.append(colour)
    if len(depths) * 2 < len(samples) or max(colours) - min(colours) > SAME_COLOUR:
        return 0
    return min(max(depths) + MARGIN, limit)


def _even(lines: int) -> int:
    """``lines`` rounded up to even (the planes of a 4:2:0 picture halve it)."""
    return lines + lines % 2
