"""Base-loop points: the stretch of footage that carries head and body, and where to jump back.

The renderer plays frames ``start .. end-1`` and then jumps back to ``start``. ``end`` is chosen so
that frame ``end`` (the one that would naturally follow) looks as much as possible like frame
``start``: head position, pose and face shape, with the mouth left out (it is replaced anyway).
Longer loops are preferred because every jump is a small risk. Blinks are kept (the base loop is
the footage itself, eyes and all), but a loop point is never put inside a blink: a jump from
half-closed eyes to open ones is the most visible cut there is.
"""

from __future__ import annotations

import numpy as np

from twinstudio.twins.faces import STABLE, head_pose, inter_ocular

# Upper/lower eyelid landmarks of the two eyes (MediaPipe face mesh).
EYELIDS = ((159, 145), (386, 374))
BLINK_RATIO = 0.55  # eyes open less than this share of their usual opening: a blink


def eye_openness(landmarks: np.ndarray) -> np.ndarray:
    """(T,) mean eyelid gap in inter-ocular units."""
    iod = np.maximum(inter_ocular(landmarks), 1e-6)
    gaps = [np.linalg.norm(landmarks[:, lo] - landmarks[:, up], axis=-1) for up, lo in EYELIDS]
    return (np.mean(gaps, axis=0) / iod).astype(np.float32)


def blink_frames(openness: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(T,) True on frames of a blink (eyes much less open than the person's median), ±1 frame."""
    if not valid.any():
        return np.zeros(len(openness), bool)
    closed = valid & (openness < BLINK_RATIO * float(np.median(openness[valid])))
    grown = closed.copy()
    grown[1:] |= closed[:-1]
    grown[:-1] |= closed[1:]
    return grown


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


def choose_loop(
    landmarks: np.ndarray, valid: np.ndarray, fps: int, blinks: np.ndarray | None = None
) -> tuple[int, int]:
    """(start, end) frame indices of the base loop; ``blinks`` (T,) frames no jump may touch."""
    s, e = longest_valid_run(valid)
    n = e - s
    if n < 2 * fps:  # too short to be choosy
        return s, e
    lm = landmarks[s:e]
    iod = float(np.median(inter_ocular(lm)))
    stable = lm[:, list(STABLE), :].reshape(n, -1) / iod
    pose = head_pose(lm) * np.array([1.0, 1.0, 3.0], np.float32)
    feat = np.hstack([stable, pose * 2.0])
    third = max(1, n // 3)
    step = max(1, n // 900)
    heads = np.arange(0, third, step)
    tails = np.arange(n - third, n, step)
    # Distance between the would-be next frame (tail) and the loop start (head).
    d = np.linalg.norm(feat[tails][:, None, :] - feat[heads][None, :, :], axis=-1)
    d /= np.sqrt(len(STABLE))
    length = (tails[:, None] - heads[None, :]) / n
    cost = d - 0.02 * length
    if blinks is not None:
        b = blinks[s:e]
        cost = cost + 10.0 * (b[tails][:, None] | b[heads][None, :])
    ti, hi = np.unravel_index(int(np.argmin(cost)), cost.shape)
    start = s + int(heads[hi])
    end = s + int(tails[ti])
    return start, max(end, start + 1)
