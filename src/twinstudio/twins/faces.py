"""Face tracking: 478 MediaPipe face-mesh landmarks on every frame, smoothed without lag.

``FaceTracker`` wraps MediaPipe (loaded lazily on first use). ``smooth_track`` fills brief
losses by interpolation and smooths with a One-Euro filter run forwards *and* backwards: the
footage is processed offline, so the two passes' lags cancel while jitter still goes.
The landmark index sets below are the MediaPipe face-mesh topology.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np

from twinstudio.twins.native_log import filtered_stderr

N_LANDMARKS = 478
# Eye corners (outer, inner) of the image-left and image-right eye.
EYE_L = (33, 133)
EYE_R = (362, 263)
NOSE_TIP = 1
CHIN = 152
MOUTH_CORNERS = (61, 291)
INNER_LIP_PAIRS = ((82, 87), (13, 14), (312, 317), (81, 178), (311, 402))
LIPS_OUTER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291,
              375, 321, 405, 314, 17, 84, 181, 91, 146)  # fmt: skip
LIPS_INNER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308,
              324, 318, 402, 317, 14, 87, 178, 88, 95)  # fmt: skip
# Lower half of the face oval, from the image-left cheek (ear level) round the chin.
JAW = (234, 93, 132, 58, 172, 136, 150, 149, 176, 148, 152,
       377, 400, 378, 379, 365, 397, 288, 361, 323, 454)  # fmt: skip
# Points that barely move when the mouth opens: used to align one frame's face to another's.
STABLE = (33, 133, 362, 263, 6, 168, 197, 195, 5, 4, 1, 98, 327, 129, 358,
          50, 280, 205, 425, 36, 266, 116, 345, 234, 454)  # fmt: skip
# Under the nose: the upper boundary of the pasted lower face.
UNDER_NOSE = (203, 98, 97, 2, 326, 327, 423)


def inter_ocular(lm: np.ndarray) -> np.ndarray:
    """Distance between the eye centres (px) for landmarks shaped (..., 478, 2)."""
    left = lm[..., list(EYE_L), :].mean(axis=-2)
    right = lm[..., list(EYE_R), :].mean(axis=-2)
    return np.linalg.norm(right - left, axis=-1)


# A face too small for the face mesh's own detector (a wide shot: a person at a desk filmed
# across the room) is found with the full-range detector and tracked in a crop this many times
# its detected box, so the mesh sees it as a close-up. The fallback is tried only where the
# whole frame shows no face, so close-up footage is tracked exactly as before. Found by
# self-reconstruction on the dev clips shrunk to 35 % of a 1280x720 frame's height
# (``benchmarks/recode.py wide``): five of the ten were refused, "a face was found in only 0 %
# of the footage", faces 70-130 px high that a viewer sees at once (2026-12-07).
CROP_SCALE = 3.0
# A crop nearly as large as the frame adds nothing to what the whole frame gave.
CROP_MAX_SHARE = 0.8
# The crop follows the face when its centre drifts this far (share of the crop's side) from the
# crop's; it is otherwise kept still, so the mesh tracks as it does over a whole frame.
CROP_RECENTRE = 0.15


def _video_mesh() -> Any:
    import mediapipe as mp

    return mp.solutions.face_mesh.FaceMesh(
        static_image_mode=False,
        max_num_faces=1,
        refine_landmarks=True,
        min_detection_confidence=0.5,
        min_tracking_confidence=0.5,
    )


def _full_range_detector() -> Any:
    import mediapipe as mp

    return mp.solutions.face_detection.FaceDetection(
        model_selection=1, min_detection_confidence=0.6
    )


def _square(shape: tuple[int, ...], centre: np.ndarray, side: int) -> tuple[int, int, int]:
    """(x, y, side) of a square of ``side`` (at most the picture's short side) centred on
    ``centre`` as far as a ``shape`` picture allows."""
    h, w = shape[:2]
    side = int(min(side, h, w))
    x = int(np.clip(round(centre[0] - side / 2), 0, w - side))
    y = int(np.clip(round(centre[1] - side / 2), 0, h - side))
    return x, y, side


def _crop_round(detection: Any, shape: tuple[int, ...]) -> tuple[int, int, int]:
    """(x, y, side): a square ``CROP_SCALE`` times a MediaPipe ``detection``'s box, round its
    middle, inside a ``shape`` picture."""
    h, w = shape[:2]
    box = detection.location_data.relative_bounding_box
    side = round(CROP_SCALE * max(box.width * w, box.height * h))
    centre = np.array([(box.xmin + box.width / 2) * w, (box.ymin + box.height / 2) * h])
    return _square(shape, centre, side)


class FaceTracker:
    """MediaPipe face mesh in video mode (tracks between frames, detects only when lost); faces
    too small for its detector are found with the full-range one and tracked in a crop."""

    def __init__(self, max_side: int = 1280) -> None:
        self.max_side = max_side
        self._mesh: Any = None
        self._crop_mesh: Any = None
        self._detector: Any = None
        self._crop: tuple[int, int, int] | None = None  # (x, y, side) in the scaled frame

    def _scaled(self, rgb: np.ndarray) -> np.ndarray:
        import cv2

        h, w = rgb.shape[:2]
        scale = self.max_side / max(h, w)
        if scale >= 1.0:
            return rgb
        # The mesh model sees a 192 px face crop anyway: a smaller input loses nothing.
        return cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)

    def _run(self, attr: str, make: Callable[[], Any], rgb: np.ndarray) -> Any:
        """``process(rgb)`` of the model held in ``attr``, made by ``make`` on first use: that
        first call under ``filtered_stderr``, where MediaPipe writes its start-up log lines
        (``twins.native_log``)."""
        model = getattr(self, attr)
        if model is not None:
            return model.process(rgb)
        with filtered_stderr():
            model = make()
            setattr(self, attr, model)
            return model.process(rgb)

    def landmarks(
        self, rgb: np.ndarray, full_size: tuple[int, int] | None = None
    ) -> np.ndarray | None:
        """(478, 2) float32 pixel coordinates of the tracked face, or None when none is seen.

        ``full_size`` (w, h): return coordinates for that size instead of ``rgb``'s own.
        """
        scaled = self._scaled(rgb)
        w, h = full_size or (rgb.shape[1], rgb.shape[0])
        found = None if self._crop is not None else self._run("_mesh", _video_mesh, scaled)
        if found is not None and found.multi_face_landmarks:
            return _points(found.multi_face_landmarks[0].landmark, 0, 0, w, h)
        rel = self._in_crop(scaled)
        if rel is None:
            return None
        rel[:, 0] *= w / scaled.shape[1]
        rel[:, 1] *= h / scaled.shape[0]
        return rel

    def _in_crop(self, scaled: np.ndarray) -> np.ndarray | None:
        """The face's landmarks in ``scaled``'s pixels, tracked in a crop round it (found with
        the full-range detector when there is no crop yet), or None."""
        if self._crop is None:
            self._crop = self._crop_for(scaled)
            if self._crop is None:
                return None
        x, y, side = self._crop
        crop = np.ascontiguousarray(scaled[y : y + side, x : x + side])
        result = self._run("_crop_mesh", _video_mesh, crop)
        if not result.multi_face_landmarks:
            self._crop = None  # lost: look for it again (the whole frame first) next time
            return None
        out = _points(result.multi_face_landmarks[0].landmark, x, y, side, side)
        centre = (out.min(axis=0) + out.max(axis=0)) / 2
        if np.abs(centre - (x + side / 2, y + side / 2)).max() > CROP_RECENTRE * side:
            self._crop = _square(scaled.shape, centre, side)
        return out

    def _crop_for(self, scaled: np.ndarray) -> tuple[int, int, int] | None:
        """``_crop_round`` the largest face the full-range detector sees; None when there is
        none, or the square would be most of the frame anyway."""
        found = self._run("_detector", _full_range_detector, scaled).detections or []
        if not found:
            return None

        def area(det: Any) -> float:
            box = det.location_data.relative_bounding_box
            return float(box.width * box.height)

        crop = _crop_round(max(found, key=area), scaled.shape)
        return None if crop[2] >= CROP_MAX_SHARE * min(scaled.shape[:2]) else crop

    def count_faces(self, rgb: np.ndarray, min_height_frac: float = 0.08) -> int:
        """Faces of a plausible speaker size in one frame (full-range detector, stricter score)."""
        result = self._run("_detector", _full_range_detector, self._scaled(rgb))
        n = 0
        for det in result.detections or []:
            box = det.location_data.relative_bounding_box
            if box.height >= min_height_frac:
                n += 1
        return n

    def close(self) -> None:
        for model in (self._mesh, self._crop_mesh, self._detector):
            if model is not None:
                model.close()
        self._mesh = self._crop_mesh = self._detector = None
        self._crop = None


def still_landmarks(rgb: np.ndarray) -> list[np.ndarray]:
    """Landmarks of every face in a still image (static mode, up to 3 faces). Where the mesh
    sees none over the whole picture (a half-body photo: its face a tenth of the height), each
    face the full-range detector finds is looked at again in a crop round it."""
    import mediapipe as mp

    h, w = rgb.shape[:2]
    with filtered_stderr(), mp.solutions.face_mesh.FaceMesh(
        static_image_mode=True, max_num_faces=3, refine_landmarks=True,
        min_detection_confidence=0.5,
    ) as mesh:  # fmt: skip
        result = mesh.process(rgb)
        faces = [_points(face.landmark, 0, 0, w, h) for face in result.multi_face_landmarks or []]
        if faces:
            return faces
        with mp.solutions.face_detection.FaceDetection(
            model_selection=1, min_detection_confidence=0.5
        ) as detector:
            found = detector.process(rgb).detections or []
        for det in found[:3]:
            x, y, side = _crop_round(det, rgb.shape)
            crop = mesh.process(np.ascontiguousarray(rgb[y : y + side, x : x + side]))
            if crop.multi_face_landmarks:
                faces.append(_points(crop.multi_face_landmarks[0].landmark, x, y, side, side))
    return faces


def _points(landmarks: Any, x: float, y: float, w: float, h: float) -> np.ndarray:
    """(478, 2) float32 pixels of MediaPipe's relative ``landmarks`` in a ``w`` x ``h`` box at
    (``x``, ``y``)."""
    return np.array([(x + p.x * w, y + p.y * h) for p in landmarks], dtype=np.float32)


def mouth_outside(lm: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Per face of ``lm`` (..., 478, 2): whether any point of the outer lips lies outside a
    ``size`` (w, h) picture (the mesh places the whole face, also what the frame cuts off)."""
    lips = lm[..., list(LIPS_OUTER), :]
    w, h = size
    across = (lips[..., 0] < 0) | (lips[..., 0] > w - 1)
    outside = across | (lips[..., 1] < 0) | (lips[..., 1] > h - 1)
    return np.asarray(outside.any(axis=-1))


def fill_gaps(track: np.ndarray, valid: np.ndarray, max_gap: int) -> np.ndarray:
    """Linearly interpolate runs of missing frames up to ``max_gap`` long; returns new validity.

    ``track`` (T, 478, 2) is filled in place; frames of longer gaps stay invalid.
    """
    valid = valid.copy()
    idx = np.flatnonzero(valid)
    if len(idx) == 0:
        return valid
    for a, b in itertools.pairwise(idx):
        gap = b - a - 1
        if 0 < gap <= max_gap:
            w = (np.arange(1, gap + 1) / (gap + 1))[:, None, None]
            track[a + 1 : b] = track[a] * (1 - w) + track[b] * w
            valid[a + 1 : b] = True
    return valid


def _one_euro(x: np.ndarray, fps: float, min_cutoff: float, beta: float) -> np.ndarray:
    """One-Euro filter along axis 0 of (T, ...) data (one causal pass)."""

    def alpha(cutoff: np.ndarray | float) -> np.ndarray | float:
        tau = 1.0 / (2 * np.pi * cutoff)
        return 1.0 / (1.0 + tau * fps)

    out = np.empty_like(x)
    out[0] = x[0]
    dx_prev = np.zeros_like(x[0])
    a_d = alpha(1.0)
    for t in range(1, len(x)):
        dx = (x[t] - out[t - 1]) * fps
        dx_hat = a_d * dx + (1 - a_d) * dx_prev
        a = alpha(min_cutoff + beta * np.abs(dx_hat))
        out[t] = a * x[t] + (1 - a) * out[t - 1]
        dx_prev = dx_hat
    return out


def smooth_track(track: np.ndarray, valid: np.ndarray, fps: float) -> np.ndarray:
    """Zero-lag One-Euro smoothing of (T, 478, 2) landmarks, run per valid segment.

    Coordinates are expressed in inter-ocular units first so that the filter's speed
    threshold means the same thing for a small face and for a large one.
    """
    out = track.copy()
    iod = float(np.median(inter_ocular(track[valid]))) if valid.any() else 1.0
    idx = np.flatnonzero(valid)
    if len(idx) == 0:
        return out
    # Split into contiguous valid segments.
    breaks = np.flatnonzero(np.diff(idx) > 1)
    starts = np.concatenate([[idx[0]], idx[breaks + 1]])
    ends = np.concatenate([idx[breaks], [idx[-1]]]) + 1
    for s, e in zip(starts, ends, strict=True):
        seg = track[s:e] / iod
        if len(seg) < 3:
            continue
        fwd = _one_euro(seg, fps, min_cutoff=1.5, beta=3.0)
        bwd = _one_euro(seg[::-1], fps, min_cutoff=1.5, beta=3.0)[::-1]
        out[s:e] = (fwd + bwd) * 0.5 * iod
    return out


def head_pose(lm: np.ndarray) -> np.ndarray:
    """Rough (yaw, pitch, roll) per frame from landmarks (..., 478, 2).

    yaw/pitch: nose-tip offset from the eye midpoint in inter-ocular units (not degrees; enough to
    compare frames); roll: eye-line angle in radians.
    """
    left = lm[..., list(EYE_L), :].mean(axis=-2)
    right = lm[..., list(EYE_R), :].mean(axis=-2)
    mid = (left + right) / 2
    d = right - left
    iod = np.linalg.norm(d, axis=-1)
    roll = np.arctan2(d[..., 1], d[..., 0])
    c, s = np.cos(-roll), np.sin(-roll)
    off = lm[..., NOSE_TIP, :] - mid
    ox = c * off[..., 0] - s * off[..., 1]
    oy = s * off[..., 0] + c * off[..., 1]
    return np.stack([ox / iod, oy / iod, roll], axis=-1).astype(np.float32)
