"""The filmed backdrop taken out of the matte's soft edge, before the person is blended over a new
background, for packs trained before pack revision 8 (those trained since carry front videos
with the person's colour found at training, ``twins.front``, and renders read those instead).

A pixel the matte gives an alpha α between 0 and 1 is, as filmed, ``I = α F + (1 − α) B``: the
person's colour F mixed with the backdrop B behind. Blended over a new background N as it is,
``α I + (1 − α) N`` keeps ``α (1 − α) B`` of the old backdrop: the thin line of the old wall
round hair and ears that showed on every new background. With the pack's plate of the backdrop
(``twins.plate``: B, and how far it can be trusted) :func:`unmix` first turns such pixels into
the person's own colour, ``F = I + (1 − α) / α · (I − B)`` (clipped to valid colours), so that the
blend gives ``α F + (1 − α) N``, what a camera would have filmed in front of N; WebM with alpha
carries F too. Pixels of alpha 0 or 255 are not touched, and the correction is scaled by the
plate's trust (a camera or an exposure that moved during the footage: none).

Work per picture: only the soft pixels (a band a few pixels wide along the outline), luma with
the alpha, chroma with its 2x2 mean (as ``yuv.blend_onto`` blends them): 4 ms for a 1080p frame
of the blazer twin (60,000 soft pixels, one core). The compositor unmixes a footage frame once
when it keeps its blend (``render.reuse``) and then only the box that changed: a 63 s 1080p 16:9
render onto a colour took 25.4 / 24.3 s against 25.1 / 22.3 s without it (alternating runs on one
pack), 720p 13.8 against 13.9 s. Over an image, and for transparent WebM, where every frame is
blended afresh, the unmixed picture is kept the same way (2026-12-06).

Tried 2026-12-06 here at render time and not kept (``benchmarks/HISTORY.md``, matte section),
then made at training instead (``twins.front``): the person's colour *found* instead of
extrapolated, the mean of the sure person in a box round the pixel plus what its mix with the
wall leaves unexplained (after Forte & Pitié's blur fusion; its error is the alpha's error ×
|F − B| instead of that over α). Better on three walls of four (green screen
8.27 → 8.01, dull green 9.37 → 8.86, grey 6.09 → 5.49; blue 9.97 → 9.99), and the blond hair's
top hair-coloured instead of grey-green; but the box sums cost 8–9.5 ms a 1080p frame against
3–3.4, and ~0.6 ms on each frame's mouth box, which took the 720p 16:9 matte render's speed to
0.37–0.38 of the raw encoder's (the issue's floor: 0.4; 0.40 before).

Measured on the ten development clips laid over known walls (``benchmarks/matte.py``, mean
|composite - truth| on the outline, levels): blue wall 10.81 -> 9.97, green screen 8.94 -> 8.27,
dull green 10.52 -> 9.37, light grey 8.75 -> 6.09, on top of the matte's own colour split
(``twins.matte`` step 5; 13.18, 11.18, 10.66 and 8.70 before either). The gain is capped
(``MAX_GAIN``): a matte whose alpha is a little low inside blond hair turned the hair's edge
orange with the full (1 − α) / α; capped at 1, what is left is a faint golden tinge there
(looked at on the blazer twin's render, 1080p over yellow).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from twinstudio.render import yuv
from twinstudio.render.framing import View
from twinstudio.twins.matte import soft_mask

__all__ = ["Backdrop", "unmix"]

# The most the correction may take out: (1 − α) / α grows without bound as α falls, and so does
# the error of a matte whose alpha is a little low (hair: the old wall taken out more than it was
# there, the edge glows in the new wall's opposite colour); capped, a pixel under α = 1 / (1 + cap)
# loses only part of the wall.
MAX_GAIN = 1.0
# min((1 − α) / α, MAX_GAIN) for alpha 1..254 (0 and 255: no change), by uint8 alpha.
_GAIN = np.zeros(256, np.float32)
_GAIN[1:255] = np.minimum(
    (255 - np.arange(1, 255, dtype=np.float32)) / np.arange(1, 255, dtype=np.float32), MAX_GAIN
)
_GAIN /= 255  # times the trust (0..255)


@dataclass(frozen=True)
class Backdrop:
    """A plate placed in a view (or a box of it): the backdrop as an I420 picture and its trust
    (uint8, 255 = whole) at luma and at chroma size."""

    picture: np.ndarray
    trust: np.ndarray
    trust_half: np.ndarray

    @classmethod
    def place(cls, plate: np.ndarray, view: View, source_size: tuple[int, int]) -> Backdrop:
        """``plate`` (uint8 (h, w, 4) RGBA: colour and trust, any size; ``twins.plate``) as the
        view shows its source, whose size is ``source_size`` (w, h)."""
        whole = cv2.resize(plate, source_size, interpolation=cv2.INTER_LINEAR)
        placed = view.place(whole)
        picture = yuv.from_rgb(np.ascontiguousarray(placed[:, :, :3]))
        trust = np.ascontiguousarray(placed[:, :, 3])
        return cls(picture, trust, yuv.half(trust))

    def crop(self, box: tuple[int, int, int, int]) -> Backdrop:
        """The part in ``box`` (x0, y0, x1, y1; even) of the view."""
        x0, y0, x1, y1 = box
        return Backdrop(
            yuv.crop(self.picture, box),
            self.trust[y0:y1, x0:x1],
            self.trust_half[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2],
        )


def unmix(picture: np.ndarray, alpha: np.ndarray, backdrop: Backdrop | None) -> None:
    """Take the backdrop out of ``picture``'s soft pixels, in place: each becomes the person's
    colour the alpha says it holds (see the module docstring). ``picture`` (I420), ``alpha``
    (uint8 (h, w), as it will be blended) and ``backdrop`` cover the same pixels; without a
    backdrop nothing changes. Each pixel's colour is its own business, so a box of a picture
    (with ``Backdrop.crop``) unmixes exactly as the whole picture does there."""
    if backdrop is None:
        return
    alphas = (np.ascontiguousarray(alpha), yuv.half(alpha))
    trusts = (backdrop.trust, backdrop.trust_half)
    for k, (plane, behind) in enumerate(
        zip(yuv.planes(picture), yuv.planes(backdrop.picture), strict=True)
    ):
        a, trust = alphas[min(k, 1)], trusts[min(k, 1)]
        soft = np.flatnonzero(soft_mask(a).view(np.bool_))  # flat: ~10x faster than (y, x)
        if soft.size == 0:
            continue
        gain = np.take(_GAIN, np.take(a, soft)) * np.take(trust, soft)
        seen = np.take(plane, soft).astype(np.float32)
        front = seen + gain * (seen - np.take(behind, soft))
        np.put(plane, soft, np.clip(front + 0.5, 0, 255).astype(np.uint8))
