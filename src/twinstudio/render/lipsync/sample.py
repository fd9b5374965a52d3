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
   the footage is morphed into the loop frame over ~0.2 s (``crossfade.LoopMorph``): no jump,
   and no double face as a plain dissolve would show. The mouth is pasted on the morph and
   follows it, the face's affine and the residual flow both (``crossfade.Residual``).
Base frames (and mattes) are decoded a few frames ahead in a thread (``baseloop.prefetch``), the
loop's once per render: later turns read them back from a temporary file (``render.framestore``).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Generator, Iterable, Iterator

import cv2
import numpy as np

from twinstudio.render import yuv
from twinstudio.render.baseloop import (
    base_frames,
    crossfade_window,
    loop_runs,
    matte_frames,
    prefetch,
    schedule,
)
from twinstudio.render.framestore import ArrayStore
from twinstudio.render.framing import View, whole_view
from twinstudio.render.lipsync.base import LipSyncEngine, SyncedFrame, lipsync_engines
from twinstudio.render.lipsync.crossfade import Partners, Residual
from twinstudio.render.lipsync.select import (
    SelectionWeights,
    resting_frames,
    settled_frames,
    viterbi_select,
)
from twinstudio.render.motion import MouthTrack
from twinstudio.render.reuse import Box
from twinstudio.twins import pack as P
from twinstudio.twins.bank import apply_affine, compose_affine, invert_affine
from twinstudio.twins.cuts import MouthCrops
from twinstudio.twins.faces import JAW

# Where a paste's alpha is the feather's ramp (the seam the colour field is measured on), inclusive.
_RAMP = (np.array([6], np.uint8), np.array([249], np.uint8))
# Seam samples whose luma differs from the seam's median difference by more than this (levels)
# are content, not shading, and do not steer the colour match (``Paster._colour_fields``).
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


class Paster:
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
        inv = compose_affine(to_view, invert_affine(m_b))  # crop px → view px
        if extra:
            back = invert_affine(inv)
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
        moved: Residual | None = None,
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
        inv_roi = compose_affine(to_view, invert_affine(self.to_crop[b]))
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
                                resting=resting_frames(track.speaking),
                                settled=settled_frames(track.speaking, track.norm[:, 0],
                                                       pack.fps))  # fmt: skip
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
        paster = Paster(pack, view)
        partners: Partners | None = None
        bases: Generator[np.ndarray, None, None] | None = None
        alphas: Generator[np.ndarray, None, None] | None = None
        offset = 0
        try:
            if frames is not None and (crossfade_window(pack, 0, max(1, frames))[0] >= 0).any():
                partners = Partners(pack, with_alpha, view, place_alpha, paster)
            bases = prefetch(base_frames(pack, loop_runs(pack), view, keep_loop=True))
            if with_alpha:
                alphas = prefetch(matte_frames(pack, loop_runs(pack), view.source,
                                               place=place_alpha, keep_loop=True))  # fmt: skip
            for track in tracks:
                n = len(track)
                base_idx, chosen = self.plan(pack, track, offset)
                partner, weight = crossfade_window(pack, offset, n)
                if partners is None and (partner >= 0).any():
                    partners = Partners(pack, with_alpha, view, place_alpha, paster)
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
