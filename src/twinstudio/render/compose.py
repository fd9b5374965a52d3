"""Framing and composition: one source frame (+ optional alpha) in, one output frame out.

A :class:`Compositor` is built once per video. Everything that does not change from frame to frame
(the crop window, where the picture lands in the output, the scaled background, the interpolation)
is decided in ``__init__``, so :meth:`Compositor.compose` costs one resize plus, when matting, one
blend.

Framing rules
    ``cover``   fill the frame and crop. The crop window is placed so that the face box (the union
                of the face over the whole footage) is never cut, is centred horizontally, and the
                eyes sit near the upper third line with some head room for the hair. When even
                the face does not fit the cover crop (a face filling a landscape shot rendered
                9:16), the window zooms out just enough to hold it and the rest is background.
    ``contain`` show the whole source scaled to fit. The bars are the chosen background colour or
                image; without one, a blurred, darkened, enlarged copy of the frame (far nicer than
                black bars, and it follows the person). With ``remove_background`` and no
                background, a neutral studio-grey gradient.

Matting (``remove_background`` with an alpha)
    The person is resized in *premultiplied* space (colour × alpha and alpha are resized, never
    straight colour), so no background colour bleeds into the edge, and the alpha gets a slight
    feather before being blended over the precomputed background. WebM output with no explicit
    background is transparent: ``compose`` returns RGBA with the person's alpha. With an explicit
    background the WebM frame is the composite, fully opaque.
    When the background is smooth (a colour or the studio gradient), the person is blended over
    the background *at source resolution* and the composite is resized once. Resizing is linear
    and its weights sum to one, so for a flat colour this is exactly the premultiplied result
    (and for the gradient, which barely changes over a pixel, indistinguishable), for one resize
    instead of two plus three full-frame multiplies.

    Speed of that blend (:func:`blend_over`): a matte is 0 or 255 almost everywhere; only a
    band a few pixels wide round the person is in between. So the background is copied, the
    opaque pixels are copied over it with a mask, and only the band's pixels are blended, in
    float, one gathered array. Measured on one core (1080p 16:9 footage, blue background, CPU
    ms per compose, load average ~7 from other work, before → after): 1080p 16:9 21.8 → 15.6,
    1080p 9:16 10.4 → 8.8, 720p 9:16 9.5 → 7.4, 720p 16:9 13.2 → 14.1 (a wash: the frame shrinks,
    so the source-size blend has more pixels than the output; kept for one code path). Before:
    ``cv2.blendLinear`` over every pixel, or the premultiplied path. Image backgrounds keep the
    premultiplied path at output size, where the image's own detail is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from twinstudio.errors import RenderError
from twinstudio.render.types import RenderOptions, output_size

__all__ = [
    "Compositor",
    "FramePlan",
    "View",
    "blend_over",
    "parse_color",
    "plan_frame",
    "studio_background",
]

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
# Blurred "contain" bars: blur sigma in pixels of a ~48 px image; darken to this factor.
BLUR_SIGMA = 2.5
BLUR_DARKEN = 0.55
# blend_over: above this share of soft (0 < alpha < 255) pixels, one dense blend is cheaper.
SPARSE_BLEND_MAX = 0.25


def blend_over(front: np.ndarray, behind: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``front`` over ``behind`` (both uint8 (H, W, 3)) with uint8 ``alpha`` (H, W): a new array,
    ``round(front·a + behind·(1 − a))`` with ``a = alpha / 255``.

    Only the soft pixels are computed; alpha 0 and 255 are copies (see the module docstring).
    """
    out = behind.copy()
    cv2.copyTo(front, (alpha == 255).view(np.uint8), out)
    band = (alpha - np.uint8(1)) < np.uint8(254)  # 1..254 (0 and 255 wrap out of range)
    index = np.flatnonzero(band)  # on bool: ~7x faster than on uint8
    if index.size == 0:
        return out
    if index.size > SPARSE_BLEND_MAX * alpha.size:
        a = alpha.astype(np.float32) * np.float32(1 / 255)
        return cv2.blendLinear(np.ascontiguousarray(front), behind, a, 1.0 - a)
    # Flat indices and np.take: ~8x faster than findNonZero + 2-D fancy indexing.
    a = np.take(alpha.reshape(-1), index).astype(np.float32)[:, None] * np.float32(1 / 255)
    b = np.take(behind.reshape(-1, 3), index, axis=0).astype(np.float32)
    f = np.take(np.ascontiguousarray(front).reshape(-1, 3), index, axis=0).astype(np.float32)
    mixed = b + (f - b) * a + np.float32(0.5)  # within 0..255.5: truncation rounds
    out.reshape(-1, 3)[index] = mixed.astype(np.uint8)
    return out


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
    that is smaller, else at the source's: ``size`` (w, h). ``to_view`` is the 2x3 affine from
    source pixels to view pixels (pixel centres, as the resize maps them); :meth:`place` crops
    and resizes one source image (RGB or alpha) into the view. When the output is smaller than
    the crop (1080p footage rendered at 720p) the engine then pastes mouths on 0.44x the pixels
    and the base frames are shrunk in the decoding thread, not the compositing one.
    """

    size: tuple[int, int]
    to_view: np.ndarray
    crop: tuple[int, int, int, int]
    resize: _Resizer  # crop → view (the crop itself when the view is at the source's scale)
    chroma_box: tuple[int, int, int, int]  # the crop in a yuv420p frame's chroma planes
    chroma_resize: _Resizer  # that box → half the view

    def place(self, image: np.ndarray) -> np.ndarray:
        """``image`` (source size) cropped and resized into the view: a view of ``image`` itself
        when no resizing is needed, else a new array."""
        x0, y0, x1, y1 = self.crop
        return self.resize(image[y0:y1, x0:x1])

    def place_decoded(self, frame: Any) -> np.ndarray:
        """A decoded ``av.VideoFrame`` (source size) placed in the view, as RGB.

        A yuv420p frame's planes are cropped (and shrunk, when the view shrinks) *before* the
        conversion to RGB: 1.5 bytes a pixel instead of 3, and the conversion only on what is
        shown (1.3 ms against 2.4 ms for a 1080p → 720p frame). OpenCV's BT.601 limited-range
        conversion is exact to ±0.5 level; swscale's default (``to_ndarray("rgb24")``, used by
        training) reads ~1 level dark, which the paste's colour matching absorbs. The chroma
        planes are cropped from the even pixel at or before the crop (a half-pixel chroma offset
        at most, invisible). Other formats and odd sizes: RGB at full size, then :meth:`place`.
        """
        x0, y0, x1, y1 = self.crop
        dw, dh = self.size
        h, w = frame.height, frame.width
        if frame.format.name != "yuv420p" or (dw | dh | w | h) % 2:
            return self.place(frame.to_ndarray(format="rgb24"))
        yuv = frame.to_ndarray()  # planar (h·3/2, w): Y, then U and V
        out = np.empty((dh * 3 // 2, dw), np.uint8)
        self.resize(yuv[:h][y0:y1, x0:x1], dst=out[:dh])
        cx0, cy0, cx1, cy1 = self.chroma_box
        quarter, plane = (h // 2) * (w // 2), h * w
        flat, dst = yuv.reshape(-1), out.reshape(-1)
        for k in range(2):  # U, then V
            src = flat[plane + k * quarter : plane + (k + 1) * quarter].reshape(h // 2, w // 2)
            small = self.chroma_resize(src[cy0:cy1, cx0:cx1])
            at = dw * dh + k * (dw // 2) * (dh // 2)
            dst[at : at + small.size] = small.reshape(-1)
        return cv2.cvtColor(out, cv2.COLOR_YUV2RGB_I420)


def parse_color(color: str) -> tuple[int, int, int]:
    """ "#RRGGBB" (or "RRGGBB", or "#RGB") → (r, g, b); raises RenderError on anything else."""
    text = color.strip().lstrip("#")
    if len(text) == 3:
        text = "".join(ch * 2 for ch in text)
    try:
        if len(text) != 6:
            raise ValueError(text)
        value = int(text, 16)
    except ValueError:
        raise RenderError(
            "invalid_background",
            f"Background colour {color!r} is not a hex colour; use the form #RRGGBB, e.g. #1A2B3C.",
        ) from None
    return (value >> 16) & 255, (value >> 8) & 255, value & 255


def studio_background(size: tuple[int, int]) -> np.ndarray:
    """A neutral studio-grey backdrop: lighter behind the head, falling off to the edges."""
    width, height = size
    ys = (np.arange(height, dtype=np.float32) / max(height - 1, 1))[:, None]
    xs = (np.arange(width, dtype=np.float32) / max(width - 1, 1))[None, :]
    # A soft elliptical light centred a bit above the middle, plus a gentle top-to-bottom falloff.
    aspect = width / max(height, 1)
    dx = (xs - 0.5) * min(aspect, 1.8)
    dy = ys - 0.38
    radial = np.exp(-(dx * dx + dy * dy) / 0.35)
    level = 78.0 + 70.0 * radial - 18.0 * ys
    grey = np.clip(level, 0, 255)
    # A slightly cool neutral, the way studio paper photographs.
    rgb = np.stack([grey * 0.985, grey * 0.995, grey * 1.02], axis=-1)
    # Dither by a fraction of a level so the gradient does not band after 8-bit encoding.
    noise = np.random.default_rng(7).uniform(-0.5, 0.5, size=(height, width, 1)).astype(np.float32)
    return np.clip(rgb + noise + 0.5, 0, 255).astype(np.uint8)


def _cover_resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Scale ``image`` to cover ``size`` (w, h) and centre-crop it."""
    width, height = size
    ih, iw = image.shape[:2]
    scale = max(width / iw, height / ih)
    cw, ch = min(iw, round(width / scale)), min(ih, round(height / scale))
    x0, y0 = (iw - cw) // 2, (ih - ch) // 2
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(image[y0 : y0 + ch, x0 : x0 + cw], (width, height), interpolation=interp)


def _load_image(path: object, size: tuple[int, int]) -> np.ndarray:
    data = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if data is None:
        raise RenderError(
            "invalid_background",
            f"The background image {path} could not be read; upload a JPEG or PNG image.",
        )
    return _cover_resize(cv2.cvtColor(data, cv2.COLOR_BGR2RGB), size)


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
) -> FramePlan:
    """Decide the crop window and the destination rectangle for a whole video."""
    sw, sh = src_size
    ow, oh = out_size
    if fit == "contain":
        scale = min(ow / sw, oh / sh)
        dw, dh = min(ow, round(sw * scale)), min(oh, round(sh * scale))
        if ow - dw <= max(2, ow // 200) and oh - dh <= max(2, oh // 200):
            dw, dh = ow, oh  # bars of a pixel or two: stretch imperceptibly instead
        dx, dy = (ow - dw) // 2, (oh - dh) // 2
        return FramePlan((0, 0, sw, sh), (dx, dy, dx + dw, dy + dh), dw == ow and dh == oh)
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
    full = dest == (0, 0, ow, oh)
    return FramePlan(crop, dest, full)


class _Resizer:
    """Resize a fixed-size crop to a fixed size, fast.

    Upscaling is one ``INTER_LINEAR``. Downscaling by an integer factor ≥ 2 uses ``INTER_AREA``'s
    fast integer path, then a mild ``INTER_LINEAR`` for the remainder (factor 0.5..1), because
    ``INTER_AREA`` with a non-integer factor costs ~22 ms on a 1080p frame on one core against ~1 ms
    for the integer path. A remainder of 0.5..1 under bilinear does not alias visibly.
    """

    def __init__(self, src_size: tuple[int, int], dsize: tuple[int, int]) -> None:
        sw, sh = src_size
        dw, dh = dsize
        self.dsize = dsize
        factor = min(sw / dw, sh / dh)
        self.k = int(factor + 1e-6) if factor >= 2 else 1
        # Crop to a multiple of k so INTER_AREA takes its exact integer path (drops < k pixels).
        self.area_src = (sw // self.k * self.k, sh // self.k * self.k)
        self.area_dsize = (sw // self.k, sh // self.k)
        self.final = cv2.INTER_AREA if self.area_dsize == dsize else cv2.INTER_LINEAR

    def __call__(self, image: np.ndarray, dst: np.ndarray | None = None) -> np.ndarray:
        """``image`` resized (into ``dst`` when given); at the same size, ``image`` itself."""
        if self.k > 1:
            aw, ah = self.area_src
            image = cv2.resize(image[:ah, :aw], self.area_dsize, interpolation=cv2.INTER_AREA)
        if image.shape[1] == self.dsize[0] and image.shape[0] == self.dsize[1]:
            if dst is None:  # no resampling: the frame itself (frames are the caller's)
                return image
            dst[...] = image
            return dst
        return cv2.resize(image, self.dsize, dst=dst, interpolation=self.final)


def _bar_rects(
    out_size: tuple[int, int], dest: tuple[int, int, int, int]
) -> list[tuple[int, int, int, int]]:
    """The parts of the output outside ``dest`` as (x0, y0, x1, y1) rectangles."""
    ow, oh = out_size
    x0, y0, x1, y1 = dest
    rects = [(0, 0, ow, y0), (0, y1, ow, oh), (0, y0, x0, y1), (x1, y0, ow, y1)]
    return [r for r in rects if r[2] > r[0] and r[3] > r[1]]


def _make_view(crop: tuple[int, int, int, int], dest_size: tuple[int, int]) -> View:
    """The engine's drawing area for a crop shown at ``dest_size``: the output scale when that
    is smaller than the crop, else the crop as it is (upscaling is left to the compositor)."""
    cx0, cy0, cx1, cy1 = crop
    cw, ch = cx1 - cx0, cy1 - cy0
    dw, dh = dest_size
    # Chroma planes: from the even pixel at or before the crop (see ``View.place_decoded``).
    ux0, uy0 = cx0 // 2, cy0 // 2
    if dw * dh >= cw * ch:
        to_view = np.array([[1.0, 0.0, -cx0], [0.0, 1.0, -cy0]])
        chroma = (ux0, uy0, ux0 + cw // 2, uy0 + ch // 2)
        half = (cw // 2, ch // 2)
        return View((cw, ch), to_view, crop, _Resizer((cw, ch), (cw, ch)), chroma,
                    _Resizer(half, half))  # fmt: skip
    resize = _Resizer((cw, ch), (dw, dh))
    aw, ah = resize.area_src  # the pixels the resize really covers (a multiple of its factor)
    sx, sy = dw / aw, dh / ah
    # Pixel centres: view x = (source x − crop x0 + ½) · s − ½ (cv2.resize's mapping).
    to_view = np.array([[sx, 0.0, (0.5 - cx0) * sx - 0.5], [0.0, sy, (0.5 - cy0) * sy - 0.5]])
    chroma = (ux0, uy0, (cx1 + 1) // 2, (cy1 + 1) // 2)
    chroma_resize = _Resizer((chroma[2] - ux0, chroma[3] - uy0), (dw // 2, dh // 2))
    return View((dw, dh), to_view, crop, resize, chroma, chroma_resize)


class Compositor:
    """Frames, mattes and backgrounds the frames of one video; see the module docstring."""

    def __init__(
        self,
        src_size: tuple[int, int],
        face_box: tuple[int, int, int, int],
        options: RenderOptions,
    ) -> None:
        if options.resolution not in ("720p", "1080p", "4k") or options.aspect_ratio not in (
            "16:9",
            "9:16",
        ):
            raise RenderError(
                "invalid_output",
                f"Unsupported output {options.resolution} {options.aspect_ratio}; "
                "use 720p/1080p/4k and 16:9 or 9:16.",
            )
        if src_size[0] < 2 or src_size[1] < 2:
            raise RenderError("invalid_source", f"Source size {src_size} is too small to render.")
        self.options = options
        self.src_size = (int(src_size[0]), int(src_size[1]))
        self._out_size = output_size(options.resolution, options.aspect_ratio)
        self.plan = plan_frame(self.src_size, face_box, self._out_size, options.fit)

        dx0, dy0, dx1, dy1 = self.plan.dest
        dest_size = (dx1 - dx0, dy1 - dy0)
        self.view = _make_view(self.plan.crop, dest_size)
        # View → destination: nothing left to do when the view is already at the output scale.
        self._resize = _Resizer(self.view.size, dest_size)
        self._bars = _bar_rects(self._out_size, self.plan.dest)
        self._matting = options.remove_background
        self._rgba = options.remove_background and options.output_format == "webm"
        # WebM with alpha and no explicit background: transparent output.
        self._transparent = self._rgba and options.background is None
        self._background = self._make_background()
        # Contain bars with no background given: a blurred copy of the frame, made per frame.
        self._blur = self._background is None and bool(self._bars)
        if self._blur:
            self._blur_maps = self._plan_blur()
        self._behind: np.ndarray | None = None
        self._behind_view: np.ndarray | None = None
        if self._matting and self._background is not None:
            self._behind = self._background[dy0:dy1, dx0:dx1].copy()
            smooth = self.options.background is None or self.options.background.image_path is None
            if smooth and not self._rgba:
                if self.view.size == dest_size:
                    self._behind_view = self._behind
                else:  # the view is at the crop's (smaller) scale: the backdrop shrunk to it
                    self._behind_view = cv2.resize(
                        self._behind, self.view.size, interpolation=cv2.INTER_AREA
                    )

    @property
    def out_size(self) -> tuple[int, int]:
        """(width, height) of the output frames."""
        return self._out_size

    # ------------------------------------------------------------------ setup

    def _make_background(self) -> np.ndarray | None:
        """The static background at output size, or None when the bars come from the frame."""
        width, height = self._out_size
        background = self.options.background
        if self._transparent:
            return np.zeros((height, width, 3), np.uint8)
        if background is not None and background.image_path is not None:
            return _load_image(background.image_path, self._out_size)
        if background is not None and background.color is not None:
            return np.full((height, width, 3), parse_color(background.color), np.uint8)
        if self._matting:
            return studio_background(self._out_size)
        return None

    def _plan_blur(self) -> tuple[int, tuple[int, int], list[tuple[int, int, int, int]]]:
        """Blurred bars: shrink the placed picture by an integer factor, cover it over the output
        (centred), and note for each bar rectangle the part of that small image that lands there.
        Per frame each bar is then one small upscale (warpAffine is ~10x slower here)."""
        ow, oh = self._out_size
        dx0, dy0, dx1, dy1 = self.plan.dest
        pw, ph = dx1 - dx0, dy1 - dy0
        k = max(1, min(pw, ph) // 48)  # about 48 px on the short side: the blur is cheap there
        sw, sh = max(1, pw // k), max(1, ph // k)
        scale = max(ow / sw, oh / sh)
        cx, cy = (sw - ow / scale) / 2, (sh - oh / scale) / 2
        sources = []
        for x0, y0, x1, y1 in self._bars:
            sx0 = min(max(round(cx + x0 / scale), 0), sw - 1)
            sy0 = min(max(round(cy + y0 / scale), 0), sh - 1)
            sx1 = min(max(round(cx + x1 / scale), sx0 + 1), sw)
            sy1 = min(max(round(cy + y1 / scale), sy0 + 1), sh)
            sources.append((sx0, sy0, sx1, sy1))
        return k, (sw, sh), sources

    # ------------------------------------------------------------------ per frame

    def _fill_bars(self, out: np.ndarray) -> None:
        if not self._bars:
            return
        if not self._blur:
            assert self._background is not None
            for x0, y0, x1, y1 in self._bars:
                out[y0:y1, x0:x1] = self._background[y0:y1, x0:x1]
            return
        k, (sw, sh), sources = self._blur_maps
        dx0, dy0, _, _ = self.plan.dest
        picture = out[dy0 : dy0 + sh * k, dx0 : dx0 + sw * k]
        small = cv2.resize(picture, (sw, sh), interpolation=cv2.INTER_AREA)
        small = cv2.GaussianBlur(small, (0, 0), BLUR_SIGMA)
        small = cv2.convertScaleAbs(small, alpha=BLUR_DARKEN)
        for (x0, y0, x1, y1), (sx0, sy0, sx1, sy1) in zip(self._bars, sources, strict=True):
            cv2.resize(
                small[sy0:sy1, sx0:sx1],
                (x1 - x0, y1 - y0),
                dst=out[y0:y1, x0:x1],
                interpolation=cv2.INTER_LINEAR,
            )

    def compose(self, rgb: np.ndarray, alpha: np.ndarray | None = None) -> np.ndarray:
        """One output frame from a whole source frame: RGB uint8 (H, W, 3), or RGBA (H, W, 4)
        for WebM with matting. The same as ``compose_placed(view.place(rgb), view.place(alpha))``.

        ``rgb`` is handed over (as engines hand over each ``SyncedFrame``): when the output is
        the frame unchanged, it is returned itself, not copied (a 6 MB copy per 1080p frame).
        """
        sw, sh = self.src_size
        if rgb.ndim != 3 or rgb.shape[:2] != (sh, sw) or rgb.shape[2] < 3:
            raise RenderError(
                "frame_size_mismatch",
                f"Frame of shape {rgb.shape} does not match the source size {sw}x{sh}.",
            )
        if alpha is not None and alpha.shape[:2] != (sh, sw):
            raise RenderError(
                "frame_size_mismatch",
                f"Alpha of shape {alpha.shape} does not match the source size {sw}x{sh}.",
            )
        placed_alpha = self.view.place(alpha) if alpha is not None and self._matting else None
        return self.compose_placed(self.view.place(rgb[:, :, :3]), placed_alpha)

    def compose_placed(self, picture: np.ndarray, alpha: np.ndarray | None = None) -> np.ndarray:
        """One output frame from a picture already in the view (:attr:`view`, as engines draw
        when given it) and its alpha in the view too; see :meth:`compose`."""
        vw, vh = self.view.size
        if (
            picture.ndim != 3
            or picture.shape[:2] != (vh, vw)
            or (alpha is not None and alpha.shape[:2] != (vh, vw))
        ):
            raise RenderError(
                "frame_size_mismatch",
                f"Picture of shape {picture.shape} does not match the view {vw}x{vh}.",
            )
        picture = picture[:, :, :3]
        if self._matting and alpha is not None:
            return self._blend(picture, alpha)
        if self.plan.full and not self._rgba:
            return self._resize(picture)
        ow, oh = self._out_size
        dx0, dy0, dx1, dy1 = self.plan.dest
        out = np.empty((oh, ow, 3), np.uint8)
        self._resize(picture, dst=out[dy0:dy1, dx0:dx1])
        self._fill_bars(out)
        if not self._rgba:
            return out
        # RGBA without an alpha: the picture is opaque; transparent bars when no background.
        out_alpha = np.full((oh, ow), 0 if self._transparent else 255, np.uint8)
        out_alpha[dy0:dy1, dx0:dx1] = 255
        return np.dstack([out, out_alpha])

    def _blend(self, picture: np.ndarray, alpha: np.ndarray) -> np.ndarray:
        """Person over background, in premultiplied space with a slight feather (view scale)."""
        ow, oh = self._out_size
        dx0, dy0, dx1, dy1 = self.plan.dest
        # Feather in the view: a tiny blur that softens stair-stepped mask edges.
        soft = cv2.GaussianBlur(alpha, (3, 3), 0.8)
        if self._behind_view is not None:  # blend in the view (soft pixels only), resize once
            comp = blend_over(picture, self._behind_view, soft)
            if self.plan.full:
                return self._resize(comp)  # already a new array
            out = np.empty((oh, ow, 3), np.uint8)
            self._resize(comp, dst=out[dy0:dy1, dx0:dx1])
            self._fill_bars(out)
            return out
        premult = cv2.multiply(picture, cv2.merge([soft, soft, soft]), scale=1.0 / 255.0)
        premult_out = self._resize(premult)
        alpha_out = self._resize(soft)

        if self._transparent:
            # Straight (un-premultiplied) colour for RGBA; where alpha is 0 the colour is moot.
            straight = cv2.divide(premult_out, cv2.merge([alpha_out] * 3), scale=255.0)
            out = np.zeros((oh, ow, 4), np.uint8)
            out[dy0:dy1, dx0:dx1] = cv2.merge([straight, alpha_out])
            return out

        assert self._background is not None and self._behind is not None
        inv = cv2.bitwise_not(alpha_out)
        behind = cv2.multiply(self._behind, cv2.merge([inv, inv, inv]), scale=1.0 / 255.0)
        if self.plan.full and not self._rgba:
            return cv2.add(premult_out, behind)
        out = np.empty((oh, ow, 3), np.uint8)
        cv2.add(premult_out, behind, dst=out[dy0:dy1, dx0:dx1])
        self._fill_bars(out)
        if self._rgba:
            return np.dstack([out, np.full((oh, ow), 255, np.uint8)])
        return out
