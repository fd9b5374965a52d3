"""The mouth bank: every usable frame's lower face, cut out in a canonical pose, with its shape.

Canonical space: the eye midpoint is the origin, the eye line is the x axis and the inter-ocular
distance (IOD) is 1. Each frame gets an affine map image → crop pixels, fitted by least squares on
landmarks that do not move when the mouth does (eyes, nose, upper cheeks); the crop is that map
applied to the frame (pixels ``S`` per IOD unit, ``S`` about the face's own size, so no detail is
lost). A mouth is pasted back with the inverse map of the *base* frame.

Descriptors (IOD units, in canonical space): ``open`` (inner-lip gap), ``width`` (corner to
corner), ``jaw`` (nose tip to chin), ``teeth`` (how bright the inside of the mouth is relative to the
skin around it: 0 = dark or closed, ~1 = teeth as bright as skin).

The cuts themselves are stored and read by ``twins.cuts``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twinstudio.twins.faces import (
    CHIN,
    EYE_L,
    EYE_R,
    INNER_LIP_PAIRS,
    LIPS_INNER,
    MOUTH_CORNERS,
    NOSE_TIP,
    STABLE,
)

DESCRIPTORS = ("open", "width", "jaw", "teeth")
# The crop, in canonical units: wide enough for the cheeks, low enough for an open jaw.
CROP_X = (-1.3, 1.3)
CROP_Y = (0.25, 2.4)


def normalise_similarity(lm: np.ndarray) -> np.ndarray:
    """Landmarks (..., 478, 2) → canonical units by a similarity on the eyes only."""
    left = lm[..., list(EYE_L), :].mean(axis=-2)
    right = lm[..., list(EYE_R), :].mean(axis=-2)
    mid = (left + right) / 2
    d = right - left
    iod = np.linalg.norm(d, axis=-1)
    c, s = d[..., 0] / iod, d[..., 1] / iod
    rel = lm - mid[..., None, :]
    x = (c[..., None] * rel[..., 0] + s[..., None] * rel[..., 1]) / iod[..., None]
    y = (-s[..., None] * rel[..., 0] + c[..., None] * rel[..., 1]) / iod[..., None]
    return np.stack([x, y], axis=-1)


@dataclass(frozen=True)
class CropGeometry:
    """Where canonical units land in crop pixels: ``px = (u - origin) * scale``."""

    scale: float  # pixels per IOD unit
    template: np.ndarray  # (len(STABLE), 2) canonical units: where stable landmarks belong

    @property
    def size(self) -> tuple[int, int]:
        w = round((CROP_X[1] - CROP_X[0]) * self.scale)
        h = round((CROP_Y[1] - CROP_Y[0]) * self.scale)
        return w, h

    def to_px(self, units: np.ndarray) -> np.ndarray:
        return (units - np.array([CROP_X[0], CROP_Y[0]])) * self.scale

    def to_units(self, px: np.ndarray) -> np.ndarray:
        return px / self.scale + np.array([CROP_X[0], CROP_Y[0]])

    @classmethod
    def fit(cls, landmarks: np.ndarray, iod_px: np.ndarray) -> CropGeometry:
        """From the valid frames' landmarks (N, 478, 2) and their inter-ocular distances."""
        canon = normalise_similarity(landmarks)[:, list(STABLE), :]
        template = np.median(canon, axis=0).astype(np.float64)
        scale = float(np.clip(np.median(iod_px), 40, 220))
        return cls(scale, template)


def fit_affine(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares 2x3 affine taking points ``src`` (K, 2) onto ``dst`` (K, 2)."""
    a = np.hstack([src, np.ones((len(src), 1))])
    sol, *_ = np.linalg.lstsq(a, dst, rcond=None)
    return sol.T.astype(np.float64)  # (2, 3)


def apply_affine(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return pts @ m[:, :2].T + m[:, 2]


def invert_affine(m: np.ndarray) -> np.ndarray:
    """Inverse of a 2x3 affine, closed form (``np.linalg.inv`` wakes OpenBLAS's thread pool,
    which then spins on the two cores: ~8 % of a render for a 2x2 matrix)."""
    a, b, c, d = float(m[0, 0]), float(m[0, 1]), float(m[1, 0]), float(m[1, 1])
    e, f = float(m[0, 2]), float(m[1, 2])
    det = a * d - b * c
    ia, ib, ic, id_ = d / det, -b / det, -c / det, a / det
    # Plain floats: this runs a few times per frame, where NumPy's per-call overhead dominated.
    return np.array([[ia, ib, -(ia * e + ib * f)], [ic, id_, -(ic * e + id_ * f)]])


def compose_affine(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """The 2x3 affine ``outer ∘ inner`` (``inner`` applied first).

    Plain float arithmetic: the renderer composes a few affines per frame on the thread every
    other stage waits on, and NumPy's matrix product hands the GIL over on each call (a 2x2
    product was 3 % of that thread's samples in a 720p render, py-spy, 2026-12-02)."""
    (a, b, c), (d, e, f) = outer.tolist()
    (g, h, i), (j, k, m) = inner.tolist()
    return np.array([[a * g + b * j, a * h + b * k, a * i + b * m + c],
                     [d * g + e * j, d * h + e * k, d * i + e * m + f]])  # fmt: skip


def frame_to_crop(geom: CropGeometry, lm: np.ndarray) -> np.ndarray:
    """Affine image px → crop px for one frame's landmarks (478, 2)."""
    return fit_affine(lm[list(STABLE)].astype(np.float64), geom.to_px(geom.template))


def shape_descriptors(units: np.ndarray) -> np.ndarray:
    """(…, 478, 2) canonical-unit landmarks → (…, 3) open, width, jaw."""
    gaps = [units[..., lo, 1] - units[..., up, 1] for up, lo in INNER_LIP_PAIRS]
    opening = np.clip(np.mean(gaps, axis=0), 0.0, None)
    width = np.linalg.norm(
        units[..., MOUTH_CORNERS[1], :] - units[..., MOUTH_CORNERS[0], :], axis=-1
    )
    jaw = units[..., CHIN, 1] - units[..., NOSE_TIP, 1]
    return np.stack([opening, width, jaw], axis=-1).astype(np.float32)


def teeth_score(crop_rgb: np.ndarray, lm_crop: np.ndarray) -> float:
    """Brightness of the inner-mouth region relative to the skin above the upper lip."""
    import cv2

    poly = lm_crop[list(LIPS_INNER)].astype(np.int32)
    mask = np.zeros(crop_rgb.shape[:2], np.uint8)
    cv2.fillPoly(mask, [poly], (255,))
    if int(mask.sum()) // 255 < 12:
        return 0.0
    grey = cv2.cvtColor(crop_rgb, cv2.COLOR_RGB2GRAY)
    inside = float(np.percentile(grey[mask > 0], 80))
    y0 = int(lm_crop[NOSE_TIP, 1])
    y1 = int(lm_crop[13, 1])
    x0, x1 = int(lm_crop[MOUTH_CORNERS[0], 0]), int(lm_crop[MOUTH_CORNERS[1], 0])
    skin = grey[max(0, y0) : max(y0 + 1, y1 - 2), max(0, x0) : max(x0 + 1, x1)]
    ref = float(np.median(skin)) if skin.size else 128.0
    return float(np.clip(inside / max(ref, 1.0), 0.0, 1.5))


def sharpness(grey: np.ndarray) -> float:
    """Variance of the Laplacian: higher is sharper."""
    import cv2

    return float(cv2.Laplacian(grey, cv2.CV_32F).var())
