"""The sample-based engine (Video Rewrite style): the person's own mouths, pasted onto the base loop.

Per output frame t, with base footage frame b and selected bank frame j (``select.py``):
1. In canonical crop space (see ``twins.bank``), draw the *lower-face region*: from just under the
   nose, out to the cheeks, down the jaw (kept a little inside the face outline at the sides, so the
   seam sits on skin, not on the background) and round under the chin. It is the union of b's and
   j's regions, so whichever chin is lower is covered: the jaw follows the new opening and no
   ghost of the old chin remains.
2. Warp j's stored cut (the bank frame's own pixels, unwarped) straight into b's image: bank cut →
   canonical → b is one affine, so the pixels are resampled once (bicubic). The feathered region
   is warped the same way and is the blend's alpha.
3. Colour-match in that patch: a *low-frequency* correction field (the difference of the two images
   around the seam, spread by normalised convolution at a coarse scale) is added to j, which fixes
   shading and white balance without touching fine detail. Only the seam's stretches where the
   two pictures show the same thing steer it (``SEAM_AGREE``): the difference across a chin
   that covers a white collar is content, not light. Only the alpha is feathered; pixels are
   never blurred, so teeth and lips stay as sharp as the footage.
4. At the base loop's jump back (``baseloop.crossfades``) the frame that would have followed in
   the footage is morphed into the loop frame over ~0.2 s (``_LoopMorph``): no jump, and no
   double face as a plain dissolve would show. The mouth is pasted on the morph and follows it,
   the face's affine and the residual flow both (``_Residual``).
Base frames (and mattes) are decoded a few frames ahead in a thread (``baseloop.prefetch``), the
loop's once per render: later turns read them back from a temporary file (``render.framestore``).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Generator, Iterable, Iterator

import cv2
import numpy as np

from twinstudio.render import yuv
from twinstudio.render.baseloop import (
    base_frames,
    crossfade_partners,
    crossfade_window,
    loop_runs,
    matte_frames,
    prefetch,
    schedule,
)
from twinstudio.render.framestore import ArrayStore, FrameStore, KeptFrames
from twinstudio.render.framing import View, whole_view
from twinstudio.render.lipsync.base import LipSyncEngine, SyncedFrame, lipsync_engines
from twinstudio.render.lipsync.select import SelectionWeights, resting_frames, viterbi_select
from twinstudio.render.motion import MouthTrack
from twinstudio.render.reuse import Box
from twinstudio.twins import pack as P
from twinstudio.twins.bank import apply_affine, compose_affine, fit_affine
from twinstudio.twins.cuts import MouthCrops
from twinstudio.twins.faces import JAW, STABLE
from twinstudio.twins.loop import EXPRESSION

# Where a paste's alpha is the feather's ramp (the seam the colour field is measured on), inclusive.
_RAMP = (np.array([6], np.uint8), np.array([249], np.uint8))
# Seam samples whose luma differs from the seam's median difference by more than this (levels)
# are content, not shading, and do not steer the colour match (``_Paster._colour_fields``).
SEAM_AGREE = 24.0
# The bottom of the chin: the only part of the region allowed past the jaw line.
_CHIN_BOTTOM = (149, 176, 148, 152, 377, 400, 378)
# Across the face just under the nose, image-left to image-right, via the cheeks.
_TOP = (207, 205, 36, 203, 98, 97, 2, 326, 327, 423, 266, 425, 427)
_MOUTH_CENTRE = (13, 14)
_JAW = np.array(JAW)
_JAW_CHIN = np.isin(_JAW, np.array(_CHIN_BOTTOM))  # which jaw points are the chin's bottom


def region_polygon(lmc: np.ndarray, scale: float) -> np.ndarray:
    """Lower-face polygon (crop px) from one frame's landmarks in crop px.

    Sides are pulled towards the mouth (so the seam runs over cheek skin, never over the face's
    outline against the background); only the bottom of the chin reaches past the jaw line.
    """
    centre = lmc[list(_MOUTH_CENTRE)].mean(axis=0)
    top = lmc[list(_TOP)].copy()
    top[:, 1] += 0.07 * scale  # start a little below the nostrils
    top[:, 0] = centre[0] + (top[:, 0] - centre[0]) * 0.9
    jaw = lmc[_JAW]  # fancy indexing: a copy
    jaw[:, 0] = centre[0] + (jaw[:, 0] - centre[0]) * 0.8
    chin = _JAW_CHIN
    jaw[chin, 1] += 0.08 * scale
    jaw[~chin, 1] = centre[1] + (jaw[~chin, 1] - centre[1]) * 0.92
    # The jaw runs left→right; go back right→left along the top to close the polygon.
    return np.vstack([jaw, top[::-1]]).astype(np.int32)


class _Paster:
    """Blends one bank crop onto one base frame (the per-frame work of the engine).

    Speed (1080p, one core): everything happens inside the bounding box of the pasted region
    (not the whole crop), the feathered mask is drawn at half resolution (it is smooth anyway,
    and the affine warp into the frame upsamples it), decoded bank cuts are kept in a small LRU,
    and the blend is a few OpenCV calls per plane with a saturating uint8 result.

    The mouth is warped, colour-matched and added plane by plane in the picture's own I420:
    luma at full resolution, both chroma planes at half, from cuts converted to I420 once when
    decoded. Warping RGB and turning the difference into Y, U and V afterwards warped three
    full-resolution channels (the bicubic warp was the paste's largest cost) for chroma that
    is then averaged down anyway. Paste per frame on the benchmark twin (2026-12-04, main
    thread's CPU): 720p 9:16 (at the footage's scale) 5.0 → 3.4 ms, 1080p 16:9 4.6 → 3.7 ms,
    720p 16:9 2.3 → 2.1 ms; luma within a level of before but for 0.01 % of pixels.
    Each footage frame's lower-face polygon (landmarks → crop space → polygon) depends on the
    frame alone, and a loop shows the same few hundred frames over and over, so it is computed
    once per frame and kept (a few hundred bytes each): that Python/NumPy work held the GIL in
    ~10 % of a 1080p matte render's GIL samples (py-spy ``--gil``). Pasted pixels are identical;
    end to end the gain was within the run-to-run noise (1080p 16:9 matte RTF 1.49 → 1.54).
    The mask's blur is two box blurs and the three planes' colour fields are spread together
    (``_colour_fields``): paste per frame with cached cuts, one core, 720p 16:9 1.94 → 1.5 ms,
    1080p 9:16 2.90 → 2.5 ms, pixels within 2 levels of before (2026-12-05).
    """

    # Decoded bank cuts kept in memory (runs and holds hit them): at most CACHE cuts and
    # CACHE_BYTES. Behind it, every cut decoded is also kept in an ``ArrayStore`` (page cache, not
    # the process's memory) for the render's length, so each cut is decoded once per render:
    # lossless WebP plus the shrink took ~4-7 ms a cut, and with the 96-cut memory cache alone
    # the benchmark's 720p matte render (its warm-up included) decoded 239 cuts for 120 distinct
    # ones in a minute of video and 348 for 126 in three (~55 more a minute); now 201 and 207
    # (2026-12-06). A cut read back is one copy.
    # A cut is kept as I420: 0.2 MB at 1080p (0.09 MB shrunk for 720p); decoding one again
    # costs ~1.3 ms. The byte bound is what a minute of video fills: the 96 cuts alone took a
    # 1080p render 1,110 frames to fill, so a longer render held ~5 MB more than a 1-minute
    # one for most of its length; 61 cuts (then 24 MB as RGB) are full after ~300 frames, for
    # ~130 more decodes a minute (0.17 s; benchmark twin, 2026-12-02). At 720p the 96 cuts
    # stay the bound.
    CACHE = 96
    CACHE_BYTES = 12 << 20
    # The most decoded cuts a render keeps on disk (the benchmark twin's 126 cuts of a
    # 3-minute render: 11 MB at 720p, 25 MB at 1080p; a long twin's bank can be thousands).
    STORE_BYTES = 256 << 20

    def __init__(self, pack: P.TwinPack, view: View) -> None:
        tr = pack.track
        # As stored (float32, read per frame into float64 maps): a float64 copy of every
        # footage frame's 478 points would be 138 MB for ten minutes of footage.
        self.landmarks = tr["landmarks"]
        self.to_crop = tr["to_crop"].astype(np.float64)
        self.valid = tr["valid"]
        self.scale = float(pack.meta["crop"]["scale"])
        self.crop_size = tuple(int(v) for v in pack.meta["crop"]["size"])
        self.feather = max(3, round(0.09 * self.scale))
        self.origin = tr["crop_origin"].astype(np.float64)
        self.crops = MouthCrops(pack.file(P.MOUTHS))
        self._store = ArrayStore(self.STORE_BYTES)
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._cache_bytes = 0
        self._polygons: dict[int, np.ndarray] = {}  # footage frame → region polygon (crop px)
        # Frames are drawn in the view (source px → view px); at a smaller scale the cuts are
        # shrunk once with area averaging (cached so), so the warp never skips pixels.
        self.to_view = view.to_view
        scale = float(np.sqrt(abs(np.linalg.det(self.to_view[:, :2]))))
        self.cut_scale = scale if scale < 0.9 else 1.0
        s = self.cut_scale  # shrunk-cut px → cut px (pixel centres)
        self.from_small_cut = np.array([[1 / s, 0, 0.5 / s - 0.5], [0, 1 / s, 0.5 / s - 0.5]])

    def polygon(self, frame: int) -> np.ndarray:
        """Frame ``frame``'s lower-face region polygon in crop pixels (computed once)."""
        poly = self._polygons.get(frame)
        if poly is None:
            lm = apply_affine(self.to_crop[frame], self.landmarks[frame])
            poly = self._polygons[frame] = region_polygon(lm, self.scale)
        return poly

    def _cut(self, bank_j: int) -> np.ndarray:
        """Bank cut ``bank_j`` as an I420 picture (shrunk to the view's scale; an odd edge
        repeated to make it even), decoded once and kept while it is used."""
        cut = self._cache.get(bank_j)
        if cut is None:
            if bank_j in self._store:
                cut = self._store.get(bank_j)
            else:
                cut = self._decode(bank_j)
                self._store.put(bank_j, cut)
            self._cache[bank_j] = cut
            self._cache_bytes += cut.nbytes
            while len(self._cache) > 1 and (
                len(self._cache) > self.CACHE or self._cache_bytes > self.CACHE_BYTES
            ):
                self._cache_bytes -= self._cache.popitem(last=False)[1].nbytes
        else:
            self._cache.move_to_end(bank_j)
        return cut

    def _decode(self, bank_j: int) -> np.ndarray:
        rgb = self.crops.get(bank_j)
        if self.cut_scale < 1.0:
            h, w = rgb.shape[:2]
            size = (max(2, round(w * self.cut_scale)), max(2, round(h * self.cut_scale)))
            rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        h, w = rgb.shape[:2]
        if (h | w) % 2:
            rgb = cv2.copyMakeBorder(rgb, 0, h % 2, 0, w % 2, cv2.BORDER_REPLICATE)
        return yuv.from_rgb(rgb)

    def close(self) -> None:
        """Drop the decoded cuts (memory and store); the bank file stays open for reads."""
        self._store.close()
        self._cache.clear()
        self._cache_bytes = 0

    def region_alpha(
        self,
        b: int,
        frame_j: int,
        frame_size: tuple[int, int],
        to_view: np.ndarray | None = None,
        extra: tuple[np.ndarray, ...] = (),
        margin: int = 0,
    ) -> tuple[np.ndarray, tuple[int, int, int, int]] | None:
        """Feathered alpha (uint8) of the paste region in base frame ``b``'s pixels and its box
        (x0, y0, x1, y1; even) clipped to ``frame_size`` (w, h, even); None when it falls
        outside.

        The region is the union of b's and j's lower faces (whichever chin is lower is covered),
        and of the ``extra`` polygons (view px). ``to_view``: where b's pixels are in the
        picture (source px → view px; the view's own mapping when not given). ``margin``: px
        of room added round the box (for a paste that is moved afterwards).
        """
        m_b = self.to_crop[b]
        polys = [self.polygon(b), self.polygon(frame_j)]
        to_view = self.to_view if to_view is None else to_view
        inv = compose_affine(to_view, _invert(m_b))  # crop px → view px
        if extra:
            back = _invert(inv)
            polys += [apply_affine(back, poly) for poly in extra]
        pts = apply_affine(inv, np.vstack(polys).astype(np.float64))
        x0, y0 = (np.floor(pts.min(axis=0)).astype(int) - 2 - margin).tolist()
        x1, y1 = (np.ceil(pts.max(axis=0)).astype(int) + 2 + margin).tolist()
        # Even, inside the frame (I420 pictures: a chroma sample covers 2x2 pixels).
        x0, y0 = max(0, x0 - x0 % 2), max(0, y0 - y0 % 2)
        x1, y1 = min(frame_size[0], x1 + x1 % 2), min(frame_size[1], y1 + y1 % 2)
        if x1 - x0 < 4 or y1 - y0 < 4:
            return None
        # The mask at half resolution in crop space (smooth: the warp upsamples it cleanly).
        w, h = self.crop_size
        half = (w + 1) // 2, (h + 1) // 2
        mask = np.zeros((half[1], half[0]), np.uint8)
        for poly in polys:  # 2 fractional bits: sub-pixel edges at half size
            cv2.fillPoly(mask, [np.round(poly * 2.0).astype(np.int32)], (255,), shift=2)
        k = max(1, self.feather // 2)
        # Feather inward (erode first) so the soft edge stays inside the region.
        core = cv2.erode(mask, np.ones((k // 2 + 1, k // 2 + 1), np.uint8))
        # Two box blurs of k + 1 (odd): within 6 levels of a Gaussian of sigma k/2, at a third of
        # its cost (62 against 195 us a 720p frame, 2026-12-05), and exact integer sums, so the
        # same whatever OpenCV's threads (a stack blur, as fast, differed by a level along the
        # stripes OpenCV's pool had split it in: a render was not the same twice).
        box = (k + 1) | 1
        soft = cv2.blur(cv2.blur(core, (box, box)), (box, box))
        inv_roi = inv.copy()
        inv_roi[:, :2] *= 2.0  # half-size mask px → crop px → view px
        inv_roi[:, 2] -= (x0, y0)
        alpha = cv2.warpAffine(soft, inv_roi, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=(0,))  # fmt: skip
        return alpha, (x0, y0, x1, y1)

    def paste(
        self,
        base: np.ndarray,
        b: int,
        frame_j: int,
        bank_j: int,
        to_view: np.ndarray | None = None,
        extra: tuple[np.ndarray, ...] = (),
        moved: _Residual | None = None,
    ) -> Box | None:
        """Bank frame ``frame_j``'s mouth (cut ``bank_j``) onto base footage frame ``b``: an I420
        picture in the view, edited in place (decoded frames are the engine's own). Returns
        the box of the view it changed (None: none; the compositor recomposes only that box of
        a footage frame it has seen: ``render.reuse``).
        ``to_view`` and ``extra`` as for :meth:`region_alpha` (a morphed loop frame); ``moved``:
        the morph's residual flow, which the mouth follows as the loop frame's face did."""
        if not self.valid[b]:
            return None  # no face tracked in this base frame: leave it as filmed
        w, h = yuv.size_of(base)
        to_view = self.to_view if to_view is None else to_view
        margin = 0 if moved is None else moved.reach
        got = self.region_alpha(b, frame_j, (w, h), to_view, extra, margin)
        if got is None:
            return None
        alpha, (x0, y0, x1, y1) = got
        size = (x1 - x0, y1 - y0)
        # Bank cut px → bank frame px → canonical → base (view) ROI px: one affine, one
        # resampling.
        inv_roi = compose_affine(to_view, _invert(self.to_crop[b]))
        inv_roi[:, 2] -= (x0, y0)
        ox, oy = self.origin[frame_j]
        cut_to_canon = self.to_crop[frame_j].copy()
        cut_to_canon[:, 2] += cut_to_canon[:, :2] @ np.array([ox, oy], np.float64)
        m_cut = compose_affine(inv_roi, cut_to_canon)
        if self.cut_scale < 1.0:
            m_cut = compose_affine(m_cut, self.from_small_cut)
        box = (x0, y0, x1, y1)
        cut_y, cut_u, cut_v = yuv.planes(self._cut(bank_j))
        old_y, old_u, old_v = yuv.box_planes(base, box)
        # Luma at full resolution, both chroma planes at half (as the picture holds them).
        new_y = cv2.warpAffine(cut_y, m_cut, size, flags=cv2.INTER_CUBIC,
                               borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
        new_c = cv2.warpAffine(cv2.merge([cut_u, cut_v]), yuv.chroma_affine(m_cut),
                               (size[0] // 2, size[1] // 2), flags=cv2.INTER_CUBIC,
                               borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
        if moved is not None:
            new_y, new_c, alpha = moved.move(box, new_y, new_c, alpha)
        diff_y: np.ndarray = cv2.subtract(new_y, old_y, dtype=cv2.CV_32F)
        diff_c: np.ndarray = cv2.subtract(new_c, cv2.merge([old_u, old_v]), dtype=cv2.CV_32F)
        field_y, field_c = self._colour_fields(diff_y, diff_c, alpha)
        # New − old, colour-matched, times the alpha: added (rounded, saturated) in place.
        a = alpha.astype(np.float32) * np.float32(1 / 255)
        diff_y = cv2.add(diff_y, field_y)
        old_y[...] = cv2.add(old_y, cv2.multiply(diff_y, a), dtype=cv2.CV_8U)
        a_c = yuv.half(alpha).astype(np.float32) * np.float32(1 / 255)
        diff_c = cv2.add(diff_c, field_c)
        du, dv = cv2.split(cv2.multiply(diff_c, cv2.merge([a_c, a_c])))
        old_u[...] = cv2.add(old_u, du, dtype=cv2.CV_8U)
        old_v[...] = cv2.add(old_v, dv, dtype=cv2.CV_8U)
        return box

    def _colour_fields(
        self, diff_y: np.ndarray, diff_c: np.ndarray, alpha: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Smooth corrections for the luma (h, w) and both chroma planes (h/2, w/2, 2): old − new
        around the seam, spread inwards by normalised convolution on one grid at a quarter of the
        luma's size, so that the pasted crop takes the base's shading and white balance without
        losing its fine detail. ``diff_y``, ``diff_c``: new − old; ``alpha``: the luma-size
        feathered alpha, whose ramp is the seam.

        The three planes are spread together (one 3-channel blur, one blur of the seam's
        weights): spread apart, luma at a quarter and chroma at a half of their sizes (the same
        grid), the seam's weights were made and blurred twice, and the two fields took ~0.5 ms
        of a 720p frame's ~2.3 ms paste (2026-12-05)."""
        h, w = diff_y.shape
        small = (max(8, w // 4), max(8, h // 4))
        ring = cv2.inRange(alpha, _RAMP[0], _RAMP[1])  # the feather's ramp: 255 in it, else 0
        r_s = _shrink(ring, small, 4).astype(np.float32)
        r_s *= np.float32(1 / 255)
        total = float(r_s.sum())
        if total < 1:
            return np.zeros_like(diff_y), np.zeros_like(diff_c)
        d_s = cv2.merge([_shrink(diff_y, small, 4), _shrink(diff_c, small, 2)])
        # Only where the two pictures show the same thing: a seam stretch across which they
        # differ by far more than the light does (a chin over a white collar in one, the collar
        # in the other) says nothing of shading, and spread inwards it lit the chin up.
        luma = d_s[:, :, 0]
        typical = np.median(luma[r_s > 0])
        r_s[np.abs(luma - typical) > SEAM_AGREE] = 0
        total = float(r_s.sum())
        if total < 1:
            return np.zeros_like(diff_y), np.zeros_like(diff_c)
        sigma = max(2.0, 0.12 * self.scale / 4)
        weighted = d_s * r_s[:, :, None]
        mean = np.array(cv2.sumElems(weighted)[:3]) / total  # NumPy's axis sum: 70 us more
        # The kernel cut at 3 sigma, not OpenCV's 4 for floats (0.3 % of its weight, in both
        # sums alike): a third less work on the two blurs, the colour match's largest cost.
        ksize = 2 * math.ceil(3 * sigma) + 1
        num = cv2.GaussianBlur(weighted, (ksize, ksize), sigma)
        den = cv2.GaussianBlur(r_s, (ksize, ksize), sigma)[:, :, None]
        eps = 0.05
        field = (-(num + eps * mean) / (den + eps)).astype(np.float32)
        field_y = _grow(np.ascontiguousarray(field[:, :, 0]), (w, h), 4)
        field_c = _grow(np.ascontiguousarray(field[:, :, 1:]), (w // 2, h // 2), 2)
        return field_y, field_c


def _shrink(image: np.ndarray, size: tuple[int, int], k: int) -> np.ndarray:
    """``image`` shrunk to ``size`` (w, h) by area averaging, through OpenCV's integer-factor
    path where ``image`` is at least ``k`` times ``size`` (the < k rows and columns past that are
    dropped): with a factor that is not whole, ``INTER_AREA`` took 3.4x as long (a 720p paste's
    254x226 luma and its chroma: 230 against 67 us, of a colour match of ~830 us; 382x338: 504
    against 144 us; one core, 2026-12-06). The same trick as ``yuv.Resizer``'s, for boxes whose
    size changes from frame to frame."""
    w, h = size
    if image.shape[0] >= h * k and image.shape[1] >= w * k:
        image = image[: h * k, : w * k]
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def _grow(small: np.ndarray, size: tuple[int, int], k: int) -> np.ndarray:
    """The inverse of :func:`_shrink`: ``small`` enlarged (bilinear) to ``size`` (w, h), on the
    same grid (each small pixel ``k`` pixels wide from the top left), the rows and columns
    :func:`_shrink` dropped repeating the edge; a plain resize where it did not crop."""
    w, h = size
    sh, sw = small.shape[:2]
    if h < sh * k or w < sw * k:
        return cv2.resize(small, size, interpolation=cv2.INTER_LINEAR)
    grown = cv2.resize(small, (sw * k, sh * k), interpolation=cv2.INTER_LINEAR)
    if (w, h) == (sw * k, sh * k):
        return grown
    return cv2.copyMakeBorder(grown, 0, h - sh * k, 0, w - sw * k, cv2.BORDER_REPLICATE)


def _invert(m: np.ndarray) -> np.ndarray:
    """Inverse of a 2x3 affine, closed form (``np.linalg.inv`` wakes OpenBLAS's thread pool,
    which then spins on the two cores: ~8 % of a render for a 2x2 matrix)."""
    a, b, c, d = float(m[0, 0]), float(m[0, 1]), float(m[1, 0]), float(m[1, 1])
    e, f = float(m[0, 2]), float(m[1, 2])
    det = a * d - b * c
    ia, ib, ic, id_ = d / det, -b / det, -c / det, a / det
    # Plain floats: this runs a few times per frame, where NumPy's per-call overhead dominated.
    return np.array([[ia, ib, -(ia * e + ib * f)], [ic, id_, -(ic * e + id_ * f)]])


@lipsync_engines.register("sample")
class SampleEngine(LipSyncEngine):
    """Video twins on the CPU: unit selection from the person's own mouth bank."""

    name = "sample"
    kinds = ("video",)
    quality_label = "standard"

    def __init__(self, weights: SelectionWeights | None = None) -> None:
        self.weights = weights or SelectionWeights()

    def plan(
        self, pack: P.TwinPack, track: MouthTrack, offset: int = 0
    ) -> tuple[np.ndarray, np.ndarray]:
        """(base footage frame, bank index) for every frame of ``track``, whose first frame is
        output frame ``offset`` of the video."""
        tr = pack.track
        bank_frame = tr["bank_index"].astype(np.int64)
        base_idx = schedule(pack, len(track), offset)
        desc = tr["desc"][bank_frame]
        pose = tr["pose"][bank_frame]
        sharp = tr["sharp"][bank_frame]
        blur = np.clip(1.0 - sharp / max(float(np.median(sharp)), 1e-6), 0.0, 1.0)
        ranges = pack.meta["ranges"]
        scale = np.array(
            [max(1e-3, ranges[n]["p98"] - ranges[n]["p2"]) for n in ("open", "width", "jaw")]
        )
        chosen = viterbi_select(track.desc, track.closed, tr["pose"][base_idx], desc, pose, blur,
                                bank_frame, scale, self.weights,
                                resting=resting_frames(track.speaking))  # fmt: skip
        return base_idx, chosen

    def stream(
        self,
        pack: P.TwinPack,
        tracks: Iterable[MouthTrack],
        *,
        with_alpha: bool = False,
        view: View | None = None,
        frames: int | None = None,
    ) -> Iterator[SyncedFrame]:
        """Frames for each piece in turn. The base loop (and matte) decode continuously across
        pieces, from one endless schedule; selection runs per piece (pieces are sentence groups,
        so a piece boundary falls in a pause, where the mouth rests anyway). With a ``view``,
        base frames and mattes are placed in it in their decoding threads and mouths are pasted
        there (see ``LipSyncEngine.stream``); without one, in the whole frame. Frames are I420
        pictures (``render.yuv``).

        The loop crossfades' partner frames are decoded before the first frame when ``frames``
        says the video reaches a crossfade: decoded at the piece that first needs them, their
        decoder (three frame threads' buffers, 20 MB at 1080p) ran beside the base loop's and
        the matte's, with the queues full, and set a 1080p render's peak (the 1-minute
        benchmark render's, 0.3 s after its second piece began; 2026-12-02). Without
        ``frames`` they are decoded when first needed, as before."""
        bank_frame = pack.track["bank_index"]
        feather = view is not None  # whole frames, for no compositor: alphas as stored
        view = view if view is not None else whole_view(pack.size)
        place_alpha = view.place_alpha if feather else view.place
        paster = _Paster(pack, view)
        partners: _Partners | None = None
        bases: Generator[np.ndarray, None, None] | None = None
        alphas: Generator[np.ndarray, None, None] | None = None
        offset = 0
        try:
            if frames is not None and (crossfade_window(pack, 0, max(1, frames))[0] >= 0).any():
                partners = _Partners(pack, with_alpha, view, place_alpha, paster)
            bases = prefetch(base_frames(pack, loop_runs(pack), view, keep_loop=True))
            if with_alpha:
                alphas = prefetch(matte_frames(pack, loop_runs(pack), view.source,
                                               place=place_alpha, keep_loop=True))  # fmt: skip
            for track in tracks:
                n = len(track)
                base_idx, chosen = self.plan(pack, track, offset)
                partner, weight = crossfade_window(pack, offset, n)
                if partners is None and (partner >= 0).any():
                    partners = _Partners(pack, with_alpha, view, place_alpha, paster)
                for t in range(n):
                    base = next(bases)
                    alpha = next(alphas) if alphas is not None else None
                    j = int(chosen[t])
                    b = int(base_idx[t])
                    p = int(partner[t])
                    if p >= 0 and partners is not None:  # morphed with its partner, then the mouth
                        base, alpha, fade = partners.morph(b, p, float(weight[t]), base, alpha)
                        paster.paste(base, b, int(bank_frame[j]), j, fade.to_view,
                                     fade.partner_region, fade.residual)  # fmt: skip
                        yield SyncedFrame(base, alpha)  # a morph: not footage frame b as such
                    else:
                        changed = paster.paste(base, b, int(bank_frame[j]), j)
                        yield SyncedFrame(base, alpha, source=b, changed=changed)
                offset += n
        finally:
            paster.close()
            if bases is not None:
                bases.close()
            if alphas is not None:
                alphas.close()
            if partners is not None:
                partners.close()


class _Partners:
    """The footage frames (and mattes) that loop-point crossfades fade with: the same few
    frames at every jump, so they are decoded once, on first use, and kept in a frame store
    (``KeptFrames``): they are read only until the first jump's fades are morphed.

    So are the morphs themselves (:meth:`morph`): a loop frame and its partner morph the same
    way at every jump back (same frames, same weight), before any mouth is pasted, so each is
    morphed once and read back from a frame store at later jumps; the mouth is then pasted on
    the morph, where the loop frame's face has moved to (``_LoopMorph.to_view``, then along the
    residual flow kept around the face: ``_LoopMorph.residual``). Morphing two
    pasted frames at every jump (two mouths pasted, four warps of whole pictures and mattes) took
    ~10 % of the compositing thread's time in a 720p render (py-spy, 2026-12-02).
    """

    def __init__(
        self,
        pack: P.TwinPack,
        with_alpha: bool,
        view: View,
        place_alpha: Callable[[np.ndarray], np.ndarray],
        paster: _Paster,
    ) -> None:
        wanted = crossfade_partners(pack)
        keys = wanted.tolist()

        # Read only until every fade is morphed (the first jump), so kept off the process's
        # memory: a loop's 15 partner frames are 45 MB at 1080p, their mattes 30 MB more.
        def pictures() -> Iterable[tuple[int, np.ndarray]]:
            return zip(keys, base_frames(pack, wanted, view), strict=False)

        def mattes() -> Iterable[tuple[int, np.ndarray]]:
            alphas = matte_frames(pack, wanted, view.source, place=place_alpha)
            return zip(keys, alphas, strict=False)

        self.pictures = KeptFrames(pictures, len(keys))
        self.alphas = KeptFrames(mattes, len(keys)) if with_alpha else None
        self.paster = paster
        self._fades: dict[tuple[int, int, float], tuple[int, _LoopMorph]] = {}
        self._morphed = FrameStore(2 * len(wanted) + 2)  # more than one loop's fades
        self._morphed_alpha = FrameStore(2 * len(wanted) + 2)

    def morph(
        self, b: int, p: int, w: float, base: np.ndarray, alpha: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray | None, _LoopMorph]:
        """Loop frame ``b`` (``base``, ``alpha``) morphed with partner ``p`` at weight ``w``:
        a fresh picture (the caller pastes on it), its alpha, and the morph's geometry."""
        key = (b, p, round(w, 6))
        known = self._fades.get(key)
        if known is None:
            known = self._fades[key] = (len(self._fades), _LoopMorph.in_view(self.paster, b, p, w))
        slot, fade = known
        residual = None  # lives only while this fade frame is first morphed
        if self._morphed.covers(slot, 1):
            picture = self._morphed.get(slot)
        else:
            picture, residual = fade.pictures(base, self.pictures.get(p))
            self._morphed.put(slot, picture)  # before the mouth is pasted on it
            if residual is not None:
                fade.residual = _Residual(residual, yuv.size_of(picture), fade.face_box, -w)
        if alpha is not None and self.alphas is not None and p in self.alphas:
            if self._morphed_alpha.covers(slot, 1):
                alpha = self._morphed_alpha.get(slot)
            else:
                alpha = fade.alphas(alpha, self.alphas.get(p), residual)
                self._morphed_alpha.put(slot, alpha)
        return picture, alpha, fade

    def close(self) -> None:
        self.pictures.close()
        if self.alphas is not None:
            self.alphas.close()
        self._morphed.close()
        self._morphed_alpha.close()


# The flow that moves brows and eyelids at a loop crossfade: Gaussian weights of this share of
# the distance between the eyes' outer corners (~1.3 inter-ocular distances) around each point,
# on a grid of this many px (then resized).
FLOW_SIGMA_SPAN = 0.18
FLOW_STEP = 4

Flow = tuple[tuple[int, int, int, int], np.ndarray, np.ndarray]


def _expression_flow(
    targets: np.ndarray, offsets: np.ndarray, anchors: np.ndarray, span: float
) -> Flow | None:
    """A backward flow (box, fx, fy) that fetches the pixel at each ``targets`` point from
    ``targets + offsets`` and leaves the ``anchors`` (and everything ~3 sigma away) in place:
    normalised Gaussian weights, with a constant that lets the flow fade out far from every
    point; ``span`` (px) is the distance between the eyes' outer corners. None when nothing
    moves by a tenth of a pixel."""
    finite = np.isfinite(targets).all() and np.isfinite(offsets).all() and np.isfinite(span)
    if not len(targets) or not finite or float(np.abs(offsets).max()) < 0.1 or span <= 0:
        return None
    sigma = FLOW_SIGMA_SPAN * span
    lo = np.floor((targets.min(axis=0) - 3 * sigma) / 2).astype(int) * 2
    hi = np.ceil((targets.max(axis=0) + 3 * sigma) / 2).astype(int) * 2
    xs = np.arange(lo[0], hi[0], FLOW_STEP, dtype=np.float64)
    ys = np.arange(lo[1], hi[1], FLOW_STEP, dtype=np.float64)
    points = np.vstack([targets, anchors])
    values = np.vstack([offsets, np.zeros_like(anchors)])
    d2 = (xs[None, :, None] - points[None, None, :, 0]) ** 2 + (
        ys[:, None, None] - points[None, None, :, 1]
    ) ** 2
    g = np.exp(-d2 / (2 * sigma * sigma))
    norm = g.sum(axis=-1) + np.exp(-2.0)  # far from every point the flow fades to 0
    size = (int(hi[0] - lo[0]), int(hi[1] - lo[1]))
    fx = cv2.resize((g @ values[:, 0] / norm).astype(np.float32), size)
    fy = cv2.resize((g @ values[:, 1] / norm).astype(np.float32), size)
    return (int(lo[0]), int(lo[1]), int(hi[0]), int(hi[1])), fx, fy


# The residual flow of a loop crossfade: DIS optical flow on the lumas shrunk to at most
# RESIDUAL_PIXELS, a 1080p picture at a quarter of its size (the two aligned frames differ by
# a few px; the flow is smoothed so that it moves regions, not single pixels), applied in
# bands of rows so that its maps never exist for a whole 1080p picture at once. Where it stays under RESIDUAL_MIN_PX (95th percentile of its
# length) the two frames already agree and it is not applied. At half size with DIS's
# "medium" preset it cost a 1080p render 1.8 s of the compositing thread (15 fade frames)
# and 58 MB more at its peak; at a quarter with "fast", the hair and background of
# katie_hill's jump still show one outline.
#
# The flow stays at its small size and each band of rows is brought to full size only when
# it is applied (:func:`_flow_band`: the bilinear values ``cv2.resize`` of the whole gives,
# within a few hundredths of a px; see there). Brought to full size at once it was 16.6 MB
# at 1080p, held through both pictures' moves and the matte's, and with the bands' maps it set a 1080p render's peak:
# fades are morphed the first time each comes round (then kept), so in the first seconds,
# while both of the speech's decoders run (2026-12-05).
#
# A quarter of every picture's size, before 2026-12-06, left a 512-px view's flow 128 px
# across: katie_hill's nostrils (~12 px) were 3 px to it, and through the fade of her jump,
# where her head turns, they showed twice (four dark blobs in one frame). Shrunk by the smallest
# whole factor that fits the budget, a 512-px view's flow is made at half size (1280 × 720 at
# a third, 1080p at a quarter as before).
RESIDUAL_PIXELS = 480 * 270
RESIDUAL_SMOOTH_PX = 1.5  # at the flow's own scale
RESIDUAL_MIN_PX = 0.75
RESIDUAL_BAND = 256  # rows


def _residual_scale(w: int, h: int) -> int:
    """The smallest whole factor that shrinks a ``w`` × ``h`` plane to ``RESIDUAL_PIXELS``."""
    scale = 1
    while (w // scale) * (h // scale) > RESIDUAL_PIXELS:
        scale += 1
    return scale


def _residual_size(w: int, h: int) -> tuple[int, int]:
    """The (w, h) at which the residual flow of two ``w`` × ``h`` planes is made and kept."""
    scale = _residual_scale(w, h)
    return max(8, w // scale), max(8, h // scale)


def _residual_flow(
    a: np.ndarray, b: np.ndarray, face: tuple[float, float, float, float] | None = None
) -> np.ndarray | None:
    """Dense flow from luma plane ``a`` to ``b`` at ``_residual_size``, (h', w', 2) float32
    in full-size luma px: a(x) ≈ b(x + flow(x)) (:func:`_flow_band` brings rows of it to full
    size). None when the two already agree (see ``RESIDUAL_MIN_PX``) over the whole picture
    and over ``face`` (a box, px), if given: a face that fills a twentieth of the picture or
    less could move with the rest still, and was then left unaligned."""
    h, w = a.shape
    small = _residual_size(w, h)
    a_s = cv2.resize(a, small, interpolation=cv2.INTER_AREA)
    b_s = cv2.resize(b, small, interpolation=cv2.INTER_AREA)
    dis = cv2.DISOpticalFlow.create(cv2.DISOpticalFlow_PRESET_FAST)
    flow = dis.calc(a_s, b_s, np.zeros((small[1], small[0], 2), np.float32))
    to_full = np.array([w / small[0], h / small[1]], np.float32)  # flow px → full-size px
    flow = np.asarray(cv2.GaussianBlur(flow, (0, 0), RESIDUAL_SMOOTH_PX), np.float32) * to_full
    if not np.isfinite(flow).all():
        return None
    length = np.sqrt((flow * flow).sum(axis=-1))
    moved = float(np.percentile(length, 95))
    if face is not None:  # the box in flow px (np.round halves to even, as round does)
        box = np.asarray(face, np.float64) / np.tile(to_full.astype(np.float64), 2)
        x0, y0, x1, y1 = np.round(box).astype(int).clip(0)
        inside = length[y0:y1, x0:x1]
        if inside.size:
            moved = max(moved, float(np.percentile(inside, 95)))
    if moved < RESIDUAL_MIN_PX:
        return None
    return flow


class _Residual:
    """A loop fade's residual flow around the face, kept for the mouths pasted on its morph.

    The morph moves the loop frame's picture ``share`` (−w) of the way along the residual flow
    (:meth:`_LoopMorph.pictures`), but a mouth is pasted on the morph afterwards, placed by the
    face's affine alone. Where the flow is large (a head turned between the two frames of a
    jump: sadtalker_hdtf_katie_hill_8s), the pasted lower face then sat a few pixels off the
    morph's, and its cheek showed a second outline of the face for a frame or two. So the paste
    (its pixels and its alpha) is moved along the same flow. Only the flow's part around the
    face is kept (``face_box``, view px): its quarter-size whole would be ~1 MB a fade frame at
    1080p, for the render's length."""

    def __init__(
        self, flow: np.ndarray, size: tuple[int, int], face_box: tuple[float, ...], share: float
    ) -> None:
        fh, fw = flow.shape[:2]
        self.scale = (fw / size[0], fh / size[1])  # view px → flow px
        x0, y0, x1, y1 = face_box
        qx0 = int(np.clip(np.floor(x0 * self.scale[0]) - 1, 0, fw - 1))
        qy0 = int(np.clip(np.floor(y0 * self.scale[1]) - 1, 0, fh - 1))
        qx1 = int(np.clip(np.ceil(x1 * self.scale[0]) + 2, qx0 + 1, fw))
        qy1 = int(np.clip(np.ceil(y1 * self.scale[1]) + 2, qy0 + 1, fh))
        self.flow = flow[qy0:qy1, qx0:qx1].copy()
        self.origin = (qx0, qy0)
        self.share = share
        longest = float(np.sqrt((self.flow * self.flow).sum(axis=-1)).max())
        self.reach = int(np.ceil(abs(share) * longest))  # px a pasted pixel can move

    def displacement(self, box: tuple[int, int, int, int]) -> np.ndarray:
        """(h, w, 2) float32: how far each view pixel of ``box`` fetches from (luma px)."""
        return _flow_box(self.flow, self.scale, box, self.origin) * np.float32(self.share)

    def move(
        self, box: tuple[int, int, int, int], luma: np.ndarray, chroma: np.ndarray,
        alpha: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
        """A paste's luma and alpha (box size) and chroma (half size, 2 channels) moved along
        the flow as the morph moved the loop frame: out(x) = in(x + share · flow(x))."""
        d = self.displacement(box)
        map_x, map_y = yuv.fetch_maps(d[..., 0], d[..., 1])
        luma = cv2.remap(luma, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        alpha = cv2.remap(alpha, map_x, map_y, cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=(0,))  # fmt: skip
        hw, hh = chroma.shape[1], chroma.shape[0]
        half = np.asarray(cv2.resize(d, (hw, hh), interpolation=cv2.INTER_AREA), np.float32)
        half *= np.float32(0.5)  # chroma px
        cx, cy = yuv.fetch_maps(half[..., 0], half[..., 1])
        chroma = cv2.remap(chroma, cx, cy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return luma, chroma, alpha


def _flow_band(flow: np.ndarray, size: tuple[int, int], y0: int, y1: int) -> np.ndarray:
    """Rows ``y0:y1`` of ``flow`` (any size) bilinearly resized to ``size`` (w, h), as rows
    ``y0:y1`` of ``cv2.resize(flow, size)`` (half-pixel centres, edges held), without the rest.

    One affine warp: its coordinates are fixed-point (1/32 px of the small flow), so where the
    scale is not a power of two it differs from the resize by up to a few hundredths of a pixel
    (0.023 px at 1280 × 720, made at a third); at a half or a quarter (512-px views, 1080p), by
    under 1e-5 px.
    """
    w, h = size
    return _flow_box(flow, (flow.shape[1] / w, flow.shape[0] / h), (0, y0, w, y1))


def _flow_box(
    flow: np.ndarray, scale: tuple[float, float], box: tuple[int, int, int, int],
    origin: tuple[int, int] = (0, 0),
) -> np.ndarray:  # fmt: skip
    """The flow at the full-size pixels of ``box`` (x0, y0, x1, y1), bilinear, half-pixel
    centres, edges held (see :func:`_flow_band`). ``scale``: flow px per full-size px;
    ``flow`` may be a crop of the whole flow, its top left at ``origin`` (flow px)."""
    x0, y0, x1, y1 = box
    sx, sy = scale
    ox, oy = origin
    to_flow = np.array([[sx, 0.0, (x0 + 0.5) * sx - 0.5 - ox],
                        [0.0, sy, (y0 + 0.5) * sy - 0.5 - oy]])  # fmt: skip
    band = cv2.warpAffine(flow, to_flow, (x1 - x0, y1 - y0),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
    return np.asarray(band, dtype=np.float32)


def _move_along(moves: list[tuple[np.ndarray, float]], flow: np.ndarray) -> None:
    """Move each I420 picture of ``moves`` (in place, all of one size) its ``share`` of the way
    along ``flow`` (a backward fetch: out(x) = in(x + share · flow(x)); ``flow`` at any size,
    see :func:`_flow_band`), a band of rows at a time, each band of the flow made once for all
    of them."""
    w, h = yuv.size_of(moves[0][0])
    sources = [picture.copy() for picture, _ in moves]  # every band fetches from them as they were
    for y0 in range(0, h, RESIDUAL_BAND):
        y1 = min(h, y0 + RESIDUAL_BAND)
        band = _flow_band(flow, (w, h), y0, y1)
        for (picture, share), source in zip(moves, sources, strict=True):
            yuv.displace(picture, (0, y0, w, y1), share * band[..., 0], share * band[..., 1],
                         source=source)  # fmt: skip


def _plane_along(plane: np.ndarray, flow: np.ndarray, share: float) -> np.ndarray:
    """A single plane (an alpha) moved ``share`` of the way along ``flow``, as
    :func:`_move_along` moves a picture, into a new array, a band of rows at a time."""
    h, w = plane.shape[:2]
    out = np.empty_like(plane)
    xs = np.arange(w, dtype=np.float32)
    for y0 in range(0, h, RESIDUAL_BAND):
        y1 = min(h, y0 + RESIDUAL_BAND)
        band = _flow_band(flow, (w, h), y0, y1)
        band *= share
        map_x = band[..., 0]
        map_x += xs
        map_y = band[..., 1]
        map_y += np.arange(y0, y1, dtype=np.float32)[:, None]
        out[y0:y1] = cv2.remap(plane, map_x, map_y, cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
    return out


def _clip_flow(flow: Flow, size: tuple[int, int]) -> Flow:
    """``flow`` cut to a picture of ``size`` (w, h)."""
    (x0, y0, x1, y1), fx, fy = flow
    cx0, cy0 = max(0, x0), max(0, y0)
    cx1, cy1 = min(size[0] - size[0] % 2, x1), min(size[1] - size[1] % 2, y1)
    if cx1 <= cx0 or cy1 <= cy0:
        return (0, 0, 0, 0), fx[:0, :0], fy[:0, :0]
    cut = (slice(cy0 - y0, cy1 - y0), slice(cx0 - x0, cx1 - x0))
    return (cx0, cy0, cx1, cy1), fx[cut], fy[cut]


class _LoopMorph:
    """Crossfade of a loop frame with its partner *and* of their geometry.

    A plain dissolve of two head positions shows two faces for a moment. Here both frames are
    first moved (one affine each, fitted on the stable face points) to the same in-between head
    position, ``w`` of the way from the loop frame to the partner, then dissolved: the head
    glides from where the footage was to where the loop goes on.

    The brows and eyelids are moved as well, to their in-between shape (a smooth flow around
    them, zero at the stable points and away from the eyes): the two frames of a jump often
    differ in expression, and dissolving a frown over raised brows showed two pairs of brows for
    a few frames. The lower face is left to the affine, so the mouth pasted on the morph fits.

    What the face's affine cannot align (hair that swung, a head turned a little, the
    background the affine moved with the head) is then met half way by a dense optical flow
    between the two aligned frames (:func:`_residual_flow`): each is moved its share of the way
    along it before the dissolve, and the matte with it. Without it, a jump between two head
    poses showed two outlines of the hair and of the background for the fade's few frames
    (sadtalker_hdtf_katie_hill_8s, whose loop jumps every 3.4 s). The flows are made once per
    fade frame, like the morphs.
    """

    def __init__(self, lm_partner: np.ndarray, lm_base: np.ndarray, w: float) -> None:
        idx = list(STABLE)
        m = fit_affine(lm_partner[idx].astype(np.float64), lm_base[idx].astype(np.float64))
        eye = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
        self.w = w
        self.to_mid_partner = eye + (1.0 - w) * (m - eye)  # partner → in-between
        self.to_mid_base = eye + w * (_invert(m) - eye)  # base → in-between
        self.to_view = self.to_mid_base  # the loop frame's px → its place in the morph
        self.partner_region: tuple[np.ndarray, ...] = ()
        self.face_box = (0.0, 0.0, 0.0, 0.0)  # around where mouths go on the morph (view px)
        self.residual: _Residual | None = None  # set once the morph is made (``_Partners``)
        expr = list(EXPRESSION)
        moved_b = apply_affine(self.to_mid_base, lm_base.astype(np.float64))
        moved_p = apply_affine(self.to_mid_partner, lm_partner.astype(np.float64))
        target = (1.0 - w) * moved_b[expr] + w * moved_p[expr]
        anchors = 0.5 * (moved_b[idx] + moved_p[idx])
        span = float(np.linalg.norm(moved_b[33] - moved_b[263]))  # the eyes' outer corners
        # What the brow-and-eyelid flows are made from: they are made in ``pictures`` and not
        # kept (a render keeps its morphs' geometry to the end: ~2 MB of flows each at 1080p,
        # 13 MB for a 1080p render of this benchmark's twin; mattes do not use them).
        self._flow_from = (target, moved_b[expr] - target, moved_p[expr] - target, anchors, span)

    @classmethod
    def in_view(cls, paster: _Paster, b: int, p: int, w: float) -> _LoopMorph:
        """Loop frame ``b`` towards partner ``p`` at weight ``w``, in the paster's view, with
        where a mouth pasted on the morph goes: ``to_view`` takes the loop frame's source px to
        the in-between position, and ``partner_region`` (view px) is the partner's lower face
        there, which widens the paste so that neither frame's own chin shows under it."""
        fade = cls(apply_affine(paster.to_view, paster.landmarks[p]),
                   apply_affine(paster.to_view, paster.landmarks[b]), w)  # fmt: skip
        fade.to_view = compose_affine(fade.to_mid_base, paster.to_view)
        inv = compose_affine(fade.to_view, _invert(paster.to_crop[b]))  # crop → view
        regions = [apply_affine(inv, paster.polygon(b).astype(np.float64))]
        if paster.valid[p]:
            partner_to_view = compose_affine(fade.to_mid_partner, paster.to_view)
            inv = compose_affine(partner_to_view, _invert(paster.to_crop[p]))
            fade.partner_region = (apply_affine(inv, paster.polygon(p).astype(np.float64)),)
            regions += fade.partner_region
        pts = np.vstack(regions)
        (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
        mx, my = 0.5 * (x1 - x0), 0.5 * (y1 - y0)  # a mouth from another frame lands nearby
        fade.face_box = (x0 - mx, y0 - my, x1 + mx, y1 + my)
        return fade

    def pictures(
        self, base: np.ndarray, partner: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """The morph of two I420 pictures, and the residual flow it used (for :meth:`alphas`;
        None when the two aligned frames already agree)."""
        target, off_base, off_partner, anchors, span = self._flow_from
        a = yuv.warp(base, self.to_mid_base)
        b = yuv.warp(partner, self.to_mid_partner)
        for picture, offsets in ((a, off_base), (b, off_partner)):
            flow = _expression_flow(target, offsets, anchors, span)
            if flow is not None:
                yuv.displace(picture, *_clip_flow(flow, yuv.size_of(picture)))
        residual = _residual_flow(yuv.planes(a)[0], yuv.planes(b)[0], self.face_box)
        if residual is not None:
            _move_along([(a, -self.w), (b, 1.0 - self.w)], residual)
        return yuv.crossfade(a, b, self.w), residual

    def alphas(
        self, base: np.ndarray, partner: np.ndarray, residual: np.ndarray | None = None
    ) -> np.ndarray:
        """The morph of two alphas (h, w), along the pictures' ``residual`` flow when given."""
        size = (base.shape[1], base.shape[0])
        a = cv2.warpAffine(base, self.to_mid_base, size, flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
        b = cv2.warpAffine(partner, self.to_mid_partner, size, flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
        if residual is not None and residual.shape[1::-1] == _residual_size(*size):
            a = _plane_along(a, residual, -self.w)
            b = _plane_along(b, residual, 1.0 - self.w)
        return cv2.addWeighted(a, 1.0 - self.w, b, self.w, 0.0)
