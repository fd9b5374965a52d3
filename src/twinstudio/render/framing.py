"""Framing: which part of the footage a video shows, where it lands, and where engines draw.

A video's framing is decided once (:func:`plan_frame`) from the source size, the face box (the
union of the face over the whole footage), the output size and ``fit``:

``cover``   fill the frame and crop. The crop window is placed so that the face box is never cut,
            is centred horizontally, and the eyes sit near the upper third line with some head
            room for the hair. When even the face does not fit the cover crop (a face filling a
            landscape shot rendered 9:16), the window zooms out just enough to hold it and the
            rest is background (the picture continued from its edges: ``render.bars``). When
            that window is taller than the footage and the head reaches the footage's top, the
            picture starts at the top of the frame and all of the band lies below it.
``contain`` show the whole source scaled to fit; the rest is bars (``render.compose``). With the
            background removed (``standing``) the picture stands on the frame's bottom edge
            instead of in its middle: talking-head footage cuts the person at its bottom edge
            (the chest), and centred over a colour that cut was a line across the frame, a
            bust floating over a band of the colour; on the frame's edge it is where the
            person goes out of view. The bars then lie above it (and beside it).

Crop and destination are even-aligned (pictures are I420, ``render.yuv``: a chroma sample covers
2x2 pixels), which moves an edge by one pixel at most.

A :class:`View` is where a lip-sync engine draws: the crop, at the output's scale when that is
smaller (so nothing is drawn at more pixels than are shown), else at the source's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from twinstudio.errors import RenderError
from twinstudio.render import yuv
from twinstudio.twins.bank import compose_affine

# The feather of a placed matte (``View.place_alpha``): a 3x3 Gaussian.
FEATHER_KSIZE = (3, 3)
FEATHER_SIGMA = 0.8

__all__ = ["FramePlan", "View", "plan_frame", "whole_view"]

# Where the eyes sit in the output when the crop leaves freedom: the upper third line.
EYE_LINE = 1.0 / 3.0
# Eyes sit about 40 % down a face box (forehead to chin).
EYES_IN_FACE = 0.40
# Keep this much of a face height free above the face box for hair, when the source allows.
HEAD_ROOM = 0.35
# The cover window must hold the face box plus this much of a face height above (hair) and
# below (chin), and this much of its width; else it zooms out and the rest is background. A face
# box from a detector stops at the brows, so without the margin a close crop cuts the forehead.
MIN_ABOVE = 0.22
MIN_BELOW = 0.06
MIN_SIDES = 0.10


@dataclass(frozen=True)
class FramePlan:
    """Where the picture comes from and where it lands, both as (x0, y0, x1, y1), end-exclusive.

    ``crop`` is in source pixels, ``dest`` in output pixels. ``full`` is True when ``dest`` covers
    the whole output frame (nothing of the background is visible around the picture).
    """

    crop: tuple[int, int, int, int]
    dest: tuple[int, int, int, int]
    full: bool


@dataclass(frozen=True)
class View:
    """Where a lip-sync engine draws, so that nothing is drawn at more pixels than are shown.

    The part of the source the output shows (``FramePlan.crop``), at the output's scale when
    that is smaller, else at the source's: ``size`` (w, h), both even. ``to_view`` is the 2x3
    affine from source pixels to view pixels (pixel centres, as the resize maps them);
    :meth:`place` crops and resizes one source image (RGB or alpha) into the view, and
    :meth:`place_decoded` one decoded video frame, as an I420 picture. When the output is smaller
    than the crop (1080p footage rendered at 720p) the engine then pastes mouths on 0.44x the
    pixels, and the base frames and mattes come from the pack's 720p rendition when it has one
    (``source``; ``twins.rendition``), else they are shrunk in the decoding threads.
    """

    size: tuple[int, int]
    to_view: np.ndarray
    crop: tuple[int, int, int, int]
    resize: yuv.Resizer  # crop → view (the crop itself when the view is at the source's scale)
    chroma_box: tuple[int, int, int, int]  # the crop in a yuv420p frame's chroma planes
    chroma_resize: yuv.Resizer  # that box → half the view
    source: str = "base"  # what ``place`` takes: the pack's "base" frames or its "rendition"
    # Base frames from the pack's front videos (``twins.front``: the person's colour found under
    # the matte's edge), for renders that remove the background.
    front: bool = False

    def place(self, image: np.ndarray) -> np.ndarray:
        """``image`` (the size of the view's ``source``: the footage, or its rendition) cropped
        and resized into the view: a view of ``image`` itself when no resizing is needed, else a
        new array."""
        x0, y0, x1, y1 = self.crop
        return self.resize(image[y0:y1, x0:x1])

    def place_alpha(self, alpha: np.ndarray) -> np.ndarray:
        """A matte placed (:meth:`place`) and feathered: a 3x3 Gaussian softens the stair steps
        of a mask's edge at pixel scale. The compositor blends with such alphas; engines place
        their mattes so in their decoding threads, where a loop's are feathered once (its
        frames are kept by ``render.framestore``) instead of once per output frame on the
        thread every other stage waits on (7 % of that thread's samples in a 720p render)."""
        return self.feather(self.place(alpha))

    @staticmethod
    def feather(alpha: np.ndarray) -> np.ndarray:
        """An alpha already at the view's size feathered as :meth:`place_alpha` feathers."""
        return cv2.GaussianBlur(alpha, FEATHER_KSIZE, FEATHER_SIGMA)

    def place_decoded(self, frame: Any) -> np.ndarray:
        """A decoded ``av.VideoFrame`` (of the view's ``source``) placed in the view: a new I420
        picture.

        A yuv420p frame's planes are cropped (and shrunk, when the view shrinks) as they are:
        1.5 bytes a pixel instead of 3, and never converted to RGB (``render.yuv``). Other
        formats: converted to RGB at full size (swscale), placed, then to I420.
        """
        x0, y0, x1, y1 = self.crop
        h, w = frame.height, frame.width
        if frame.format.name != "yuv420p" or (w | h) % 2:
            return yuv.from_rgb(np.ascontiguousarray(self.place(frame.to_ndarray(format="rgb24"))))
        source = frame.to_ndarray()  # planar (h·3/2, w): Y, then U and V
        out = yuv.new(self.size)
        out_y, out_u, out_v = yuv.planes(out)
        self.resize(source[:h][y0:y1, x0:x1], dst=out_y)
        cx0, cy0, cx1, cy1 = self.chroma_box
        _, src_u, src_v = yuv.planes(source)
        self.chroma_resize(src_u[cy0:cy1, cx0:cx1], dst=out_u)
        self.chroma_resize(src_v[cy0:cy1, cx0:cx1], dst=out_v)
        return out


def _clamp_box(
    box: tuple[int, int, int, int], src_size: tuple[int, int]
) -> tuple[float, float, float, float]:
    sw, sh = src_size
    x0, y0, x1, y1 = (float(v) for v in box)
    x0, x1 = sorted((min(max(x0, 0.0), sw), min(max(x1, 0.0), sw)))
    y0, y1 = sorted((min(max(y0, 0.0), sh), min(max(y1, 0.0), sh)))
    if x1 - x0 < 1 or y1 - y0 < 1:  # no usable face box: frame the centre of the picture
        return sw * 0.4, sh * 0.3, sw * 0.6, sh * 0.5
    return x0, y0, x1, y1


def _place(start: float, length: float, limit: float, keep0: float, keep1: float) -> float:
    """Clamp a window [start, start+length) to [0, limit) (or, when it is larger, keep [0, limit)
    inside it), then make it hold [keep0, keep1]."""
    low, high = sorted((0.0, limit - length))
    start = min(max(start, low), high)
    if keep0 < start:
        start = keep0
    if keep1 > start + length:
        start = keep1 - length
    return start


def plan_frame(
    src_size: tuple[int, int],
    face_box: tuple[int, int, int, int],
    out_size: tuple[int, int],
    fit: str,
    *,
    standing: bool = False,
) -> FramePlan:
    """Decide the crop window and the destination rectangle for a whole video. ``standing``:
    under ``contain``, the picture stands on the frame's bottom edge (the background removed)."""
    sw, sh = src_size
    ow, oh = out_size
    if fit == "contain":
        scale = min(ow / sw, oh / sh)
        dw, dh = min(ow, round(sw * scale)), min(oh, round(sh * scale))
        if ow - dw <= max(2, ow // 200) and oh - dh <= max(2, oh // 200):
            dw, dh = ow, oh  # bars of a pixel or two: stretch imperceptibly instead
        dx, dy = (ow - dw) // 2, (oh - dh if standing else (oh - dh) // 2)
        dest = _even_box((dx, dy, dx + dw, dy + dh), out_size)
        return FramePlan(_even_box((0, 0, sw, sh), src_size), dest, dest == (0, 0, ow, oh))
    if fit != "cover":
        raise RenderError("invalid_fit", f"Unknown fit {fit!r}; use 'contain' or 'cover'.")

    fx0, fy0, fx1, fy1 = _clamp_box(face_box, src_size)
    fw, fh = fx1 - fx0, fy1 - fy0
    # The window in source pixels with the output's aspect; normally the largest that fits.
    scale = max(ow / sw, oh / sh)
    cw, ch = ow / scale, oh / scale
    # A face that cannot fit (plus a small margin) forces a wider window: zoom out.
    need = max(fw * (1 + MIN_SIDES) / cw, fh * (1 + MIN_ABOVE + MIN_BELOW) / ch, 1.0)
    cw, ch = cw * need, ch * need
    # What must stay inside the window: the face with its minimum margins.
    kx0, kx1 = fx0 - fw * MIN_SIDES / 2, fx1 + fw * MIN_SIDES / 2
    ky0, ky1 = fy0 - fh * MIN_ABOVE, fy1 + fh * MIN_BELOW

    cx = (fx0 + fx1) / 2 - cw / 2
    # Eyes on the upper third line; but keep some hair room above the face box.
    cy = fy0 + EYES_IN_FACE * fh - EYE_LINE * ch
    cy = min(cy, fy0 - HEAD_ROOM * fh)
    if ch > sh and fy0 - HEAD_ROOM * fh < 0:
        # Zoomed out past the source's height, and its top edge cuts the head: the picture
        # starts at the top and the band goes below the chest. A band above would continue a
        # cut head upwards (``render.bars``), or be a thin strip bought for head room the
        # footage does not have.
        cy = 0.0
    x = _place(cx, cw, sw, max(kx0, 0.0), min(kx1, float(sw)))
    y = _place(cy, ch, sh, max(ky0, 0.0), min(ky1, float(sh)))

    # Intersect the window with the source; the part outside (only when zoomed out) is background.
    ix0, iy0 = max(x, 0.0), max(y, 0.0)
    ix1, iy1 = min(x + cw, float(sw)), min(y + ch, float(sh))
    crop = (
        math.floor(ix0 + 1e-6),
        math.floor(iy0 + 1e-6),
        math.ceil(ix1 - 1e-6),
        math.ceil(iy1 - 1e-6),
    )
    k = ow / cw
    dest = (
        max(0, round((crop[0] - x) * k)),
        max(0, round((crop[1] - y) * k)),
        min(ow, round((crop[2] - x) * k)),
        min(oh, round((crop[3] - y) * k)),
    )
    dest = _even_box(dest, out_size)
    return FramePlan(_even_box(crop, src_size), dest, dest == (0, 0, ow, oh))


def _even_box(box: tuple[int, int, int, int], size: tuple[int, int]) -> tuple[int, int, int, int]:
    """``box`` with an even origin and an even width and height, inside ``size`` (w, h): each
    start goes down to even, and an odd length grows by one pixel (shrinks at the edge)."""
    out = []
    for start, end, limit in ((box[0], box[2], size[0]), (box[1], box[3], size[1])):
        start -= start % 2
        if (end - start) % 2:
            end = end + 1 if end < limit else end - 1
        out.append((start, max(end, start)))
    (x0, x1), (y0, y1) = out
    return x0, y0, x1, y1


def _make_view(
    crop: tuple[int, int, int, int],
    dest_size: tuple[int, int],
    src_size: tuple[int, int] | None = None,
    rendition: tuple[int, int] | None = None,
) -> View:
    """The engine's drawing area for a crop shown at ``dest_size``: the output scale when that
    is smaller than the crop, else the crop as it is (upscaling is left to the compositor).
    Crop and destination are even (:func:`plan_frame`).

    With the size of a smaller copy of the source (``rendition``, ``twins.rendition``), a view
    no larger than the crop at that copy's scale is placed from the copy (``source`` "rendition":
    its frames and mattes are the images placed); ``to_view`` still maps full-source pixels."""
    cx0, cy0, cx1, cy1 = crop
    cw, ch = cx1 - cx0, cy1 - cy0
    dw, dh = dest_size
    if dw * dh >= cw * ch:
        to_view = np.array([[1.0, 0.0, -cx0], [0.0, 1.0, -cy0]])
        half = (cw // 2, ch // 2)
        return View((cw, ch), to_view, crop, yuv.Resizer((cw, ch), (cw, ch)),
                    (cx0 // 2, cy0 // 2, cx1 // 2, cy1 // 2), yuv.Resizer(half, half))  # fmt: skip
    to_source = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])  # full source px → placed px
    source = "base"
    if rendition is not None and src_size is not None:
        kx, ky = rendition[0] / src_size[0], rendition[1] / src_size[1]
        if dw <= cw * kx + 0.5 and dh <= ch * ky + 0.5:  # the view is no larger there
            box = (round(cx0 * kx), round(cy0 * ky), round(cx1 * kx), round(cy1 * ky))
            crop = _even_box(box, rendition)
            cx0, cy0, cx1, cy1 = crop
            cw, ch = cx1 - cx0, cy1 - cy0
            # Pixel centres: rendition x = (source x + ½) · k − ½.
            to_source = np.array([[kx, 0.0, 0.5 * kx - 0.5], [0.0, ky, 0.5 * ky - 0.5]])
            source = "rendition"
    resize = yuv.Resizer((cw, ch), (dw, dh))
    aw, ah = resize.area_src  # the pixels the resize really covers (a multiple of its factor)
    sx, sy = dw / aw, dh / ah
    # Pixel centres: view x = (placed x − crop x0 + ½) · s − ½ (cv2.resize's mapping).
    placed = np.array([[sx, 0.0, (0.5 - cx0) * sx - 0.5], [0.0, sy, (0.5 - cy0) * sy - 0.5]])
    to_view = compose_affine(placed, to_source)
    chroma = (cx0 // 2, cy0 // 2, cx1 // 2, cy1 // 2)
    chroma_resize = yuv.Resizer((cw // 2, ch // 2), (dw // 2, dh // 2))
    return View((dw, dh), to_view, crop, resize, chroma, chroma_resize, source)


def whole_view(size: tuple[int, int]) -> View:
    """The whole source at its own scale (an engine asked for frames without a compositor)."""
    box = _even_box((0, 0, int(size[0]), int(size[1])), size)
    return _make_view(box, (box[2], box[3]))
