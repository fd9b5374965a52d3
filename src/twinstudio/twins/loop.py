"""Base-loop points: the stretch of footage that carries head and body, and where to jump back.

The renderer plays frames ``start .. end-1`` and then jumps back to ``start``. ``end`` is chosen so
that frame ``end`` (the one that would naturally follow) looks as much as possible like frame
``start``: head position, pose, face shape, brows and eyelids, with the mouth left out (it is
replaced anyway), and so do the frames around them, so that the head moves on through the jump
the way it was moving (:func:`_window_distance`).
Longer loops are preferred because every jump is a small risk. Blinks are kept (the base loop is
the footage itself, eyes and all), but a loop point is never put inside a blink: a jump from
half-closed eyes to open ones is the most visible cut there is. Nor is one put where a blink
falls in the crossfade that hides the jump (``CROSSFADE_S`` either side): the fade would dissolve
closed eyelids over open ones, and show both.

Edited footage often starts with a fade-in, ends with a fade-out or holds a cut. Played in a loop
such a jump of the whole picture flashes again at every turn of the loop (a development clip's
first three frames brighten by ~7 grey levels each, against 0.4 between its other frames), so
frames where the picture jumps (:func:`picture_jumps`) break the stretch a loop may span.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from twinstudio.twins.faces import STABLE, head_pose, inter_ocular

# Upper/lower eyelid landmarks of the two eyes (MediaPipe face mesh).
EYELIDS = ((159, 145), (386, 374))
# Brows and eyelids: the expression a loop point must match besides the head's position, since
# the crossfade at the jump dissolves one frame's over the other's (a frown over raised brows
# shows two pairs of brows for a few frames).
EXPRESSION = (70, 63, 105, 66, 107, 300, 293, 334, 296, 336, 159, 145, 386, 374)
BLINK_RATIO = 0.55  # eyes open less than this share of their usual opening: a blink
# How long the renderer crossfades around a jump back to the loop's start (render.baseloop).
CROSSFADE_S = 0.2
# Loop points match the frames this far either side of the jump too, not only the two frames at
# it (the head's motion through the jump, see :func:`_window_distance`): one frame at 25-30 fps.
# On the ten development clips, the rendered head's largest step through the first loop fade,
# over the 95th percentile of its steps in the 40 frames before (benchmarks/lipsync.py, "loop"),
# averaged 1.32 with the two frames at the jump matched alone, 1.00 with one frame either side
# matched too, 1.17 with two (1.01 with two, at a quarter of the weight); above 1.0 on five clips,
# on one, on four (two).
MATCH_S = 0.04
# A best jump further from its start than this many of the footage's 95th-percentile steps is
# not hidden by a crossfade: the loop plays back and forth instead (:func:`plan_loop`).
BOUNCE_MISMATCH = 8.0


def eye_openness(landmarks: np.ndarray) -> np.ndarray:
    """(T,) mean eyelid gap in inter-ocular units."""
    iod = np.maximum(inter_ocular(landmarks), 1e-6)
    gaps = [np.linalg.norm(landmarks[:, lo] - landmarks[:, up], axis=-1) for up, lo in EYELIDS]
    return (np.mean(gaps, axis=0) / iod).astype(np.float32)


def _near(flags: np.ndarray, reach: int) -> np.ndarray:
    """(T,) True where a flagged frame lies within ``reach`` frames either side."""
    sums = np.concatenate([[0], np.cumsum(flags.astype(np.int64))])
    idx = np.arange(len(flags))
    lo = np.clip(idx - reach, 0, len(flags))
    hi = np.clip(idx + reach + 1, 0, len(flags))
    return (sums[hi] - sums[lo]) > 0


def blink_frames(openness: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(T,) True on frames of a blink (eyes much less open than the person's median), ±1 frame."""
    if not valid.any():
        return np.zeros(len(openness), bool)
    closed = valid & (openness < BLINK_RATIO * float(np.median(openness[valid])))
    return _near(closed, 1)


# A picture jump: mean |Δ| of a 64 px grey thumbnail from the previous frame above this many
# times the footage's median change and above the absolute floor (grey levels). Head motion
# in the development clips peaks at ~3x the median; a fade or a cut is far above it.
JUMP_FACTOR = 6.0
JUMP_FLOOR = 4.0
THUMBNAIL_WIDTH = 64


def frame_thumbnail(rgb: np.ndarray) -> np.ndarray:
    """A 64 px wide grey float32 thumbnail of a frame (what :func:`picture_jumps` compares)."""
    import cv2

    h, w = rgb.shape[:2]
    size = (THUMBNAIL_WIDTH, max(1, round(h * THUMBNAIL_WIDTH / max(w, 1))))
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    return cv2.resize(grey, size, interpolation=cv2.INTER_AREA).astype(np.float32)


def picture_jumps(change: np.ndarray) -> np.ndarray:
    """(T,) True on frames that differ from the one before as only a cut or a fade does, given
    ``change`` (T,) the mean |Δ| of each frame's thumbnail from the previous one's (0 first)."""
    if len(change) < 3:
        return np.zeros(len(change), bool)
    typical = float(np.median(change[1:]))
    return change > max(JUMP_FACTOR * typical, JUMP_FLOOR)


def longest_valid_run(valid: np.ndarray) -> tuple[int, int]:
    """[start, end) of the longest run of True."""
    best = (0, 0)
    start = None
    for i, v in enumerate([*valid.tolist(), False]):
        if v and start is None:
            start = i
        elif not v and start is not None:
            if i - start > best[1] - best[0]:
                best = (start, i)
            start = None
    return best


def _window_distance(
    feat: np.ndarray, tails: np.ndarray, heads: np.ndarray, reach: int
) -> np.ndarray:
    """(tails, heads): half the distance between ``feat[tail]`` and ``feat[head]``, half the
    mean distance between ``feat[tail + k]`` and ``feat[head + k]`` for ``0 < |k| ≤ reach``
    (where both exist).

    Two frames can look alike while the head passes through the same place in opposite
    directions: a jump between them reverses the motion in one frame, a snap the crossfade
    cannot hide (a development clip's head went +5.6 px a frame before its old loop point and
    -8.5 after it: the rendered head moved 22 source px in the frame after the fade, 2.7x the
    footage's own 95th-percentile step). Matching the frames around the jump too keeps the
    motion going the same way (Schödl et al., *Video Textures*, 2000: the distance matrix
    filtered along its diagonal)."""
    n = len(feat)

    def dist(t: np.ndarray, h: np.ndarray) -> np.ndarray:
        return np.linalg.norm(feat[t][:, None, :] - feat[h][None, :, :], axis=-1)

    total = np.zeros((len(tails), len(heads)))
    count = np.zeros_like(total)
    for k in [*range(-reach, 0), *range(1, reach + 1)]:
        t, h = tails + k, heads + k
        both = ((t >= 0) & (t < n))[:, None] & ((h >= 0) & (h < n))[None, :]
        total += np.where(both, dist(np.clip(t, 0, n - 1), np.clip(h, 0, n - 1)), 0.0)
        count += both
    at = dist(tails, heads)
    return 0.5 * at + 0.5 * np.where(count > 0, total / np.maximum(count, 1), at)


def _loop_features(landmarks: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """What a loop point must match, per frame (stable points and expression in inter-ocular
    units, head pose); the divisor that makes a distance between two rows one per point; and
    the (T - 1,) distances so divided between consecutive frames (the head's own steps)."""
    iod = float(np.median(inter_ocular(landmarks)))
    points = list(STABLE) + list(EXPRESSION)
    stable = landmarks[:, points, :].reshape(len(landmarks), -1) / iod
    pose = head_pose(landmarks) * np.array([1.0, 1.0, 3.0], np.float32)
    feat = np.hstack([stable, pose * 2.0])
    per_point = float(np.sqrt(len(points)))
    return feat, per_point, np.linalg.norm(np.diff(feat, axis=0), axis=-1) / per_point


def _best_jump(
    feat: np.ndarray, per_point: float, steps: np.ndarray, fps: int, blinks: np.ndarray | None
) -> tuple[int, int, float]:
    """(start, end, mismatch) within one valid run (its :func:`_loop_features`, and its
    ``blinks``): the best jump, and how far frame ``end`` (with the frames around it) is from
    ``start`` in units of the run's own 95th-percentile step between two frames."""
    n = len(feat)
    third = max(1, n // 3)
    step = max(1, n // 900)
    heads = np.arange(0, third, step)
    tails = np.arange(n - third, n, step)
    # Distance between the would-be next frame (tail) and the loop start (head), and between
    # the frames around them (the motion through the jump, :data:`MATCH_S`).
    d = _window_distance(feat, tails, heads, max(1, round(MATCH_S * fps))) / per_point
    length = (tails[:, None] - heads[None, :]) / n
    cost = d - 0.02 * length
    if blinks is not None:
        cost = cost + 10.0 * (blinks[tails][:, None] | blinks[heads][None, :])
        # The jump is hidden by a crossfade of the frames around the two points: a blink in it
        # shows two pairs of eyelids at once, so it is avoided too, less strongly.
        near = _near(blinks, max(2, round(CROSSFADE_S * fps)))
        cost = cost + 3.0 * (near[tails][:, None] | near[heads][None, :])
    ti, hi = np.unravel_index(int(np.argmin(cost)), cost.shape)
    typical = max(float(np.percentile(steps, 95)), 1e-6)
    start, end = int(heads[hi]), int(tails[ti])
    return start, max(end, start + 1), float(d[ti, hi]) / typical


def choose_loop(
    landmarks: np.ndarray, valid: np.ndarray, fps: int, blinks: np.ndarray | None = None
) -> tuple[int, int]:
    """(start, end) frame indices of the base loop's best jump (:func:`plan_loop`, never
    bouncing); ``blinks`` (T,) frames no jump may touch."""
    plan = plan_loop(landmarks, valid, fps, blinks, bounce_after=math.inf)
    return plan.start, plan.end


@dataclass(frozen=True)
class LoopPlan:
    """How the base loop plays: ``start`` … ``end - 1`` and back to ``start`` (with a
    crossfade), or, ``bounce``, forward to ``end - 1`` then backward to ``start`` and so on."""

    start: int
    end: int
    bounce: bool = False

    def as_meta(self) -> dict[str, int | bool]:
        """The pack's ``meta["loop"]`` (``bounce`` only when set: older packs lack it)."""
        meta: dict[str, int | bool] = {"start": self.start, "end": self.end}
        if self.bounce:
            meta["bounce"] = True
        return meta


def plan_loop(
    landmarks: np.ndarray,
    valid: np.ndarray,
    fps: int,
    blinks: np.ndarray | None = None,
    bounce_after: float = BOUNCE_MISMATCH,
) -> LoopPlan:
    """The base loop for this footage: the best jump back when it can be hidden (no further
    from its start than ``bounce_after`` typical steps), else a loop that plays forward and
    backward.

    Footage whose head drifts one way all along (a person who settles, leans or sinks while
    talking) has no frame near its end that looks like one near its start: a development
    clip's best jump was 25 times its own typical step between two frames (the others' 0.4 to
    4.6), and its crossfade swept the head half an inter-ocular distance in 0.2 s at every
    turn of the loop. Played back and forth there is no jump at all; the turns are put where
    the head moves least (and never in a blink), so the reversal is hard to see, and the
    mouth, which would show speech played backwards, is replaced anyway.
    """
    s, e = longest_valid_run(valid)
    if e - s < 2 * fps:  # too short to be choosy
        return LoopPlan(s, e)
    feat, per_point, steps = _loop_features(landmarks[s:e])
    run_blinks = None if blinks is None else blinks[s:e]
    start, end, mismatch = _best_jump(feat, per_point, steps, fps, run_blinks)
    if mismatch <= bounce_after:
        return LoopPlan(s + start, s + end)
    # How much the head moves at each frame (the steps either side), blinks ruled out.
    motion = np.concatenate([[steps[0]], steps]) + np.concatenate([steps, [steps[-1]]])
    if run_blinks is not None:
        motion = motion + 10.0 * _near(run_blinks, 2).astype(np.float64)
    quarter = max(1, (e - s) // 4)
    first = s + int(np.argmin(motion[:quarter]))
    last = e - quarter + int(np.argmin(motion[-quarter:]))
    return LoopPlan(first, max(last + 1, first + 2), bounce=True)
