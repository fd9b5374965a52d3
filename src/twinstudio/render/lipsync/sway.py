"""Head motion for a still portrait: the picture drifts, tilts and nods a little as it talks.

A photo twin whose mouth talks while the rest of the picture never moves looks like a cut-out:
nobody's head is still while they speak. They drift and tilt slowly, and their head dips on the
syllables they stress. :class:`Sway` moves the whole still by a small similarity transform at
every output frame:

* a *roll* about the neck (a point half an inter-ocular distance below the chin) of at most
  ``ROLL_DEG``;
* a *drift* of at most ``DRIFT_IOD`` inter-ocular distances sideways and half that up and down;
* a *nod* of up to ``NOD_IOD`` downwards that follows how far the mouth has been open over the
  last few tenths of a second (a causal filter, time constant ``NOD_S``, whose state carries from
  one piece of speech to the next, so a video cut into pieces moves as it would whole).

The slow motions are sums of three sines at unrelated low frequencies (0.07–0.41 Hz) with
phases drawn from a fixed seed: the same script renders the same video every time, and a frame
moves the same whichever piece it falls in (as ``blink.blink_curve``'s blinks do). The picture
is also zoomed about its centre, once for the whole video, by the least factor that keeps its
edges outside the frame at the largest move (``Sway.zoom``; at most ``MAX_ZOOM``: a face that
fills the picture moves less instead), so no border ever shows. With a matte the alpha is moved
by the same transform: the person sways in front of a still background. The mouth and the
blinks are drawn on the still first, in its own coordinates, and moved with it.

What it costs (``PhotoEngine`` warps each frame straight into the render's view, bilinear, one
resampling; 2026-12-05, a 1080x1080 still, a 63 s script, render only): 11.1-11.5 → 16.9 s at
720p and 13.6-14.4 → 20.7 s at 1080p, against 38-45 s for a bicubic warp of the whole still. The
picture is a little softer: the face's Laplacian variance 15.0 → 10.7 at 1080p, of which the
zoom (1.056 there, as for the demo portrait) accounts for about two thirds (1/1.056⁴ = 0.80).
So the face's box is warped a second time, bicubic, and feathered in (``photo._sharper_face``):
the demo's face in a 1080p render, Laplacian variance 12.2 → 14.5 (2026-12-05, every 8th frame
of a 6.5 s render); a 63 s render, alternating, three runs each: 720p 9.3-10.9 → 9.7-11.9 s,
1080p 16.2-18.6 → 17.4-21.3 s (~1-2 ms a frame).
"""

from __future__ import annotations

import math

import numpy as np

from twinstudio.twins.bank import apply_affine, invert_affine
from twinstudio.twins.faces import CHIN, EYE_L, EYE_R

ROLL_DEG = 2.0
DRIFT_IOD = 0.08
NOD_IOD = 0.05
NOD_S = 0.25  # the nod follows the opening with this time constant
MAX_ZOOM = 1.1  # never more: the zoom crops the still (a face filling it moves less instead)
SEED = 20261205
# (frequencies in Hz) of the three sines summed for each slow motion: roll, sideways, up-down.
_FREQS = ((0.11, 0.23, 0.37), (0.07, 0.19, 0.31), (0.13, 0.29, 0.41))
_WEIGHTS = np.array([1.0, 0.6, 0.35])


class Sway:
    """Per-frame 2x3 affines (source pixels → source pixels) that move a still of ``size``
    (w, h) whose face has the 478 face-mesh landmarks ``lm``; see the module's docstring."""

    def __init__(self, size: tuple[int, int], lm: np.ndarray, fps: float, seed: int = SEED) -> None:
        self.size = size
        self.fps = float(fps)
        eyes = lm[list(EYE_L)].mean(axis=0), lm[list(EYE_R)].mean(axis=0)
        self.iod = float(np.linalg.norm(eyes[1] - eyes[0]))
        down = (lm[CHIN] - (eyes[0] + eyes[1]) / 2).astype(np.float64)
        self.pivot = lm[CHIN].astype(np.float64) + 0.5 * self.iod * down / max(
            float(np.linalg.norm(down)), 1e-6
        )
        rng = np.random.default_rng(seed)
        self._phases = rng.uniform(0, 2 * np.pi, (3, 3))
        self._nod_state = 0.0  # the nod filter's output at the last frame given
        # How much of the full motion this still gets: all of it unless hiding the edges would
        # take more than MAX_ZOOM (a face filling the picture), then half, a quarter... or none.
        self.amount = 1.0
        for _ in range(5):
            self.zoom = self._least_zoom(self.amount)
            if self.zoom <= MAX_ZOOM:
                break
            self.amount /= 2
        else:
            self.amount, self.zoom = 0.0, 1.0

    def _slow(self, t: np.ndarray) -> np.ndarray:
        """(3, n) roll, sideways and up-down motions in [-1, 1] at times ``t`` (s)."""
        out = np.zeros((3, len(t)))
        for k, (freqs, phases) in enumerate(zip(_FREQS, self._phases, strict=True)):
            for w, f, p in zip(_WEIGHTS, freqs, phases, strict=True):
                out[k] += w * np.sin(2 * np.pi * f * t + p)
        return out / _WEIGHTS.sum()

    def _affine(self, roll_deg: float, dx: float, dy: float, zoom: float) -> np.ndarray:
        """Roll about the pivot, then shift by (dx, dy), then zoom about the picture's centre."""
        a = math.radians(roll_deg)
        c, s = math.cos(a), math.sin(a)
        rot = np.array([[c, -s], [s, c]])
        centre = np.array(self.size, np.float64) / 2
        # x → zoom · (rot · (x - pivot) + pivot + d - centre) + centre
        lin = zoom * rot
        off = zoom * (self.pivot - rot @ self.pivot + np.array([dx, dy]) - centre) + centre
        return np.hstack([lin, off[:, None]]).astype(np.float64)

    def _least_zoom(self, amount: float) -> float:
        """The least zoom at which every corner of the frame, at the largest roll and drift
        either way (``amount`` of the full motion), still shows a point of the picture; above
        :data:`MAX_ZOOM` when none up to it does."""
        w, h = self.size
        corners = np.array([[0, 0], [w, 0], [0, h], [w, h]], np.float64)
        dx, dy = amount * DRIFT_IOD * self.iod, amount * (DRIFT_IOD / 2 + NOD_IOD) * self.iod

        def covers(zoom: float) -> bool:
            for roll in (-amount * ROLL_DEG, amount * ROLL_DEG):
                for sx in (-dx, dx):
                    for sy in (-dy, dy):
                        m = self._affine(roll, sx, sy, zoom)
                        src = apply_affine(invert_affine(m), corners)
                        if (
                            (src < -0.5).any()
                            or (src[:, 0] > w + 0.5).any()
                            or (src[:, 1] > h + 0.5).any()
                        ):
                            return False
            return True

        lo, hi = 1.0, MAX_ZOOM
        if not covers(hi):
            return 2 * MAX_ZOOM
        for _ in range(24):
            mid = (lo + hi) / 2
            lo, hi = (lo, mid) if covers(mid) else (mid, hi)
        return hi

    def matrices(self, opening: np.ndarray, start: int) -> np.ndarray:
        """(n, 2, 3) affines for output frames ``start`` … ``start + n - 1``, ``opening`` (n,)
        the mouth's target opening at each (0 closed … 1 the person's widest). Call with the
        pieces of a video in order: the nod's filter carries from one call to the next."""
        n = len(opening)
        t = (start + np.arange(n)) / self.fps
        slow = self._slow(t)
        k = 1.0 - math.exp(-1.0 / (NOD_S * self.fps))
        nod = np.empty(n)
        state = self._nod_state
        for i, o in enumerate(np.clip(np.asarray(opening, np.float64), 0.0, 1.0)):
            state += k * (o - state)
            nod[i] = state
        self._nod_state = state
        out = np.empty((n, 2, 3))
        for i in range(n):
            out[i] = self._affine(
                self.amount * ROLL_DEG * slow[0, i],
                self.amount * DRIFT_IOD * self.iod * slow[1, i],
                self.amount * (DRIFT_IOD / 2 * slow[2, i] + NOD_IOD * nod[i]) * self.iod,
                self.zoom,
            )
        return out
