"""The person in front: the base loop again with the filmed backdrop taken out of the matte's soft
edge, made once at training for renders that remove the background.

A pixel the matte gives an alpha α between 0 and 1 is, as filmed, ``I = α F + (1 − α) B``: the
person's colour F mixed with the backdrop B behind. Blended over a new background N as it is,
``α I + (1 − α) N`` keeps ``α (1 − α) B`` of the old wall: a thin line of it round hair and ears on
every new background. What a camera would have filmed in front of N is ``α F + (1 − α) N``, so the
soft pixels must show F.

How F is found (after Forte & Pitié's "blur fusion" foreground estimation, 2021): the local person
colour F̄ plus what the mix of it with the backdrop leaves unexplained,
``F = F̄ + (I − α F̄ − (1 − α) B)``. F̄ is the colour of the sure person (alpha 255) spread outwards
over the soft band, and B̄ that of the sure background (alpha 0) spread inwards, by push-pull (means
over a pyramid of halvings, each level filled from the coarser one: any band width is crossed,
where boxes of a fixed reach left the middle of a wide band untouched); B is the pack's plate of the
wall (``twins.plate``) as far as it is trusted, else B̄. Only soft pixels connected to the sure wall
through soft ones are touched: soft alpha inside the person is the matte doubting a dark mouth or
hair, not a mix with the wall. Where the alpha is off by Δ this colour is off by Δ·|F − B|; the
extrapolation ``F = I + (1 − α) / α · (I − B)`` that the renderer applies to packs without front
videos (``render.backdrop``) is off by Δ / α · |F − B|, which is why it must cap its gain and then
leaves a quarter to a half of the wall in pixels under α 0.5 (a grey-green fringe on the blazer
twin's blond hair over yellow, which is hair-coloured with this: looked at, 1080p and 720p).

Measured (``benchmarks/matte.py``: the ten development clips laid over known walls, mean
|composite − truth| on the outline, levels; 2026-12-06): blue wall 10.02 → 10.02, green screen
8.29 → 8.03, dull green 9.37 → 8.86, light grey 6.09 → 5.41, against the capped extrapolation
(and 10.81, 8.94, 10.52, 8.75 with neither); better or equal on 34 of the 40 clip-walls, worse on
radio34 (three walls, by 0.2–0.6) and two others. A synthetic skin disc on blue over yellow: 17.4 →
0.5 levels (the extrapolation: 5.4).

Why at training (2026-12-06): found at render time, the person's colour cost 8–9.5 ms a 1080p
frame (the capped extrapolation: 3–3.4) and ~0.6 ms on every output frame's mouth box, which took
the 720p matte render's speed below the issue's floor (0.37–0.38 of the raw encoder's). The colours
depend only on the footage and its matte, so they are found once here, for the frames a render
reads (the loop with ``twins.rendition``'s margin), at the base's size and at the rendition's (found
again at that size: a shrunk F would mix the wall back in where the shrunk alpha is soft), and
stored as two more videos (ultrafast CRF 17 like the base; on the person they differ from the base
by 0.5 levels). Renders with background removal read them instead of the base and unmix nothing:
the 720p 16:9 matte render's compositing thread spends 1.1 CPU s less a minute of video, the 1080p
one's 1.3–1.7 s less. Training spends ~37 ms a 1080p frame on it: the render benchmark's 7.4 s
clip (160 frames at both sizes, the two in parallel) trained in 33.3 / 33.1 s against 26.7 / 28.1
s before (the front phase 6.0 s).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from twinstudio.render import yuv
from twinstudio.twins import pack as P
from twinstudio.twins.matte import read_matte, soft_mask
from twinstudio.twins.plate import read_plate
from twinstudio.twins.video import VideoWriter, read_frames

__all__ = ["bake_front", "find_person", "place_plate"]

MARGIN = 8  # chroma px kept round the soft cells: the colours either side are spread from there


def place_plate(plate: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """``plate`` (uint8 (h, w, 4) RGBA: colour and trust; ``twins.plate``) at chroma size for a
    picture of ``size`` (w, h): the backdrop's three planes (float32 (h/2, w/2, 3): Y, U, V) and
    its trust (float32 0..1)."""
    w, h = size
    whole = cv2.resize(plate, (w, h), interpolation=cv2.INTER_LINEAR)
    picture = yuv.from_rgb(np.ascontiguousarray(whole[:, :, :3]))
    luma, u, v = yuv.planes(picture)
    colour = cv2.merge([yuv.half(luma), u, v]).astype(np.float32)
    trust = yuv.half(np.ascontiguousarray(whole[:, :, 3])).astype(np.float32) / 255
    return colour, trust


def find_person(
    picture: np.ndarray,
    alpha: np.ndarray,
    plate: tuple[np.ndarray, np.ndarray] | None = None,
) -> None:
    """Replace the soft pixels of ``picture`` (I420, edited in place) by the person's colour
    found under them (module docstring). ``alpha``: the matte (uint8 (h, w)) as the renderer
    blends it; ``plate``: :func:`place_plate`'s for this size, or None (the sure background
    round each pixel stands for the wall)."""
    a_half = yuv.half(alpha)
    # Only the region round the soft cells (a soft luma pixel's cell is soft, or next to one
    # that is: a 2x2 mean rounds 0.25 to 0).
    soft_cells = soft_mask(a_half).view(np.bool_)
    rows, cols = np.nonzero(soft_cells.any(axis=1))[0], np.nonzero(soft_cells.any(axis=0))[0]
    if rows.size == 0 or a_half.min() > 0 or a_half.max() < 255:
        return  # no soft edge, no sure wall or no sure person: nothing here is a mix of both
    cy0, cy1 = max(0, rows[0] - MARGIN), min(a_half.shape[0], rows[-1] + MARGIN + 1)
    cx0, cx1 = max(0, cols[0] - MARGIN), min(a_half.shape[1], cols[-1] + MARGIN + 1)
    cells = (slice(cy0, cy1), slice(cx0, cx1))
    pixels = (slice(2 * cy0, 2 * cy1), slice(2 * cx0, 2 * cx1))
    luma, u, v = yuv.planes(picture)
    region_a, region_half = alpha[pixels], a_half[cells]
    planes = cv2.merge([yuv.half(luma[pixels]), u[cells], v[cells]]).astype(np.float32)
    person = _Spread(planes, region_half == 255)
    wall = _Spread(planes, region_half == 0)
    if person.empty or wall.empty:
        return
    # A mix with the wall only where the soft pixels reach it: soft alpha inside the person (the
    # matte doubting a dark mouth or hair) is left as filmed.
    _, labels = cv2.connectedComponents((region_half < 255).view(np.uint8), connectivity=8)
    walled = np.isin(labels, np.unique(labels[region_half == 0]))
    walled &= region_half < 255
    for k, plane in enumerate((luma[pixels], u[cells], v[cells])):
        own = region_a if k == 0 else region_half
        ys, xs = np.nonzero(soft_mask(own))
        cy, cx = (ys // 2, xs // 2) if k == 0 else (ys, xs)
        ok = walled[cy, cx]
        ys, xs, cy, cx = ys[ok], xs[ok], cy[ok], cx[ok]
        if ys.size == 0:
            continue
        front, behind = person.at(cy, cx, k), wall.at(cy, cx, k)
        if plate is not None:
            trust = plate[1][cells][cy, cx]
            behind += trust * (plate[0][cells][cy, cx, k] - behind)
        share = own[ys, xs].astype(np.float32) / 255
        seen = plane[ys, xs].astype(np.float32)
        # The local person colour plus what its mix with the backdrop leaves unexplained.
        found = front + (seen - share * front - (1.0 - share) * behind)
        plane[ys, xs] = np.clip(found + 0.5, 0, 255).astype(np.uint8)


class _Spread:
    """Each pixel's local colour of ``mask``'s pixels in ``planes`` (h, w, 3): their own where
    the mask holds, elsewhere spread from the nearest ones (push-pull: means over a pyramid of
    halvings, filled back from the coarser levels). The finest level is combined only at the
    pixels asked for (:meth:`at`): whole, it was most of a 1080p frame's time."""

    def __init__(self, planes: np.ndarray, mask: np.ndarray) -> None:
        weight = mask.astype(np.float32)
        self.empty = not weight.any()
        levels: list[tuple[np.ndarray, np.ndarray]] = [
            (cv2.multiply(planes, cv2.merge([weight] * 3)), weight)
        ]
        while min(levels[-1][1].shape) > 2:
            total, count = levels[-1]
            size = ((count.shape[1] + 1) // 2, (count.shape[0] + 1) // 2)
            levels.append((cv2.resize(total, size, interpolation=cv2.INTER_AREA),
                           cv2.resize(count, size, interpolation=cv2.INTER_AREA)))  # fmt: skip
        total, count = levels[-1]
        mean = np.empty_like(total)
        mean[...] = total.sum(axis=(0, 1)) / max(float(count.sum()), 1e-6)
        for total, count in reversed(levels[1:]):
            mean = _combine(total, count, _up(mean, count.shape))
        self.total, self.count = levels[0]
        self.up = _up(mean, self.count.shape)

    def at(self, cy: np.ndarray, cx: np.ndarray, k: int) -> np.ndarray:
        """The local colour of plane ``k`` at pixels (cy, cx)."""
        return _combine(self.total[cy, cx, k], self.count[cy, cx], self.up[cy, cx, k])


def _up(mean: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    return cv2.resize(mean, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)


def _combine(total: np.ndarray, count: np.ndarray, up: np.ndarray) -> np.ndarray:
    """A level's means filled from the coarser level's (``up``): a cell whose pixels are a
    quarter or more of the mask's takes their mean; less, in proportion, the coarser one."""
    if total.ndim > count.ndim:  # planes (h, w, 3) over one count (h, w)
        count = count[..., None]
    own = np.minimum(count * 4, 1.0)
    return own * (total / np.maximum(count, 1e-6)) + (1 - own) * up


def bake_front(
    pack_dir: Path,
    span: tuple[int, int],
    small: tuple[int, int] | None,
    fps: int,
    report: Callable[[float], None] | None = None,
) -> int:
    """Write the pack's front videos: base frames ``span`` (first, count) with the person found
    under the matte's soft edge, at the base's size (``P.BASE_FRONT``) and, with a rendition of
    size ``small``, at its size too (``P.BASE_FRONT_SMALL``, from the rendition and its matte).
    Needs the matte (and the rendition's); returns the frames written at the base's size.

    The rendition's is made in a second thread, beside the base's (OpenCV and NumPy release the
    GIL): 6.0 s instead of 7.3–8.1 for the render benchmark's clip. ``report`` is called from the
    calling thread only."""
    from concurrent.futures import ThreadPoolExecutor

    plate = read_plate(pack_dir / P.BACKDROP) if (pack_dir / P.BACKDROP).is_file() else None
    first = span[0]
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="front") as pool:
        beside = None
        if small is not None:
            beside = pool.submit(_bake, pack_dir, (P.BASE_SMALL, P.MATTE_SMALL, P.BASE_FRONT_SMALL),
                                 first, span, fps, plate)  # fmt: skip
        written = _bake(pack_dir, (P.BASE_VIDEO, P.MATTE, P.BASE_FRONT), 0, span, fps, plate,
                        report)  # fmt: skip
        if beside is not None:
            beside.result()
    return written


def _bake(
    pack_dir: Path,
    names: tuple[str, str, str],
    shift: int,
    span: tuple[int, int],
    fps: int,
    plate: np.ndarray | None,
    report: Callable[[float], None] | None = None,
) -> int:
    """One front video: ``names`` (base video, its matte, the front to write), whose frame 0
    is footage frame ``shift``; returns the frames written."""
    base, matte, out = names
    first, count = span
    frames = read_frames(pack_dir / base, first - shift, fps, convert=_as_picture)
    alphas = read_matte(pack_dir / matte, first - shift, fps)
    placed = None
    n = 0
    writer: VideoWriter | None = None
    try:
        for picture, alpha in zip(frames, alphas, strict=False):
            if n == count:
                break
            size = yuv.size_of(picture)
            if writer is None:
                # The base video's own settings (ultrafast decodes fastest).
                writer = VideoWriter(pack_dir / out, size, fps, preset="ultrafast")
                placed = place_plate(plate, size) if plate is not None else None
            find_person(picture, alpha, placed)
            writer.write(_as_frame(picture))
            n += 1
            if report is not None and n % 16 == 0:
                report(n / max(1, count))
    finally:  # (the readers close their files when dropped, on return)
        if writer is not None:
            writer.close()
    return n


def _as_picture(frame: object) -> np.ndarray:
    return frame.to_ndarray(format="yuv420p")  # type: ignore[attr-defined, no-any-return]


def _as_frame(picture: np.ndarray) -> object:
    import av

    return av.VideoFrame.from_ndarray(picture, format="yuv420p")
