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
   shading and white balance without touching fine detail. Only the alpha is feathered; pixels
   are never blurred, so teeth and lips stay as sharp as the footage.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from twinstudio.render.baseloop import base_frames, matte_frames, schedule
from twinstudio.render.lipsync.base import LipSyncEngine, SyncedFrame, lipsync_engines
from twinstudio.render.lipsync.select import SelectionWeights, viterbi_select
from twinstudio.render.motion import MouthTrack
from twinstudio.twins import pack as P
from twinstudio.twins.bank import MouthCrops, apply_affine, invert_affine
from twinstudio.twins.faces import JAW

# The bottom of the chin: the only part of the region allowed past the jaw line.
_CHIN_BOTTOM = (149, 176, 148, 152, 377, 400, 378)
# Across the face just under the nose, image-left to image-right, via the cheeks.
_TOP = (207, 205, 36, 203, 98, 97, 2, 326, 327, 423, 266, 425, 427)
_MOUTH_CENTRE = (13, 14)


def region_polygon(lmc: np.ndarray, scale: float) -> np.ndarray:
    """Lower-face polygon (crop px) from one frame's landmarks in crop px.

    Sides are pulled towards the mouth (so the seam runs over cheek skin, never over the face's
    outline against the background); only the bottom of the chin reaches past the jaw line.
    """
    centre = lmc[list(_MOUTH_CENTRE)].mean(axis=0)
    top = lmc[list(_TOP)].copy()
    top[:, 1] += 0.07 * scale  # start a little below the nostrils
    top[:, 0] = centre[0] + (top[:, 0] - centre[0]) * 0.9
    jaw = lmc[list(JAW)].copy()
    jaw[:, 0] = centre[0] + (jaw[:, 0] - centre[0]) * 0.8
    chin = np.isin(np.array(JAW), np.array(_CHIN_BOTTOM))
    jaw[chin, 1] += 0.08 * scale
    jaw[~chin, 1] = centre[1] + (jaw[~chin, 1] - centre[1]) * 0.92
    # The jaw runs left→right; go back right→left along the top to close the polygon.
    return np.vstack([jaw, top[::-1]]).astype(np.int32)


class _Paster:
    """Blends one bank crop onto one base frame (the per-frame work of the engine)."""

    def __init__(self, pack: P.TwinPack) -> None:
        tr = pack.track
        self.landmarks = tr["landmarks"]
        self.to_crop = tr["to_crop"].astype(np.float64)
        self.valid = tr["valid"]
        self.scale = float(pack.meta["crop"]["scale"])
        self.crop_size = tuple(int(v) for v in pack.meta["crop"]["size"])
        self.feather = max(3, round(0.09 * self.scale))
        self.origin = tr["crop_origin"].astype(np.float64)
        self.crops = MouthCrops(pack.file(P.MOUTHS))

    def paste(self, base: np.ndarray, b: int, frame_j: int, bank_j: int) -> np.ndarray:
        import cv2

        if not self.valid[b]:
            return base  # no face tracked in this base frame: leave it as filmed
        w, h = self.crop_size
        cut = self.crops.get(bank_j)
        m_b = self.to_crop[b]
        lm_b = apply_affine(m_b, self.landmarks[b].astype(np.float64))
        lm_j = apply_affine(self.to_crop[frame_j], self.landmarks[frame_j].astype(np.float64))
        mask = np.zeros((h, w), np.uint8)
        cv2.fillPoly(mask, [region_polygon(lm_b, self.scale)], (255,))
        cv2.fillPoly(mask, [region_polygon(lm_j, self.scale)], (255,))
        k = self.feather | 1
        # Feather inward (erode first) so the soft edge stays inside the region.
        core = cv2.erode(mask, np.ones((k // 2 + 1, k // 2 + 1), np.uint8))
        soft = cv2.GaussianBlur(core, (2 * k + 1, 2 * k + 1), k / 2.0).astype(np.float32) / 255

        inv = invert_affine(m_b)
        corners = apply_affine(inv, np.array([[0, 0], [w, 0], [0, h], [w, h]], np.float64))
        x0, y0 = np.floor(corners.min(axis=0)).astype(int)
        x1, y1 = np.ceil(corners.max(axis=0)).astype(int)
        hh, ww = base.shape[:2]
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(ww, x1), min(hh, y1)
        if x1 <= x0 or y1 <= y0:
            return base
        inv_roi = inv.copy()
        inv_roi[:, 2] -= (x0, y0)
        size = (x1 - x0, y1 - y0)
        # Bank cut px → bank frame px → canonical → base ROI px: one affine, one resampling.
        ox, oy = self.origin[frame_j]
        cut_to_canon = self.to_crop[frame_j].copy()
        cut_to_canon[:, 2] += cut_to_canon[:, :2] @ np.array([ox, oy], np.float64)
        m_cut = _compose(inv_roi, cut_to_canon)
        mouth = cv2.warpAffine(cut, m_cut, size, flags=cv2.INTER_CUBIC,
                               borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
        alpha = cv2.warpAffine(soft, inv_roi, size, flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=(0.0,))  # fmt: skip
        out = base if base.flags.writeable else base.copy()  # decoded frames are ours to edit
        roi = out[y0:y1, x0:x1].astype(np.float32)
        matched = self._colour_match(mouth, roi, alpha)
        a = alpha[:, :, None]
        out[y0:y1, x0:x1] = np.clip(roi + (matched - roi) * a, 0, 255).astype(np.uint8)
        return out

    def _colour_match(
        self, crop: np.ndarray, base_crop: np.ndarray, soft: np.ndarray
    ) -> np.ndarray:
        """Add a smooth correction field so ``crop`` matches ``base_crop`` around the seam."""
        import cv2

        ring = ((soft > 0.02) & (soft < 0.98)).astype(np.float32)
        small = (max(8, crop.shape[1] // 4), max(8, crop.shape[0] // 4))
        diff = base_crop.astype(np.float32) - crop.astype(np.float32)
        d_s = cv2.resize(diff, small, interpolation=cv2.INTER_AREA)
        r_s = cv2.resize(ring, small, interpolation=cv2.INTER_AREA)
        if r_s.sum() < 1:
            return crop.astype(np.float32)
        sigma = max(2.0, 0.12 * self.scale / 4)
        mean = (d_s * r_s[:, :, None]).sum(axis=(0, 1)) / r_s.sum()
        num = cv2.GaussianBlur(d_s * r_s[:, :, None], (0, 0), sigma)
        den = cv2.GaussianBlur(r_s, (0, 0), sigma)[:, :, None]
        eps = 0.05
        field = (num + eps * mean) / (den + eps)
        field = cv2.resize(field, (crop.shape[1], crop.shape[0]), interpolation=cv2.INTER_LINEAR)
        return crop.astype(np.float32) + field


def _compose(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """The 2x3 affine ``outer ∘ inner``."""
    return np.hstack([outer[:, :2] @ inner[:, :2], outer[:, :2] @ inner[:, 2:3] + outer[:, 2:3]])


@lipsync_engines.register("sample")
class SampleEngine(LipSyncEngine):
    """Video twins on the CPU: unit selection from the person's own mouth bank."""

    name = "sample"
    kinds = ("video",)
    quality_label = "standard"

    def __init__(self, weights: SelectionWeights | None = None) -> None:
        self.weights = weights or SelectionWeights()

    def plan(self, pack: P.TwinPack, track: MouthTrack) -> tuple[np.ndarray, np.ndarray]:
        """(base footage frame, bank index) for every output frame."""
        tr = pack.track
        bank_frame = tr["bank_index"].astype(np.int64)
        base_idx = schedule(pack, len(track))
        desc = tr["desc"][bank_frame]
        pose = tr["pose"][bank_frame]
        sharp = tr["sharp"][bank_frame]
        blur = np.clip(1.0 - sharp / max(float(np.median(sharp)), 1e-6), 0.0, 1.0)
        ranges = pack.meta["ranges"]
        scale = np.array(
            [max(1e-3, ranges[n]["p98"] - ranges[n]["p2"]) for n in ("open", "width", "jaw")]
        )
        chosen = viterbi_select(track.desc, track.closed, tr["pose"][base_idx], desc, pose, blur,
                                bank_frame, scale, self.weights)  # fmt: skip
        return base_idx, chosen

    def frames(
        self, pack: P.TwinPack, track: MouthTrack, *, with_alpha: bool = False
    ) -> Iterator[SyncedFrame]:
        base_idx, chosen = self.plan(pack, track)
        bank_frame = pack.track["bank_index"]
        paster = _Paster(pack)
        alphas = matte_frames(pack, base_idx) if with_alpha else None
        for t, base in enumerate(base_frames(pack, base_idx)):
            if t >= len(base_idx):
                break
            j = int(chosen[t])
            rgb = paster.paste(base, int(base_idx[t]), int(bank_frame[j]), j)
            alpha = next(alphas) if alphas is not None else None
            yield SyncedFrame(rgb, alpha)
