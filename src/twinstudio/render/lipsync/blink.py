"""Blinks for a still portrait: the upper eyelids come down over the eyes now and then.

A photo twin whose mouth talks while its eyes stare for a minute looks like a puppet; people
blink every few seconds (15-20 a minute at rest, fewer while talking), each blink ~0.25 s.
:class:`Blinker` warps each eye of the still (``cv2.remap``, in the eye's own axes: u along
its corners, v down): the lashes move down whole until the lash line meets the lower lid, the
lid's skin between the brow line and the lashes is stretched to follow them, and the eye below
them is squeezed into what is left; nothing is painted, so the lids keep the photo's own skin,
lashes and light. Both eyes close together. :func:`blink_curve` says how closed the eyes are at
each output frame: blinks at irregular gaps of ``GAP_S`` (drawn from a fixed seed, so a script
renders the same video every time), each closing fast and opening slower (``CLOSE_S``,
``HOLD_S``, ``OPEN_S``).
"""

from __future__ import annotations

import numpy as np

# Face-mesh points of each eye: (outer corner, inner corner, upper lid, lower lid), lids listed
# from the outer corner to the inner one.
EYES = (
    (33, 133, (246, 161, 160, 159, 158, 157, 173), (7, 163, 144, 145, 153, 154, 155)),
    (263, 362, (466, 388, 387, 386, 385, 384, 398), (249, 390, 373, 374, 380, 381, 382)),
)
FIRST_S = (1.0, 2.5)  # the first blink falls in this window
GAP_S = (2.5, 5.5)  # then one blink every so many seconds (uniform)
CLOSE_S, HOLD_S, OPEN_S = 0.08, 0.04, 0.13
# The lashes' band, in eye widths above and below the upper lid's landmarks (the lash line):
# moved whole as the lid comes down, never stretched.
LASH_ABOVE, LASH_BELOW = 0.18, 0.04
CLOSED = 1.0  # share of the eye's opening the lid covers at the bottom of a blink
SEED = 20261204


def blink_curve(n_frames: int, fps: float, *, start: int = 0, seed: int = SEED) -> np.ndarray:
    """(n_frames,) float32 in [0, 1]: how far the eyes are closed at output frames
    ``start`` … ``start + n_frames - 1`` (the same frames give the same values, however the
    video is cut into pieces)."""
    rng = np.random.default_rng(seed)
    end_s = (start + n_frames) / fps
    onsets = [float(rng.uniform(*FIRST_S))]
    while onsets[-1] < end_s:
        onsets.append(onsets[-1] + float(rng.uniform(*GAP_S)))
    t = (start + np.arange(n_frames)) / fps
    out = np.zeros(n_frames, np.float64)
    first_s = start / fps - (CLOSE_S + HOLD_S + OPEN_S)  # blinks over before these frames
    for onset in (o for o in onsets if o > first_s):
        dt = t - onset
        closing = np.clip(dt / CLOSE_S, 0, 1)
        opening = np.clip((dt - CLOSE_S - HOLD_S) / OPEN_S, 0, 1)
        shape = np.where(dt < 0, 0.0, np.sin(0.5 * np.pi * closing) ** 2 * (1 - opening**2))
        out = np.maximum(out, shape)
    return out.astype(np.float32)


class _Eye:
    """One eye of the still: its axes, lids and the pixels a blink moves."""

    def __init__(self, lm: np.ndarray, outer: int, inner: int, upper: tuple[int, ...],
                 lower: tuple[int, ...], size: tuple[int, int]) -> None:  # fmt: skip
        a, b = lm[outer].astype(np.float64), lm[inner].astype(np.float64)
        axis = b - a
        self.width = float(np.linalg.norm(axis))
        ex = axis / max(self.width, 1e-6)
        if ex[0] < 0:
            ex = -ex
        self.ex = ex
        self.ey = np.array([-ex[1], ex[0]])  # down in the picture
        self.centre = (a + b) / 2
        half = self.width / 2

        def curve(points: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
            uv = self._uv(lm[[outer, *points, inner]].astype(np.float64))
            order = np.argsort(uv[:, 0])
            return uv[order, 0], uv[order, 1]

        self._upper, self._lower = curve(upper), curve(lower)
        # The warped box: corner to corner and a little beyond, brow line to below the lower lid.
        self.brow = -0.55 * self.width
        low = float(self._lower[1].max()) + 0.15 * self.width
        corners = np.array([[u, v] for u in (-1.4 * half, 1.4 * half)
                            for v in (self.brow, low)])  # fmt: skip
        pts = self.centre + corners[:, :1] * self.ex + corners[:, 1:] * self.ey
        w, h = size
        x0, y0 = np.floor(pts.min(axis=0)).astype(int)
        x1, y1 = np.ceil(pts.max(axis=0)).astype(int) + 1
        self.box = (max(0, int(x0)), max(0, int(y0)), min(w, int(x1)), min(h, int(y1)))
        xs = np.arange(self.box[0], self.box[2], dtype=np.float64)
        ys = np.arange(self.box[1], self.box[3], dtype=np.float64)
        gx, gy = np.meshgrid(xs, ys)
        rel = np.stack([gx - self.centre[0], gy - self.centre[1]], axis=-1)
        self.u, self.v = rel @ self.ex, rel @ self.ey
        inside = np.abs(self.u) < half
        self.up = np.where(inside, np.interp(self.u, *self._upper), 0.0)
        self.lo = np.where(inside, np.interp(self.u, *self._lower), 0.0)
        self.lo = np.maximum(self.lo, self.up)

    def _uv(self, pts: np.ndarray) -> np.ndarray:
        rel = pts - self.centre
        return np.stack([rel @ self.ex, rel @ self.ey], axis=-1)

    def maps(self, closed: float) -> tuple[np.ndarray, np.ndarray]:
        """Backward maps (float32 x, y) of the box for the lids ``closed`` (0 open … 1 shut).

        Each column of the eye is three bands: the lid's skin (brow line to the top of the
        lashes), the lashes (``LASH_ABOVE`` above the upper lid's landmarks, which sit on the
        lash line, to ``LASH_BELOW`` under it), and the eye (to the lower lid). The lash band
        moves down rigidly, by ``closed`` of the eye's opening in that column (nothing at the
        corners, so the closed lash line follows the lower lid); the skin stretches to follow
        it and the eye is squeezed into what is left. Until 2026-12-05 the skin band reached
        down to a tenth of the eye's width above the lash line and stretched with the rest:
        long lashes and eyeliner inside it were drawn out into dark vertical streaks over the
        closed eye, and the lash line itself vanished."""
        v, up, lo = self.v, self.up, self.lo
        drop = closed * CLOSED * (lo - up)  # how far the lash line comes down, per column
        lash_top, lash_bottom = up - LASH_ABOVE * self.width, up + LASH_BELOW * self.width
        to_top, to_bottom = lash_top + drop, lash_bottom + drop
        skin = self.brow + (v - self.brow) * (lash_top - self.brow) / np.maximum(
            to_top - self.brow, 1e-6
        )
        eye = lash_bottom + (v - to_bottom) * (lo - lash_bottom) / np.maximum(lo - to_bottom, 1e-6)
        src_v = np.where(v < self.brow, v,
                         np.where(v < to_top, skin,
                                  np.where(v < to_bottom, v - drop,
                                           np.where(v < lo, eye, v))))  # fmt: skip
        u = self.u
        map_x = self.centre[0] + u * self.ex[0] + src_v * self.ey[0]
        map_y = self.centre[1] + u * self.ex[1] + src_v * self.ey[1]
        return map_x.astype(np.float32), map_y.astype(np.float32)


class Blinker:
    """Closes the eyes of one still portrait (RGB, uint8) by a given amount."""

    def __init__(self, image: np.ndarray, lm: np.ndarray) -> None:
        h, w = image.shape[:2]
        self.image = image
        self.eyes = [_Eye(lm, *eye, size=(w, h)) for eye in EYES]

    def apply(self, frame: np.ndarray, closed: float) -> np.ndarray:
        """``frame`` (the still or a copy of it with the mouth moved; modified in place) with
        both eyes ``closed`` (0 … 1); the eye boxes are warped from the still."""
        if closed <= 0.01:
            return frame
        import cv2

        for eye in self.eyes:
            x0, y0, x1, y1 = eye.box
            if x1 - x0 < 2 or y1 - y0 < 2:
                continue
            map_x, map_y = eye.maps(closed)
            frame[y0:y1, x0:x1] = cv2.remap(self.image, map_x, map_y, cv2.INTER_LINEAR,
                                            borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
        return frame
