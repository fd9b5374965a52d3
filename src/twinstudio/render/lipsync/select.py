"""Unit selection: which mouth-bank frame to show at each output frame (Viterbi over top-k).

Cost of showing bank frame j at output frame t (the *unary* cost): the squared distance of j's
descriptors to the target, each in units of the person's own range, plus a head-pose mismatch with
the base frame (a mouth filmed turned away looks wrong pasted on a frontal face) and a penalty for
blurred frames. Cost of going from j to j' (the *transition*): nothing when j' is the source
frame right after j (texture then moves as it really moved), a little for holding j, and
``switch_cost`` for any other jump. Candidates at t are the top-k by unary cost plus the successors
of t-1's candidates, so a run can always continue. Memory is O(T·k), not O(T·N).

Where the lips must meet (/p b m/) an opening above the target costs extra, and so it does in a
*settled* pause (``settled_frames``): the mouth track shuts the mouth there, and without that
price the path could stay on the footage's own talking mouth when the only shut mouths in the
bank were filmed with the head at another angle. katie_hill's twin ended a TTS video with
its teeth showing for the last five frames (0.16 IOD, 43 % of her range, against a target of
0.001): each of her shut-mouth frames cost 0.8–1.5 in head pose against 0.37 for the opening's
mismatch (2026-12-07, found by looking at mouth crops).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SelectionWeights:
    """Cost weights. Measured on the development clips (target→selection opening r 0.78 → 0.87,
    real→selection r unchanged or better): a light pose term (the paste's affine already aligns
    the lower face, so only large pose differences matter) and cheap switches follow the target
    more closely; switching still costs more than continuing a run, so texture stays steady.

    The opening weighs twice the rest: lip aperture is the cue of speech that viewers follow
    (and the one the A/V sync is judged by), so when following it conflicts with continuing a
    run, a run may drift by ~12 % of the person's range (not ~17 %, as at weight 1) before a
    switch pays. The blur penalty doubles with it, so sharp frames keep their share against the
    opening (without, the median sharpness of the chosen frames fell by up to 20 % on one clip).
    Measured by self-reconstruction (real vs selected opening; the 10 development clips and 2
    shorter trainings of one): mean r 0.472 → 0.492, better on 8 of those 12 and level on 2,
    at 11.7 instead of 9.8 cuts a second. Cheaper switches gained as much but cut on almost every frame (17–21
    cuts a second), which shows as jitter, so switching keeps its price.

    Holding is free where the mouth rests (``rest_hold_cost``; frames of ``resting_frames``).
    At the speaking price a still mouth cost more than a loop: in a 1.6 s silence the path ran
    four footage frames of a closing mouth and jumped back to their first, again and again (and
    two frames back and forth at the end), a 0.016 IOD flutter at 5 and 11 Hz where the lips
    should be still (man_suit_window's held-back part, 2026-12-02). Free holds there: no loop in
    it (0 returns to a frame shown within the last 8, was 5), 43 such returns in the 10 clips'
    held-back parts (was 55), the selected opening's r with the real one 0.487 → 0.486.

    An opening above the target in a settled pause (``settled_frames``) costs ``settled`` on top,
    twice a closure's price: at 4.0 katie_hill's TTS video still opened again on its last frame,
    where the base frame's head moved further from the angle of her shut-mouth frames.
    Self-reconstruction on packs trained afresh (2026-12-07, both 30 % windows): r 0.524 /
    0.326 → 0.522 / 0.328 at either weight, offsets unchanged. Four of the 20 parts moved:
    katie_hill's start 0.103 → 0.124, the suit's and ed_markey's ends by under 0.005, and
    radio34's end 0.481 → 0.461: that part begins in the pause after a word, where the filmed
    lips are still closing, and the render, which starts there, rests them at once."""

    open: float = 2.0
    width: float = 0.35
    jaw: float = 0.25
    pose: float = 0.2
    blur: float = 0.1
    closed: float = 4.0  # extra on opening where the lips must meet
    settled: float = 8.0  # extra on opening above the target in a settled pause
    switch_cost: float = 0.03
    hold_cost: float = 0.02
    rest_hold_cost: float = 0.0  # holding a frame where the mouth rests (``resting_frames``)
    top_k: int = 16


def unary_costs(
    target: np.ndarray,
    closed: np.ndarray,
    base_pose: np.ndarray,
    bank_desc: np.ndarray,
    bank_pose: np.ndarray,
    bank_blur: np.ndarray,
    scale: np.ndarray,
    w: SelectionWeights,
    settled: np.ndarray | None = None,
) -> np.ndarray:
    """(T, N) costs for a block of T output frames against all N bank frames.

    ``closed`` (T,): where the lips must meet (1; a fraction weighs that much of ``w.closed``);
    ``settled`` (T,) bool: settled pauses (``settled_frames``), priced ``w.settled``. Both charge
    only an opening *above* the target.

    Each term is made in place in one of two (T, N) buffers, column by column: the same
    arithmetic in the same order as the plain broadcast (``w.open * d[..., 0] ** 2 + ...`` over
    a (T, N, 3) difference), so the same bits, without its (T, N, 3) temporaries and strided
    reads. The bank grows with the footage (30 entries a second), and at 10,704 entries (six
    minutes) the broadcast took 1.10 ms an output frame, this 0.10 (2026-12-04)."""
    cost = np.empty((len(target), len(bank_desc)))
    tmp = np.empty_like(cost)
    lid = w.closed * np.asarray(closed, np.float64)  # the price of an opening above the target
    if settled is not None:
        lid = lid + w.settled * np.asarray(settled, bool)
    rows = np.flatnonzero(lid)  # frames where the lips must meet, or rest shut
    above = np.zeros((0, len(bank_desc)))
    for c, weight in enumerate((w.open, w.width, w.jaw)):
        d = cost if c == 0 else tmp
        np.subtract(bank_desc[None, :, c], target[:, None, c], out=d)
        d /= scale[c]
        if c == 0:  # closed lips: any opening at all is bad (one-sided: the person's minimum)
            above = np.clip(d[rows], 0, None)
        np.multiply(d, d, out=d)
        d *= weight
        if c:
            cost += tmp
    if len(rows):
        cost[rows] += lid[rows, None] * above**2
    np.subtract(bank_pose[None, :, 0], base_pose[:, None, 0], out=tmp)
    np.multiply(tmp, tmp, out=tmp)
    turn = np.subtract(bank_pose[None, :, 1], base_pose[:, None, 1])
    np.multiply(turn, turn, out=turn)
    tmp += turn
    tmp *= w.pose
    tmp /= 0.01
    cost += tmp
    cost += w.blur * bank_blur[None, :]
    return cost


REST_MARGIN = 2  # frames from speech within which the mouth is not resting


def _near_speech(speaking: np.ndarray, before: int, after: int) -> np.ndarray:
    """Speaking frames, and the frames up to ``before`` frames before speech or ``after`` after."""
    spoken = np.asarray(speaking, bool)
    near = spoken.copy()
    for s in range(1, before + 1):
        near[:-s] |= spoken[s:]
    for s in range(1, after + 1):
        near[s:] |= spoken[:-s]
    return near


def resting_frames(speaking: np.ndarray, margin: int = REST_MARGIN) -> np.ndarray:
    """Frames more than ``margin`` frames from any speaking frame: the mouth rests there."""
    return ~_near_speech(speaking, margin, margin)


SETTLED_OPEN = 0.1  # a silent frame whose target is below this share of the range has settled
# Before speech the lips part early (a breath in, the first sound's shape): in the held-back
# parts of the dev clips, ed_markey's were half open 0.1–0.2 s before the first phone, and
# radio34's a quarter to two fifths open 0.1–0.26 s before it. Those frames are not held shut:
# with them, ed_markey's r fell 0.455 → 0.411 (2026-12-07).
ONSET_S = 0.25


def settled_frames(speaking: np.ndarray, target_open: np.ndarray, fps: float) -> np.ndarray:
    """Silent frames where the mouth has settled: not speaking, the target opening (0 closed …
    1 the person's widest) below ``SETTLED_OPEN``, and no speech within ``ONSET_S`` after."""
    onset = _near_speech(speaking, round(ONSET_S * fps), 0)
    return ~onset & (np.asarray(target_open) < SETTLED_OPEN)


def viterbi_select(
    target: np.ndarray,
    closed: np.ndarray,
    base_pose: np.ndarray,
    bank_desc: np.ndarray,
    bank_pose: np.ndarray,
    bank_blur: np.ndarray,
    bank_frame: np.ndarray,
    scale: np.ndarray,
    weights: SelectionWeights | None = None,
    block: int = 32,
    resting: np.ndarray | None = None,
    settled: np.ndarray | None = None,
) -> np.ndarray:
    """Indices into the bank (0..N-1), one per output frame.

    ``bank_frame`` (N,) gives each bank entry's footage frame number: j' continues j when
    ``bank_frame[j'] == bank_frame[j] + 1``. ``resting`` (T,): frames where holding a bank
    frame costs ``rest_hold_cost`` instead of ``hold_cost`` (see ``resting_frames``).
    ``settled`` (T,): frames where an opening above the target costs ``settled`` more (see
    ``settled_frames``).
    Unary costs are made ``block`` frames at a time: at 32 a 729-frame piece's transient is
    1.0 MB (3.1 MB at 128, as before; same path, same time; 2026-12-02).
    """
    w = weights or SelectionWeights()
    t_total, n = len(target), len(bank_desc)
    if n == 0:
        raise ValueError("empty mouth bank")
    k = min(w.top_k, n)
    rest = np.zeros(t_total, bool) if resting is None else np.asarray(resting, bool)
    # successor[j] = bank index of the next footage frame, or -1.
    pos = {int(f): i for i, f in enumerate(bank_frame)}
    successor = np.array([pos.get(int(f) + 1, -1) for f in bank_frame], np.int64)

    # Each frame's candidates and back-pointers (at most 2k after the beam), in two arrays made
    # once: not thousands of small arrays per piece, which scatter through the heap and the
    # interpreter's pools at every piece of a long render. Only the last frame's costs are kept.
    width = 2 * k
    cands = np.zeros((t_total, width), np.int64)
    back = np.zeros((t_total, width), np.int64)
    prev_c: np.ndarray | None = None
    prev_cost: np.ndarray | None = None
    for b0 in range(0, t_total, block):
        b1 = min(t_total, b0 + block)
        shut = None if settled is None else settled[b0:b1]
        u = unary_costs(target[b0:b1], closed[b0:b1], base_pose[b0:b1], bank_desc, bank_pose,
                        bank_blur, scale, w, shut)  # fmt: skip
        top = (
            np.argpartition(u, k - 1, axis=1)[:, :k]
            if k < n
            else np.tile(np.arange(n), (b1 - b0, 1))
        )
        for i in range(b1 - b0):
            c = top[i]
            if prev_c is not None:
                succ = successor[prev_c]
                c = np.unique(np.concatenate([c, succ[succ >= 0]]))
            uc = u[i, c]
            if prev_c is None or prev_cost is None:
                total = uc
                bp = np.zeros(len(c), np.int64)
            else:
                trans = np.full((len(prev_c), len(c)), w.switch_cost)
                trans[successor[prev_c][:, None] == c[None, :]] = 0.0
                hold = w.rest_hold_cost if rest[b0 + i] else w.hold_cost
                trans[prev_c[:, None] == c[None, :]] = hold
                acc = prev_cost[:, None] + trans
                bp = np.argmin(acc, axis=0)
                total = acc[bp, np.arange(len(c))] + uc
            if len(c) > width:  # beam: keep the best paths only, so the state set stays small
                keep = np.argpartition(total, width - 1)[:width]
                c, total, bp = c[keep], total[keep], bp[keep]
            total = total - total.min()  # keep numbers small over long videos
            cands[b0 + i, : len(c)] = c
            back[b0 + i, : len(c)] = bp
            prev_c, prev_cost = c, total
    path = np.zeros(t_total, np.int64)
    j = int(np.argmin(prev_cost)) if prev_cost is not None else 0  # None: no frames at all
    for t in range(t_total - 1, -1, -1):
        path[t] = cands[t, j]
        j = int(back[t, j])
    return path
