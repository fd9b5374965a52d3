"""Pictures as planar I420 (yuv420p): the renderer's frame format, from decoder to encoder.

The base footage decodes to yuv420p and x264 encodes yuv420p, so a frame kept in those planes
is never converted whole. Before, every frame went to RGB after decoding (~1 ms a 1080p frame)
and back before encoding (~2.3 ms, with 2x2-averaged chroma): 8 % of a 720p render's CPU and
more at 1080p (``perf``, 2026-12-01), for pixels that mostly did not change. Now only what
changes is touched:

- the mouth is pasted plane by plane: a bank cut is converted to I420 once, then warped (luma at
  full resolution, chroma at half: :func:`chroma_affine`) and added as a difference (new − old,
  colour-matched, times the feathered alpha), so every pixel outside the paste keeps its exact
  decoded value (``render.lipsync.sample``);
- mattes blend each plane (a convex blend is the same in any affine colour space), the chroma
  planes with the 2x2 mean of the alpha;
- resizing, warping and crossfading work plane by plane.

Layout: uint8 (h·3/2, w): the Y plane (h, w), then U and V (h/2, w/2 each), one after the other:
PyAV's ``yuv420p`` ndarray and OpenCV's ``COLOR_*_I420``; w and h are even. Colour: the BT.601
matrix, limited range (Y 16..235, C 16..240), as ``render.encode`` explains. A transparent
WebM's frame is an :class:`AlphaPicture`: the I420 picture and its alpha plane (h, w), which
VP9 codes as they are (yuva420p), never through RGB.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import cv2
import numpy as np

__all__ = [
    "X264_COLOUR",
    "AlphaPicture",
    "PictureResizer",
    "Resizer",
    "as_rgb",
    "blend_onto",
    "blend_over",
    "blend_pictures",
    "box_planes",
    "chroma",
    "chroma_affine",
    "colour_of",
    "crop",
    "crossfade",
    "fill",
    "from_rgb",
    "half",
    "is_picture",
    "new",
    "planes",
    "size_of",
    "to_rgb",
    "warp",
]

# How x264 tags these pictures (``render.encode`` explains why BT.709 primaries and transfer
# with the BT.601 matrix): every H.264 file written (videos, and a twin's own) says so, because
# a player guesses an untagged HD picture's matrix as BT.709 (``twins.colour``).
X264_COLOUR = "colorprim=bt709:transfer=bt709:colormatrix=smpte170m:range=tv"

# Full-range chroma (OpenCV's YCrCb) → limited range: 128 + (c − 128) · 224/255.
_LIMITED_CHROMA = np.clip(np.round(128 + (np.arange(256) - 128) * 224 / 255), 0, 255).astype(
    np.uint8
)


class AlphaPicture(NamedTuple):
    """An I420 picture with its alpha plane (uint8 (h, w), 255 opaque): a transparent frame."""

    picture: np.ndarray
    alpha: np.ndarray


def is_picture(frame: np.ndarray) -> bool:
    """True for an I420 picture (2-D), False for RGB/RGBA (H, W, 3|4)."""
    return frame.ndim == 2


def size_of(picture: np.ndarray) -> tuple[int, int]:
    """(width, height) of an I420 picture."""
    return int(picture.shape[1]), int(picture.shape[0]) * 2 // 3


def new(size: tuple[int, int]) -> np.ndarray:
    """An uninitialised I420 picture of ``size`` (w, h), both even."""
    w, h = size
    return np.empty((h * 3 // 2, w), np.uint8)


def planes(picture: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Views of the Y (h, w), U and V (h/2, w/2) planes (writing to them writes the picture)."""
    w, h = size_of(picture)
    flat = picture.reshape(-1)
    q = (h // 2) * (w // 2)
    u = flat[h * w : h * w + q].reshape(h // 2, w // 2)
    v = flat[h * w + q : h * w + 2 * q].reshape(h // 2, w // 2)
    return picture[:h], u, v


def chroma(picture: np.ndarray) -> np.ndarray:
    """Both chroma planes as one (h, w/2) view, U above V: one call processes both."""
    w, h = size_of(picture)
    return picture[h:].reshape(h, w // 2)


def from_rgb(rgb: np.ndarray) -> np.ndarray:
    """uint8 RGB (H, W, 3), H and W even → I420: the BT.601 matrix, limited range, chroma the
    mean of each 2×2 block as swscale's (±1.5).

    OpenCV's fixed-point SIMD conversions, ~2 ms a 1080p frame on one core.
    ``COLOR_RGB2YUV_I420`` gives the luma exactly, but takes each block's chroma from its top-left
    pixel (aliasing on sharp colour edges such as burned captions), so the chroma comes from the
    2×2-averaged image instead.
    """
    h, w = rgb.shape[:2]
    out = cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420)
    small = cv2.resize(rgb, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    _, cr, cb = cv2.split(cv2.cvtColor(small, cv2.COLOR_RGB2YCrCb))
    _, u, v = planes(out)
    u[...] = cv2.LUT(cb, _LIMITED_CHROMA)
    v[...] = cv2.LUT(cr, _LIMITED_CHROMA)
    return out


def to_rgb(picture: np.ndarray) -> np.ndarray:
    """I420 → RGB uint8 (H, W, 3) (OpenCV's BT.601 limited-range conversion, exact to ±0.5)."""
    return cv2.cvtColor(picture, cv2.COLOR_YUV2RGB_I420)


def as_rgb(frame: np.ndarray) -> np.ndarray:
    """A frame as RGB(A): an I420 picture converted, an RGB(A) array as it is."""
    return to_rgb(frame) if is_picture(frame) else frame


def colour_of(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """The (Y, U, V) of one RGB colour."""
    y, u, v = planes(from_rgb(np.full((2, 2, 3), rgb, np.uint8)))
    return int(y[0, 0]), int(u[0, 0]), int(v[0, 0])


def fill(picture: np.ndarray, box: tuple[int, int, int, int], yuv: tuple[int, int, int]) -> None:
    """Paint ``box`` (x0, y0, x1, y1; even) of ``picture`` one colour (Y, U, V), in place."""
    x0, y0, x1, y1 = box
    y, u, v = planes(picture)
    y[y0:y1, x0:x1] = yuv[0]
    u[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2] = yuv[1]
    v[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2] = yuv[2]


def box_planes(
    picture: np.ndarray, box: tuple[int, int, int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Views of the Y, U and V pixels of ``box`` (x0, y0, x1, y1; even) of ``picture``."""
    x0, y0, x1, y1 = box
    y, u, v = planes(picture)
    cx0, cy0, cx1, cy1 = x0 // 2, y0 // 2, x1 // 2, y1 // 2
    return y[y0:y1, x0:x1], u[cy0:cy1, cx0:cx1], v[cy0:cy1, cx0:cx1]


def crop(picture: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """``box`` (even) of ``picture`` as a new picture."""
    out = new((box[2] - box[0], box[3] - box[1]))
    for dst, src in zip(planes(out), box_planes(picture, box), strict=True):
        dst[...] = src
    return out


def half(alpha: np.ndarray) -> np.ndarray:
    """An alpha (h, w) at chroma size: the mean of each 2x2 block."""
    h, w = alpha.shape[:2]
    return cv2.resize(alpha, (w // 2, h // 2), interpolation=cv2.INTER_AREA)


def chroma_affine(m: np.ndarray) -> np.ndarray:
    """A 2x3 affine on luma pixels → the same motion on chroma pixels (pixel centres: chroma
    x_c = (x + ½)/2 − ½): the linear part is unchanged, the shift follows."""
    out = np.array(m, np.float64, copy=True)
    out[:, 2] = (m[:, :2] @ np.array([0.5, 0.5]) + m[:, 2]) / 2 - 0.25
    return out


def warp(picture: np.ndarray, m: np.ndarray, *, flags: int = cv2.INTER_LINEAR) -> np.ndarray:
    """``picture`` moved by the 2x3 affine ``m`` (source → destination luma pixels), plane by
    plane, edges replicated."""
    w, h = size_of(picture)
    out = new((w, h))
    mc = chroma_affine(m)
    for src, dst, mat in zip(planes(picture), planes(out), (m, mc, mc), strict=True):
        dst[...] = cv2.warpAffine(src, mat, (dst.shape[1], dst.shape[0]), flags=flags,
                                  borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
    return out


def displace(
    picture: np.ndarray,
    box: tuple[int, int, int, int],
    fx: np.ndarray,
    fy: np.ndarray,
    source: np.ndarray | None = None,
) -> np.ndarray:
    """``picture`` with the pixels of ``box`` (x0, y0, x1, y1, even luma px) fetched from where
    the flow says: out(x, y) = in(x + fx, y + fy), ``fx``/``fy`` float32 (y1 − y0, x1 − x0) in
    luma px (halved for the chroma planes). ``in`` is ``source`` (a picture of the same size)
    when given, else ``picture`` itself. In place; returns ``picture``."""
    x0, y0, x1, y1 = box
    if x1 <= x0 or y1 <= y0:
        return picture
    sources = planes(picture if source is None else source)
    for plane, src, scale in zip(planes(picture), sources, (1, 2, 2), strict=True):
        bx0, by0, bx1, by1 = x0 // scale, y0 // scale, x1 // scale, y1 // scale
        dx, dy = fx, fy
        if scale != 1:
            size = (bx1 - bx0, by1 - by0)
            dx = cv2.resize(fx, size, interpolation=cv2.INTER_AREA) / scale
            dy = cv2.resize(fy, size, interpolation=cv2.INTER_AREA) / scale
        map_x, map_y = fetch_maps(dx, dy, bx0, by0)
        plane[by0:by1, bx0:bx1] = cv2.remap(src, map_x, map_y, cv2.INTER_LINEAR,
                                            borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
    return picture


def fetch_maps(
    dx: np.ndarray, dy: np.ndarray, x0: int = 0, y0: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``cv2.remap`` maps (float32) that fetch each pixel (x, y) of a box whose top left is
    (``x0``, ``y0``) from (x + dx, y + dy); ``dx``/``dy`` are the box's size. Built by
    broadcasting, without coordinate grids."""
    h, w = dx.shape[:2]
    map_x = np.add(dx, np.arange(x0, x0 + w, dtype=np.float32), dtype=np.float32)
    map_y = np.add(dy, np.arange(y0, y0 + h, dtype=np.float32)[:, None], dtype=np.float32)
    return map_x, map_y


def crossfade(a: np.ndarray, b: np.ndarray, weight: float) -> np.ndarray:
    """``(1 − weight)·a + weight·b`` for two pictures of one size (every plane at once)."""
    return cv2.addWeighted(a, 1.0 - weight, b, weight, 0.0)


def blend_over(
    front: np.ndarray, behind: np.ndarray, alpha: np.ndarray, out: np.ndarray | None = None
) -> np.ndarray:
    """``front`` over ``behind`` (uint8, same shape: (H, W) or (H, W, C)) with uint8 ``alpha``
    (H, W): ``front·a + behind·(1 − a)``, ``a = alpha / 255``, into ``out`` (a new array when
    not given; it may be ``front`` or ``behind`` itself).

    Dense fixed-point SIMD in OpenCV: each of the two products is rounded to a level, then they
    are added (saturating), so every pixel is within one level of the exactly rounded blend, and
    exact where alpha is 0 or 255 (the products are then the pixel and 0). A 720p I420 picture
    takes 1.1 ms on one core; gathering, blending and scattering only the soft band (5–6 % of a
    matte's pixels, but NumPy fancy indexing plus the masks that find it) took 2.8 ms, and 5.3
    against 2.2 ms at 1080p (2026-12-02).
    """
    if front.ndim == 3:
        alpha = cv2.merge([alpha] * front.shape[2])
    below = cv2.multiply(behind, cv2.bitwise_not(alpha), scale=1 / 255)  # behind·(255 − alpha)
    above = cv2.multiply(front, alpha, scale=1 / 255, dst=out)
    return cv2.add(above, below, dst=above)


def blend_pictures(
    front: np.ndarray, behind: np.ndarray, alpha: np.ndarray, out: np.ndarray | None = None
) -> np.ndarray:
    """:func:`blend_over` for I420 pictures: luma with ``alpha`` (h, w), chroma with its 2x2
    mean; into ``out`` (a new picture when not given; it may be ``front`` itself)."""
    if out is None:
        out = new(size_of(front))
    small = half(alpha)
    for f, b, o, a in zip(planes(front), planes(behind), planes(out), (alpha, small, small),
                          strict=True):  # fmt: skip
        blend_over(f, b, a, o)
    return out


@functools.lru_cache(maxsize=64)
def _behind_table(level: int) -> np.ndarray:
    """``level · (255 − a) / 255`` for every alpha ``a``, rounded by the same OpenCV product as
    :func:`blend_over`'s background term (a flat background's term in :func:`blend_onto`)."""
    levels = np.arange(256, dtype=np.uint8).reshape(1, 256)
    table = cv2.multiply(np.full((1, 256), level, np.uint8), cv2.bitwise_not(levels), scale=1 / 255)
    table.flags.writeable = False
    return table


def blend_onto(
    picture: np.ndarray,
    alpha: np.ndarray,
    behind: np.ndarray,
    colour: tuple[int, int, int] | None = None,
) -> np.ndarray:
    """``picture`` over ``behind`` (I420 pictures of one size) with ``alpha`` (h, w), in place:
    exactly ``blend_pictures(picture, behind, alpha, picture)``, for less work.

    A matte is zero over most of a frame (70 % of the benchmark twin's 720p frames), and the
    person's box (alpha > 0) is about half of it. Outside that box the result is ``behind``
    itself, so it is copied, or filled with ``colour`` (its flat (Y, U, V) colour, when it is
    one); only the box is blended. With a flat colour the background's term is a 256-entry
    table of alpha, computed by the same OpenCV product :func:`blend_over` uses, so the values
    are identical. 720p, one core, the benchmark twin's frames: 1.16 against 1.55 ms
    (2026-12-02)."""
    w, h = size_of(picture)
    x, y, bw, bh = cv2.boundingRect(alpha)
    x0, y0 = x - x % 2, y - y % 2  # even: a chroma sample covers 2x2 pixels
    x1, y1 = min(w, x + bw + (x + bw) % 2), min(h, y + bh + (y + bh) % 2)
    if bw == 0 or bh == 0:
        x0 = y0 = x1 = y1 = 0
    small = half(alpha[y0:y1, x0:x1]) if x1 > x0 and y1 > y0 else alpha[:0, :0]
    for k, (front, back) in enumerate(zip(planes(picture), planes(behind), strict=True)):
        f = 1 if k == 0 else 2
        bx0, by0, bx1, by1 = x0 // f, y0 // f, x1 // f, y1 // f
        ph, pw = front.shape
        for rx0, ry0, rx1, ry1 in ((0, 0, pw, by0), (0, by1, pw, ph), (0, by0, bx0, by1),
                                   (bx1, by0, pw, by1)):  # fmt: skip
            if rx1 > rx0 and ry1 > ry0:
                if colour is None:
                    front[ry0:ry1, rx0:rx1] = back[ry0:ry1, rx0:rx1]
                else:
                    front[ry0:ry1, rx0:rx1] = colour[k]
        if bx1 <= bx0 or by1 <= by0:
            continue
        a = alpha[y0:y1, x0:x1] if k == 0 else small
        box = front[by0:by1, bx0:bx1]
        if colour is None:
            blend_over(box, back[by0:by1, bx0:bx1], a, box)
            continue
        above = cv2.multiply(box, a, scale=1 / 255, dst=box)
        cv2.add(above, cv2.LUT(a, _behind_table(colour[k])), dst=above)
    return picture


class Resizer:
    """Resize a fixed-size image (any channels) to a fixed size, fast.

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
            if dst is None:  # no resampling: the image itself (frames are the caller's)
                return image
            dst[...] = image
            return dst
        return cv2.resize(image, self.dsize, dst=dst, interpolation=self.final)


class PictureResizer:
    """:class:`Resizer` for I420 pictures: the luma plane and both chroma planes."""

    def __init__(self, src_size: tuple[int, int], dsize: tuple[int, int]) -> None:
        self.dsize = dsize
        self.same = tuple(src_size) == tuple(dsize)
        self.luma = Resizer(src_size, dsize)
        self.chroma = Resizer((src_size[0] // 2, src_size[1] // 2), (dsize[0] // 2, dsize[1] // 2))

    def __call__(
        self,
        picture: np.ndarray,
        dst: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    ) -> np.ndarray:
        """``picture`` resized: a new picture, or written into ``dst`` (Y, U, V plane views of
        ``dsize``, e.g. :func:`box_planes`) when given; at the same size, ``picture`` itself."""
        if dst is None:
            if self.same:
                return picture
            out = new(self.dsize)
            self(picture, planes(out))
            return out
        for k, (src, plane) in enumerate(zip(planes(picture), dst, strict=True)):
            (self.luma if k == 0 else self.chroma)(src, dst=plane)
        return picture
