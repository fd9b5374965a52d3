"""Base-loop points: the stretch of footage that carries head and body, and where to jump back.

The renderer plays frames ``start .. end-1`` and then jumps back to ``start``. ``end`` is chosen so
that frame ``end`` (the one that would naturally follow) looks as much as possible like frame
``start``: head position, pose and face shape, with the mouth left out (it is replaced anyway).
Longer loops are preferred because every jump is a small risk.
"""

from __future__ import annotations

import numpy as np

from twinstudio.twins.faces import STABLE, head_pose, inter_ocular


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


def choose_loop(landmarks: np.ndarray, valid: np.ndarray, fps: int) -> tuple[int, int]:
    """(start, end) frame indices of the base loop."""
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
    ti, hi = np.unravel_index(int(np.argmin(cost)), cost.shape)
    start = s + int(heads[hi])
    end = s + int(tails[ti])
    return start, max(end, start + 1)
