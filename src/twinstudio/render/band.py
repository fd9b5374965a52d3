"""A band: one bar of an output frame filled by continuing the picture from the edge it shares
with it (``render.bars`` decides which bars are bands; ``render.continuation`` continues a person
into one).

Worked in the band's own frame: ``along`` the shared edge and ``depth`` away from it. The
picture's strip at the edge is shrunk to a profile of samples along the edge; one linear operator
(made once, the same for every frame and plane) turns it into a small band of rows, each the
profile blurred along the edge (sigma ``EXTEND_SIGMA + EXTEND_SPREAD·d`` at distance d) and faded
towards black (to ``EXTEND_FAR`` at ``EXTEND_FADE`` of the output's short side), already lying as
the bar does; the band is then enlarged into the bar. It reaches ``EXTEND_OVERLAP`` back into the
picture, where it is cross-faded with the picture's own edge, so the sharp picture turns into the
blurred band with no line.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import cv2
import numpy as np

from twinstudio.render import yuv

__all__ = ["EXTEND_FAR", "Band", "Rect"]

Rect = tuple[int, int, int, int]

# Limited-range black (Y, U, V): what a band fades towards, plane by plane.
BLACK = yuv.colour_of((0, 0, 0))

# Extended bands (cover zoomed out), in output pixels at distance d from the picture's edge:
# blurred along the edge with sigma EXTEND_SIGMA + EXTEND_SPREAD·d, and faded towards black to
# EXTEND_FAR at EXTEND_FADE of the output's short side (and beyond).
EXTEND_SAMPLES = 96  # samples along a band's edge (its detail before the blur)
EXTEND_SIGMA = 2.0
EXTEND_SPREAD = 1.0
EXTEND_FAR = 0.75
EXTEND_FADE = 0.3
EXTEND_STRIP = 2  # the picture's edge strip averaged: this many samples deep
# The band reaches this far back into the picture (of the output's short side: 32 px at 1080p),
# cross-faded. On the dev clips' zoomed-out windows at 1080p the face box lies 120-460 px from a
# band, so the fade touches the chest, the wall or the hair, not the face; except where the
# footage's own edge cuts the face (a chin at the bottom of the frame: 13 px), and there a fade
# is gentler on it than a line.
EXTEND_OVERLAP = 0.03


class Band:
    """One bar filled as a band (see the module docstring): ``rect``, the bar, beside the
    picture at ``dest``, in a frame of ``out_size``."""

    def __init__(self, rect: Rect, dest: Rect, out_size: tuple[int, int]) -> None:
        x0, y0, x1, y1 = rect
        dx0, dy0, dx1, dy1 = dest
        self.side = _side(rect, dest)
        horizontal = self.side in ("top", "bottom")
        along0, along1 = (x0, x1) if horizontal else (y0, y1)
        pic0, pic1 = (dx0, dx1) if horizontal else (dy0, dy1)
        depth = (y1 - y0) if horizontal else (x1 - x0)
        picture_depth = (dy1 - dy0) if horizontal else (dx1 - dx0)
        overlap = min(round(EXTEND_OVERLAP * min(out_size)), picture_depth // 2)
        self.overlap = max(0, overlap - overlap % 2)  # even
        length = along1 - along0
        n = max(2, min(EXTEND_SAMPLES, length // 2))
        self.step = step = length / n  # output pixels a sample
        self.n_picture = max(1, min(round((pic1 - pic0) / step), (pic1 - pic0) // 2))
        span = depth + self.overlap
        m = max(2, math.ceil(span / step))
        # The region the band is drawn in (the bar and the overlap), and the picture's strip at
        # the edge that it continues, in output pixels (even, so chroma halves them exactly).
        strip = max(2, 2 * math.ceil(EXTEND_STRIP * step / 2))
        ov = self.overlap
        if self.side == "top":
            self.region: Rect = (x0, y0, x1, y1 + ov)
            self.strip: Rect = (dx0, dy0, dx1, min(dy0 + strip, dy1))
        elif self.side == "bottom":
            self.region = (x0, y0 - ov, x1, y1)
            self.strip = (dx0, max(dy1 - strip, dy0), dx1, dy1)
        elif self.side == "left":
            self.region = (x0, y0, x1 + ov, y1)
            self.strip = (dx0, dy0, min(dx0 + strip, dx1), dy1)
        else:
            self.region = (x0 - ov, y0, x1, y1)
            self.strip = (max(dx1 - strip, dx0), dy0, dx1, dy1)
        # The picture's part of the overlap, along the edge (the rest of it is another bar).
        self.pic_along = (pic0 - along0, pic1 - along0)
        self.strip_depth = strip  # the strip's depth as asked (the rect may clip it)

        # Sample i of the band's edge (centre along0 + (i + ½)·step) reads the profile linearly,
        # held at the picture's ends (the corners beside it).
        centres = along0 + (np.arange(n) + 0.5) * step
        pic_step = (pic1 - pic0) / self.n_picture
        pos = np.clip((centres - pic0) / pic_step - 0.5, 0, self.n_picture - 1)
        lo_index = np.floor(pos).astype(int)
        hi_index = np.minimum(lo_index + 1, self.n_picture - 1)
        frac = pos - lo_index
        self._read = np.zeros((n, self.n_picture))
        np.add.at(self._read, (np.arange(n), lo_index), 1 - frac)
        np.add.at(self._read, (np.arange(n), hi_index), frac)

        # Row j (distance d from the edge, negative inside the overlap): the read profile blurred
        # along by a Gaussian of sigma(d) (weights renormalised at the ends) and faded towards
        # black by gain(d).
        distance = (np.arange(m) + 0.5) * span / m - self.overlap
        self._ahead = np.maximum(distance, 0.0)
        self.gain = 1 - (1 - EXTEND_FAR) * np.clip(
            self._ahead / (EXTEND_FADE * min(out_size)), 0, 1
        )
        # The band's samples, rows of depth (from inside the picture outwards) by columns along
        # the edge, turned once here to lie as the region does: the operator's rows are put in
        # that order, so each frame's product is already the turned band.
        order = np.arange(m * n).reshape(m, n)
        if self.side == "top":
            order = order[::-1]
        elif self.side == "left":
            order = order.T[:, ::-1]
        elif self.side == "right":
            order = order.T
        self.shape = order.shape
        self._order = order.ravel()
        # Per plane scale (1: luma, 2: chroma): the region's size there, its part that is all
        # band, the overlap's part beside the picture, and the band's cross-fade weights over
        # that overlap (a smoothstep from 0 inside the picture to 1 at its edge).
        self._layout = {f: self._plan_overlap(f) for f in (1, 2)}

    @functools.cached_property
    def operator(self) -> np.ndarray:
        """The picture's profile to the turned band (:meth:`fill`; made on first use: a band
        that continues a person, ``render.continuation``, has its own)."""
        return self._blurred(EXTEND_SPREAD, self.gain)

    @functools.cached_property
    def _black(self) -> list[np.ndarray]:
        """What each sample's fade adds of black, per plane (Y, U, V)."""
        n = self._read.shape[0]
        black = [np.repeat((1 - self.gain) * level, n) for level in BLACK]
        return [b[self._order].astype(np.float32) for b in black]

    def _blurred(self, spread: float, gain: np.ndarray) -> np.ndarray:
        """The operator from a profile to the turned band: each row of depth d the read profile
        blurred along with sigma ``EXTEND_SIGMA + spread·d`` and scaled by ``gain``."""
        n = self._read.shape[0]
        index = np.arange(n)
        rows = []
        for d, g in zip(self._ahead, gain, strict=True):
            sigma = (EXTEND_SIGMA + spread * d) / self.step
            w = np.exp(-0.5 * ((index[:, None] - index[None, :]) / sigma) ** 2)
            w /= w.sum(axis=1, keepdims=True)
            rows.append(g * (w @ self._read))
        return np.concatenate(rows).astype(np.float32)[self._order]  # (m·n, n_picture)

    def _plan_overlap(self, f: int) -> _Layout:
        rx0, ry0, rx1, ry1 = self.region
        h, w = ry1 // f - ry0 // f, rx1 // f - rx0 // f
        ov = self.overlap // f
        a0, a1 = (v // f for v in self.pic_along)
        ramp = _ramp(ov)
        # Boxes as (y0, y1, x0, x1) in the region, at this plane's scale.
        if self.side == "bottom":
            bar, mix = (ov, h, 0, w), (0, ov, a0, a1)
        elif self.side == "top":
            bar, mix, ramp = (0, h - ov, 0, w), (h - ov, h, a0, a1), ramp[::-1]
        elif self.side == "right":
            bar, mix, ramp = (0, h, ov, w), (a0, a1, 0, ov), ramp.T
        else:
            bar, mix, ramp = (0, h, 0, w - ov), (a0, a1, w - ov, w), ramp.T[:, ::-1]
        weights = np.ascontiguousarray(np.broadcast_to(ramp, (mix[1] - mix[0], mix[3] - mix[2])))
        return _Layout((w, h), bar, mix, weights)

    def profile(self, out: np.ndarray) -> list[np.ndarray]:
        """The picture's edge strip in ``out`` as a profile per plane (float32, n_picture)."""
        sx0, sy0, sx1, sy1 = self.strip
        size = (self.n_picture, 1) if self.side in ("top", "bottom") else (1, self.n_picture)
        profiles = []
        for index, plane in enumerate(yuv.planes(out)):
            f = 1 if index == 0 else 2
            strip = plane[sy0 // f : sy1 // f, sx0 // f : sx1 // f]
            shrunk = cv2.resize(strip, size, interpolation=cv2.INTER_AREA)
            profiles.append(shrunk.astype(np.float32).ravel())
        return profiles

    def fill(self, out: np.ndarray, profiles: list[np.ndarray]) -> None:
        """Fill this bar of ``out`` from ``profiles`` (:meth:`profile`, taken before any band
        was drawn), and cross-fade the overlap."""
        for index, (plane, profile) in enumerate(zip(yuv.planes(out), profiles, strict=True)):
            f = 1 if index == 0 else 2
            band = self.operator @ profile + self._black[index]
            small = np.clip(band + 0.5, 0, 255).astype(np.uint8).reshape(self.shape)
            self._lay(
                plane, cv2.resize(small, self._layout[f].size, interpolation=cv2.INTER_LINEAR), f
            )

    def _lay(
        self, plane: np.ndarray, drawn: np.ndarray, f: int, at: tuple[int, int] = (0, 0)
    ) -> None:
        """Put ``drawn`` (the region at 1/``f`` scale, or the part of it from row and column
        ``at``) into ``plane``: the bar as it is, the overlap cross-faded with the picture's own
        edge."""
        rx0, ry0, rx1, ry1 = self.region
        layout = self._layout[f]
        region = plane[ry0 // f : ry1 // f, rx0 // f : rx1 // f]
        window = (at[0], at[0] + drawn.shape[0], at[1], at[1] + drawn.shape[1])
        box = _meet(layout.bar, window)
        if box is not None:
            y0, y1, x0, x1 = box
            region[y0:y1, x0:x1] = drawn[y0 - at[0] : y1 - at[0], x0 - at[1] : x1 - at[1]]
        box = _meet(layout.mix, window) if self.overlap else None
        if box is not None:
            y0, y1, x0, x1 = box
            my0, _, mx0, _ = layout.mix
            mine = region[y0:y1, x0:x1].astype(np.float32)
            theirs = drawn[y0 - at[0] : y1 - at[0], x0 - at[1] : x1 - at[1]]
            mixed = (
                mine + (theirs - mine) * layout.weights[y0 - my0 : y1 - my0, x0 - mx0 : x1 - mx0]
            )
            region[y0:y1, x0:x1] = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)


class _Layout(NamedTuple):
    """A band's region at one plane's scale: its ``size`` (w, h), the ``bar`` box that is all
    band and the ``mix`` box of the overlap beside the picture, each (y0, y1, x0, x1) in the
    region, and the cross-fade's ``weights`` over ``mix`` (0 inside the picture to 1 at its
    edge)."""

    size: tuple[int, int]
    bar: tuple[int, int, int, int]
    mix: tuple[int, int, int, int]
    weights: np.ndarray


def even_span(start: float, end: float, limit: int) -> tuple[int, int]:
    """``start``..``end`` widened to even whole pixels within 0..``limit``."""
    return max(0, math.floor(start / 2) * 2), min(limit, math.ceil(end / 2) * 2)


def _meet(
    a: tuple[int, int, int, int], b: tuple[int, int, int, int]
) -> tuple[int, int, int, int] | None:
    """The overlap of two (y0, y1, x0, x1) boxes, or None."""
    y0, y1, x0, x1 = max(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), min(a[3], b[3])
    return (y0, y1, x0, x1) if y1 > y0 and x1 > x0 else None


def _ramp(length: int) -> np.ndarray:
    """Weights rising smoothly from near 0 to near 1 over ``length`` rows, as a column."""
    t = (np.arange(length, dtype=np.float32) + 0.5) / max(length, 1)
    return (t * t * (3 - 2 * t))[:, None]


def _side(rect: Rect, dest: Rect) -> str:
    """Which side of the picture ``dest`` the bar ``rect`` lies on."""
    _, y0, x1, y1 = rect
    dx0, dy0, _, dy1 = dest
    if y1 <= dy0:
        return "top"
    if y0 >= dy1:
        return "bottom"
    return "left" if x1 <= dx0 else "right"
