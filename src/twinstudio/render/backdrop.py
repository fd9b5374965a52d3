"""The filmed backdrop taken out of the matte's soft edge, before the person is blended over a new
background.

A pixel the matte gives an alpha α between 0 and 1 is, as filmed, ``I = α F + (1 − α) B``: the
person's colour F mixed with the backdrop B behind. Blended over a new background N as it is,
``α I + (1 − α) N`` keeps ``α (1 − α) B`` of the old backdrop: the thin line of the old wall
round hair and ears that showed on every new background. :func:`unmix` first turns such pixels
into the person's own colour, so that the blend gives ``α F + (1 − α) N``, what a camera would
have filmed in front of N; WebM with alpha carries F too. Pixels of alpha 0 or 255 are not
touched.

How F is found (2026-12-06; after Forte & Pitié's "blur fusion" foreground estimation, 2021):
the local person colour F̄ (the mean of the sure person, alpha 255, in a small box round the
pixel: ``NEAR`` chroma px per 1920, or ``WIDE`` times that where the small box holds none) plus
what the mix of it with the backdrop leaves unexplained, ``F = F̄ + (I − α F̄ − (1 − α) B)``.
B is the pack's plate of the wall (``twins.plate``) as far as it is trusted, else the sure
background seen round the pixel (so twins trained before plates, and a camera that moved, are
unmixed too). Exact where the alpha is and F is even; where the alpha is off by Δ the colour is
off by Δ·|F − B|, where the extrapolation used before, ``F = I + (1 − α) / α · (I − B)``, was off
by Δ / α · |F − B|: a matte a little low inside blond hair turned its edge orange, and capping
the gain at 1 left a quarter of the wall at α = 0.25 (a grey-green fringe on the blazer twin's
hair over yellow; now hair-coloured, looked at). Synthetic skin on a blue wall over yellow
(``tests/unit/render/test_backdrop.py``): edge error 17.4 → 0.54 levels with the plate, 0.67
without (the capped extrapolation: 5.4); with the alpha a quarter too low, the colour found is
15.5 levels from the skin's against 27.2. On the development clips laid over known walls
(``benchmarks/matte.py``, mean |composite − truth| on the outline): blue 9.97 → 9.99, green screen
8.27 → 8.01, dull green 9.37 → 8.86, light grey 6.09 → 5.49.

Work per picture: only the soft pixels' boxes, from summed-area tables at chroma size (exact, so
that unmixing a box of a picture gives exactly what unmixing the whole does): 8–9.5 ms for a
1080p frame of the blazer twin (60,000 soft pixels, one core; the capped extrapolation took 3–3.4).
The compositor unmixes a footage frame once when it keeps its blend (``render.reuse``) and then
only the box that changed: a 63 s 1080p 16:9 render onto a colour took RTF 0.374 / 0.373 against
0.352 / 0.361 with the capped extrapolation, onto an image 0.409 / 0.457 against 0.437 / 0.504
(alternating runs on one pack, idle machine). Over an image, and
for transparent WebM, where every frame is blended afresh, the unmixed picture is kept the same
way (``render.reuse``).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from twinstudio.render import yuv
from twinstudio.render.framing import View
from twinstudio.twins.matte import soft_mask

__all__ = ["Backdrop", "unmix"]


@dataclass(frozen=True)
class Backdrop:
    """A plate placed in a view: the backdrop as an I420 picture and its trust
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


# The local colours: mean colours of the sure person (alpha 255) and the sure backdrop (alpha 0)
# in a box round each soft pixel, at chroma size (luma as 2x2 means); where the near box holds
# none, a wide one's.
NEAR = 3  # the near box's half-width, chroma px per 1920 px of the view's long side
WIDE = 4  # the wide box: this many times the near one's reach


def reach(size: tuple[int, int]) -> int:
    """The near box's half-width (chroma pixels) for a view of ``size`` (w, h)."""
    return max(1, round(NEAR * max(size) / 1920))


def unmix(
    picture: np.ndarray,
    alpha: np.ndarray,
    backdrop: Backdrop | None = None,
    box: tuple[int, int, int, int] | None = None,
) -> None:
    """Take the backdrop out of ``picture``'s soft pixels, in place: each becomes the person's
    colour (see the module docstring). ``picture`` (I420), ``alpha`` (uint8 (h, w), as it will
    be blended) and ``backdrop`` (the plate placed, or None) cover the same view; ``box`` (x0, y0,
    x1, y1; even): only its pixels change, exactly as when the whole picture is unmixed."""
    width, height = yuv.size_of(picture)
    x0, y0, x1, y1 = box if box is not None else (0, 0, width, height)
    near = reach((width, height))
    margin = 2 * (WIDE * near + 1)  # luma px: every box of the inner pixels lies in the region
    ex0, ey0 = max(0, x0 - margin), max(0, y0 - margin)
    ex1, ey1 = min(width, x1 + margin), min(height, y1 + margin)
    luma, u, v = yuv.planes(picture)
    a = alpha[ey0:ey1, ex0:ex1]
    a_half = yuv.half(a)
    # The soft pixels of the box, luma and chroma, in the region's coordinates.
    soft = []
    for k, own in enumerate((a, a_half)):
        s = 1 if k == 0 else 2
        ix0, iy0 = x0 // s - ex0 // s, y0 // s - ey0 // s
        ix1, iy1 = x1 // s - ex0 // s, y1 // s - ey0 // s
        found = np.flatnonzero(soft_mask(own[iy0:iy1, ix0:ix1]).view(np.bool_))
        ys, xs = np.divmod(found, ix1 - ix0)
        soft.append((ys + iy0, xs + ix0))
    if soft[0][0].size == 0 and soft[1][0].size == 0:
        return
    # Their cells (chroma size): each one's local colours found once.
    half_w = a_half.shape[1]
    luma_cells = (soft[0][0] // 2) * half_w + soft[0][1] // 2
    chroma_cells = soft[1][0] * half_w + soft[1][1]
    wanted = np.zeros(a_half.size, np.bool_)
    wanted[luma_cells] = True
    wanted[chroma_cells] = True
    cells = np.flatnonzero(wanted)
    index = np.empty(a_half.size, np.int32)
    index[cells] = np.arange(cells.size, dtype=np.int32)
    region = (slice(ey0 // 2, ey1 // 2), slice(ex0 // 2, ex1 // 2))
    planes = (yuv.half(luma[ey0:ey1, ex0:ex1]), u[region], v[region])
    front, n_front, back, n_back = _local_colours(a_half, planes, near, cells)
    alpha = np.ascontiguousarray(alpha)
    for k, plane in enumerate((luma, u, v)):
        s = 1 if k == 0 else 2
        ys, xs = soft[min(k, 1)]
        if ys.size == 0:
            continue
        which = index.take(luma_cells if k == 0 else chroma_cells)
        # Flat indices into the whole plane (each plane, and each of the backdrop's, is whole).
        flat = (ys + ey0 // s) * plane.shape[1] + (xs + ex0 // s)
        seen = plane.take(flat).astype(np.float32)
        person_colour, behind = front[k].take(which), back[k].take(which)
        known_front, known_back = n_front.take(which), n_back.take(which)
        if backdrop is not None:
            trust = (backdrop.trust if k == 0 else backdrop.trust_half).take(flat)
            t = trust.astype(np.float32) * np.float32(1 / 255)
            plate = yuv.planes(backdrop.picture)[k].take(flat).astype(np.float32)
            behind = np.where(known_back, behind + t * (plate - behind), plate)
            weight = np.where(known_back, 1.0, t)
        else:
            weight = known_back.astype(np.float32)
        weight *= known_front
        own = alpha.take(flat) if k == 0 else a_half.take(ys * half_w + xs)
        share = own.astype(np.float32) * np.float32(1 / 255)
        # The local person colour plus what its mix with the backdrop leaves unexplained.
        person = person_colour + (seen - share * person_colour - (1.0 - share) * behind)
        out = seen + weight * (person - seen)
        np.put(plane, flat, np.clip(out + 0.5, 0, 255).astype(np.uint8))


def _local_colours(
    alpha_half: np.ndarray, planes: tuple[np.ndarray, ...], near: int, cells: np.ndarray
) -> tuple[list[np.ndarray], np.ndarray, list[np.ndarray], np.ndarray]:
    """At ``cells`` (flat indices into ``alpha_half``'s grid): the mean colour of the sure
    person and of the sure backdrop round each, per plane of ``planes`` (chroma size), and
    whether any was found (front means, front found, back means, back found). Box sums from
    summed-area tables: exact, so a box of the picture gets what the whole picture does."""
    height, width = alpha_half.shape
    ys, xs = np.divmod(cells, width)
    sides = ((alpha_half == 255).view(np.uint8), (alpha_half == 0).view(np.uint8))
    means: list[list[np.ndarray]] = [[], []]
    found = []
    for side, mask in enumerate(sides):
        tables = [cv2.integral(mask)] + [cv2.integral(cv2.multiply(p, mask)) for p in planes]
        sums = _box_sums(tables, ys, xs, near, width + 1, height, width)
        # Where the near box holds none of this side, the wide box's.
        empty = np.flatnonzero(sums[0] == 0)
        if empty.size:
            wide = _box_sums(tables, ys[empty], xs[empty], WIDE * near, width + 1, height, width)
            for total, more in zip(sums, wide, strict=True):
                total[empty] = more
        count = np.maximum(sums[0], 1)
        means[side] = [total / count for total in sums[1:]]
        found.append(sums[0] > 0)
    return means[0], found[0], means[1], found[1]


def _box_sums(
    tables: list[np.ndarray], ys: np.ndarray, xs: np.ndarray, r: int, stride: int,
    height: int, width: int,
) -> list[np.ndarray]:  # fmt: skip
    """Each table's sum over the box of half-width ``r`` round (ys, xs), clipped to the grid."""
    top, bottom = np.maximum(ys - r, 0) * stride, np.minimum(ys + r + 1, height) * stride
    left, right = np.maximum(xs - r, 0), np.minimum(xs + r + 1, width)
    corners = (bottom + right, top + right, bottom + left, top + left)
    out = []
    for table in tables:
        flat = table.reshape(-1)
        d, b, c, a = (flat.take(i) for i in corners)
        out.append((d - b - c + a).astype(np.float32))
    return out
