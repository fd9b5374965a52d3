"""The person continued past the footage's edge, into a band over the background
(``render.bars``: with the background removed, where the footage's edge cuts the person).

A band's colours are the person's under their alpha and the alpha itself, premultiplied so the old
backdrop's colours do not bleed in, blurred along the edge the further from it as a picture's band
is (``render.band``), but not faded; their outline blurs far less (``PERSON_SPREAD``). Beside the
picture a shoulder does not go on level: it falls (``_shoulder_drop``, ``PersonBand._falling``),
and whatever else reaches a side edge above it (hair) fades out within ``HAIR_FADE``. Over the
picture a head its top edge cuts closes over in half an ellipse (``PersonBand._domed``).

Each band's continuation is small (samples along the edge by rows of depth), made once per footage
frame where the engine's change to the picture does not reach the band's edge (``PERSON_KEEP``),
and enlarged only over the part of the bar the person reaches.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import cv2
import numpy as np

from twinstudio.render import yuv
from twinstudio.render.band import EXTEND_SIGMA, EXTEND_SPREAD, Band, Rect, even_span

__all__ = ["PersonBand", "PersonEdge"]

# The person's outline in a band (``BarFill.person``) blurs along the edge far less than the
# colours do (sigma EXTEND_SIGMA + PERSON_SPREAD·d): blurred as much, a chest 360 px wide at
# 1080p spread into a brown haze over the whole 9:16 width 250 px down; so the outline goes on
# nearly as it meets the edge, filled with the colours' out-of-focus continuation.
PERSON_SPREAD = 0.15
LADDER = 1.4  # the ratio of one blur to the next on a person band's ladder (``PersonBand``)
# Side bands (``_shoulder_drop``): the slope of the person's top near the edge is read over this
# share of the view's width, held to SHOULDER_SLOPE_MIN..SHOULDER_SLOPE_MAX (rows down per column
# out), and steepened outwards by d / SHOULDER_BEND of the picture's height at distance d.
SHOULDER_READ = 0.05
SHOULDER_SLOPE_MIN = 0.3
SHOULDER_SLOPE_MAX = 3.0
SHOULDER_BEND = 0.15
# A head the footage's top cuts closes over in a dome this share of its width high (``_domed``).
DOME_HEIGHT = 0.35
# What else reaches a side edge above a shoulder (hair) fades out within this share of the
# output's short side, instead of running on sideways.
HAIR_FADE = 0.04
# Less than this (its alpha) reaching the edge above a shoulder is left out.
REST_MIN = 0.05
# A band's continuations kept, by footage frame (small: 24 KB each at most); a loop longer than
# this makes the rest afresh each time it shows them.
PERSON_KEEP = 600


class PersonBand(Band):
    """A band that continues the person (see the module docstring)."""

    def __init__(self, rect: Rect, dest: Rect, out_size: tuple[int, int]) -> None:
        """A band (``render.band.Band``) that continues a person (:meth:`person_band`).

        The person's colours blur along the edge as the picture's do (sigma ``EXTEND_SIGMA +
        EXTEND_SPREAD·d``, with no fade) and their outline far less (``PERSON_SPREAD``). Rather
        than an operator row for every depth (two matrices of ~6000 x 96 for a 1080p side band,
        read every frame: 2 ms a band on the render's busy cores), the profile is blurred to a
        ladder of sigmas ``LADDER`` apart, and each depth blends the two rungs round its own."""
        super().__init__(rect, dest, out_size)
        side = self.side in ("left", "right")
        dx0, dy0, dx1, dy1 = dest
        across = (dx1 - dx0) if side else (dy1 - dy0)
        # How far into the picture (a share of it, across the edge) the continuation reads: the
        # edge strip, and beside it the width the shoulder's slope is read over (``reads``).
        self._read_share = (self.strip_depth + 2) / max(1, across)
        if side:
            self._read_share = max(self._read_share, SHOULDER_READ + 2 / max(1, across))
        self._picture_length = self.pic_along[1] - self.pic_along[0]
        self._short = min(out_size)
        # A side band's distance from the picture of each of its columns, as they lie.
        self._depth = self._ahead[::-1] if self.side == "left" else self._ahead
        # Its continuations of the person by footage frame (``BarFill.person_bands``).
        self.kept: dict[int, np.ndarray | None] = {}
        n = self._read.shape[0]
        colour = (EXTEND_SIGMA + EXTEND_SPREAD * self._ahead) / self.step
        outline = (EXTEND_SIGMA + PERSON_SPREAD * self._ahead) / self.step
        low, high = float(outline.min()), float(colour.max())
        count = max(2, math.ceil(math.log(high / low) / math.log(LADDER)) + 1)
        index = np.arange(n)
        rungs = []
        for sigma in low * LADDER ** np.arange(count):
            w = np.exp(-0.5 * ((index[:, None] - index[None, :]) / sigma) ** 2)
            rungs.append((w / w.sum(axis=1, keepdims=True)) @ self._read)
        self._ladder = np.concatenate(rungs).astype(np.float32)  # (count·n, n_picture)

        def place(sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            rung = np.clip(np.log(sigma / low) / math.log(LADDER), 0, count - 1)
            below = np.minimum(np.floor(rung).astype(int), count - 2)
            return below, (rung - below).astype(np.float32)[:, None]

        self._colour_rungs, self._outline_rungs = place(colour), place(outline)
        rows, cols = np.indices(self.shape, dtype=np.float32)
        self._rows, self._cols = rows, cols

    def person_band(self, picture: np.ndarray, alpha: np.ndarray, dest: Rect) -> np.ndarray | None:
        """The person's continuation into this band (:meth:`person_profile`, carried on by
        :meth:`_continued`; over the picture by :meth:`_domed`, beside it by :meth:`_falling`),
        small: uint8 (rows, columns, 4) of Y, U, V and alpha as the band lies; None where they
        do not reach it."""
        edge = self.person_profile(picture, alpha, dest)
        if float(edge.edge[:, 3].max()) < 0.5 / 255:
            return None
        if self.side == "top":
            band: np.ndarray | None = self._domed(edge)
        elif self.side == "bottom":
            band = self._continued(edge.edge)
        else:
            band = self._falling(edge)
        if band is None:
            return None
        band[..., 3] *= 255
        if float(band[..., 3].max()) < 0.5:
            return None
        return np.clip(band + 0.5, 0, 255).astype(np.uint8)

    def reads(self, changed: tuple[int, int, int, int] | None, view: tuple[int, ...]) -> bool:
        """Whether :meth:`person_band` reads from ``changed`` (x0, y0, x1, y1), a box of a view
        of shape ``view`` (height, width): the edge strip, or beside the picture the width the
        shoulder's slope is read over."""
        if changed is None:
            return False
        height, width = view[:2]
        x0, y0, x1, y1 = changed
        deep = self._read_share
        if self.side == "top":
            return y0 < deep * height
        if self.side == "bottom":
            return y1 > (1 - deep) * height
        if self.side == "left":
            return x0 < deep * width
        return x1 > (1 - deep) * width

    def person_profile(self, picture: np.ndarray, alpha: np.ndarray, dest: Rect) -> PersonEdge:
        """The person at this band's edge of the view: per plane the colour times the alpha
        (0–1), and the alpha, each shrunk to a profile of ``n_picture`` samples along the edge
        (:class:`PersonEdge`); for a side band, where a shoulder stands on the picture's
        bottom, how it falls."""
        ys, us, vs = yuv.planes(picture)
        vh, vw = ys.shape
        dx0, dy0, dx1, dy1 = dest
        horizontal = self.side in ("top", "bottom")
        # The strip's depth in view pixels, as deep as the output's strip (even: chroma halves it).
        out_depth = (
            (self.strip[3] - self.strip[1]) if horizontal else (self.strip[2] - self.strip[0])
        )
        scale = vh / max(1, dy1 - dy0) if horizontal else vw / max(1, dx1 - dx0)
        depth = max(2, 2 * math.ceil(out_depth * scale / 2))
        size = (self.n_picture, 1) if horizontal else (1, self.n_picture)
        edge = np.ascontiguousarray(_person_strip(self.side, alpha, depth))
        if not edge.any():  # nobody at this edge (the usual case over the picture)
            return PersonEdge(np.zeros((self.n_picture, 4), np.float32), None)
        half = cv2.resize(edge, (edge.shape[1] // 2, edge.shape[0] // 2),
                          interpolation=cv2.INTER_AREA)  # fmt: skip
        profiles = np.empty((self.n_picture, 4), np.float32)
        for index, (plane, weight, f) in enumerate(((ys, edge, 1), (us, half, 2), (vs, half, 2))):
            strip = np.ascontiguousarray(_person_strip(self.side, plane, depth // f))
            mixed = cv2.multiply(strip, weight, scale=1 / 255, dtype=cv2.CV_32F)
            profiles[:, index] = cv2.resize(mixed, size, interpolation=cv2.INTER_AREA).ravel()
        shrunk = cv2.resize(edge.astype(np.float32), size, interpolation=cv2.INTER_AREA)
        profiles[:, 3] = shrunk.ravel() * (1 / 255)
        fall = None if horizontal else _shoulder_drop(alpha, self.side)
        return PersonEdge(profiles, fall)

    def _continued(self, edge: np.ndarray) -> np.ndarray:
        """The person's edge (:attr:`PersonEdge.edge`) carried into the band, small and lying
        as the band does: (rows, columns, 4) float32, each plane's colour (no longer
        premultiplied) and the outline's alpha (0–1)."""
        n = self._read.shape[0]
        rungs = (self._ladder @ edge).reshape(-1, n, 4)
        # The colours' blur of the alpha un-premultiplies them (a person's continuation is not
        # faded to black: darkening outwards it read as a shadow); the outline has its own.
        below, share = self._colour_rungs
        blurred = rungs[below] + (rungs[below + 1] - rungs[below]) * share[..., None]
        band = np.empty(blurred.shape, np.float32)  # (depth, along, 4)
        np.divide(blurred[..., :3], np.maximum(blurred[..., 3:], 1e-6), out=band[..., :3])
        below, share = self._outline_rungs
        band[..., 3] = rungs[below, :, 3] + (rungs[below + 1, :, 3] - rungs[below, :, 3]) * share
        if self.side == "top":
            band = band[::-1]
        elif self.side in ("left", "right"):
            band = (
                band.transpose(1, 0, 2)[:, ::-1] if self.side == "left" else band.transpose(1, 0, 2)
            )
        return np.ascontiguousarray(band)

    def _domed(self, edge: PersonEdge) -> np.ndarray:
        """A top band's continuation (as :meth:`_continued`'s): each run of the person along
        the edge (a head the footage's top cuts) closes over in half an ellipse ``DOME_HEIGHT``
        of its width high, its outline softening as it rises, rather than running on up."""
        band = self._continued(edge.edge)
        n = self._read.shape[0]
        inside = (self._read @ edge.edge[:, 3]) >= 0.5
        flips = np.flatnonzero(np.diff(np.concatenate([[0], inside.astype(np.int8), [0]])))
        d = self._ahead[:, None]  # each row's depth (px), nearest first
        x = np.arange(n, dtype=np.float64)[None, :] + 0.5
        soft = 1.0 + PERSON_SPREAD * d / self.step  # samples
        mask = np.zeros((len(self._ahead), n))
        for start, end in zip(flips[::2], flips[1::2], strict=True):
            cap = DOME_HEIGHT * (end - start) * self.step
            half = (end - start) / 2 * np.sqrt(np.clip(1.0 - (d / cap) ** 2, 0.0, 1.0))
            reach = (half - np.abs(x - (start + end) / 2)) / soft + 0.5
            # (An interval narrower than its soft edge covers no more than its width.)
            cover = np.clip(reach, 0.0, 1.0) * np.clip(2 * half / soft, 0.0, 1.0)
            np.maximum(mask, cover, out=mask)
        band[..., 3] *= mask[::-1]  # the band lies with its far rows first
        return band

    def _falling(self, edge: PersonEdge) -> np.ndarray | None:
        """A side band's continuation (as :meth:`_continued`'s): the shoulder (the run standing
        on the picture's bottom, from ``edge.fall``'s top down) falls away from the picture,
        steepening; whatever else reaches the edge above it (hair) fades out within
        ``HAIR_FADE``."""
        d = self._depth
        fade = np.clip(1.0 - d / max(1.0, HAIR_FADE * self._short), 0.0, 1.0)[None, :]
        below = np.zeros(self.n_picture, np.float32)
        if edge.fall is not None:
            top = edge.fall[0] * self.n_picture
            # The sample holding the shoulder's top, and the one above it (the matte's soft
            # edge), go with the shoulder.
            below = np.clip(np.arange(self.n_picture, dtype=np.float32) + 2.0 - top, 0.0, 1.0)
        rest = shoulder = None
        if float((edge.edge[:, 3] * (1.0 - below)).max()) >= REST_MIN:
            rest = self._continued(edge.edge * (1.0 - below)[:, None])
            rest[..., 3] *= fade
        if edge.fall is not None:
            # Each column of depth d shifted down by slope·d, bent by d² / (2·bend).
            bend = max(1.0, SHOULDER_BEND * self._picture_length)
            shift = (edge.fall[1] * d + d * d / (2 * bend)) / self.step
            map_y = self._rows - shift[None, :].astype(np.float32)
            shoulder = cv2.remap(self._continued(edge.edge * below[:, None]), self._cols, map_y,
                                 cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
        if shoulder is None or rest is None:
            return shoulder if rest is None else rest  # None: only a trace reaches the edge
        # The two laid one over the other, the shoulder in front.
        a_s, a_r = shoulder[..., 3:], rest[..., 3:]
        alpha = a_s + a_r * (1.0 - a_s)
        share = a_s / np.maximum(alpha, 1e-3)
        out = rest + (shoulder - rest) * share
        out[..., 3:] = alpha
        return out

    def fill_person(
        self,
        out: np.ndarray,
        band: np.ndarray,
        background: np.ndarray | None,
        out_alpha: np.ndarray | None = None,
    ) -> None:
        """Lay the person's continuation (:meth:`person_band`) over ``background`` in this bar
        of ``out``, or with no background write it and its outline into ``out_alpha``;
        cross-fading the overlap as :meth:`fill` does."""
        rx0, ry0, rx1, ry1 = self.region
        alpha = band[..., 3]
        # Only the part of the region the person reaches is drawn (a shoulder is a third of a
        # side band): its samples with one more round them, in even pixels. (Under 2 of 255 is
        # no more than the blur's far tail, and would widen the part to the whole band.)
        reached = alpha > 1
        if not reached.any():
            return
        rows, cols = np.flatnonzero(reached.any(axis=1)), np.flatnonzero(reached.any(axis=0))
        (n_r, n_c), (w, h) = self.shape, (rx1 - rx0, ry1 - ry0)
        s0, s1 = max(0, rows[0] - 1), min(n_r, rows[-1] + 2)
        t0, t1 = max(0, cols[0] - 1), min(n_c, cols[-1] + 2)
        py0, py1 = even_span(s0 * h / n_r, s1 * h / n_r, h)
        px0, px1 = even_span(t0 * w / n_c, t1 * w / n_c, w)
        part = (rx0 + px0, ry0 + py0, rx0 + px1, ry0 + py1)
        drawn = yuv.new((px1 - px0, py1 - py0))
        for index, plane in enumerate(yuv.planes(drawn)):
            small = np.ascontiguousarray(band[s0:s1, t0:t1, index])
            cv2.resize(small, plane.shape[::-1], dst=plane, interpolation=cv2.INTER_LINEAR)
        outline = np.ascontiguousarray(alpha[s0:s1, t0:t1])
        reach = cv2.resize(outline, (px1 - px0, py1 - py0), interpolation=cv2.INTER_LINEAR)
        layers = list(zip(yuv.planes(out), yuv.planes(drawn), (1, 2, 2), strict=True))
        if background is not None:
            yuv.blend_onto(drawn, reach, yuv.crop(background, part))
        elif out_alpha is not None:
            layers.append((out_alpha, reach, 1))
        for plane, mine, f in layers:
            self._lay(plane, mine, f, (py0 // f, px0 // f))


class PersonEdge(NamedTuple):
    """The person at a band's edge (:meth:`PersonBand.person_profile`): ``edge``, profiles along the
    edge (float32 (samples, 4)) of each plane's colour times the alpha and of the alpha;
    ``fall``: for a side band, the top of the shoulder standing on the picture's bottom (a
    share of the edge's length from its top) and its slope (rows down a column out), or None."""

    edge: np.ndarray
    fall: tuple[float, float] | None


def _shoulder_drop(alpha: np.ndarray, side: str) -> tuple[float, float] | None:
    """Where the person in ``alpha`` (the view's, uint8) stands on its bottom edge and reaches
    its ``side`` edge: the top of that run at the edge, as a share of the height, and the slope
    of its top over the ``SHOULDER_READ`` of the width next to the edge (rows down a column
    outwards; held to ``SHOULDER_SLOPE_MIN``..``SHOULDER_SLOPE_MAX``). None where the person
    does not stand there, or the run fills the whole edge (nothing falls)."""
    height, width = alpha.shape
    reach = max(3, round(SHOULDER_READ * width))
    strip = alpha[:, :reach] if side == "left" else alpha[:, ::-1][:, :reach]  # edge first
    up = strip[::-1] < 128  # from the bottom row up: not the person
    # Each column's run up from the bottom row: its length, and so its top.
    run = np.where(up.any(axis=0), np.argmax(up, axis=0), height)
    if run[0] == 0 or run[0] >= height:
        return None
    inward = np.flatnonzero(run > 0)
    top = (height - run[inward]).astype(np.float64)
    slope = SHOULDER_SLOPE_MIN
    if inward.size >= 2:
        # The least-squares line through the tops: lower at the edge than inside, it falls.
        x = inward - inward.mean()
        slope = float(-(x * (top - top.mean())).sum() / (x * x).sum())
    slope = min(max(slope, SHOULDER_SLOPE_MIN), SHOULDER_SLOPE_MAX)
    return (height - float(run[0])) / height, slope


def _person_strip(side: str, plane: np.ndarray, depth: int) -> np.ndarray:
    """The ``depth`` rows (or columns) of ``plane`` at its ``side`` edge."""
    depth = max(1, min(depth, plane.shape[0] if side in ("top", "bottom") else plane.shape[1]))
    if side == "top":
        return plane[:depth]
    if side == "bottom":
        return plane[-depth:]
    return plane[:, :depth] if side == "left" else plane[:, -depth:]
