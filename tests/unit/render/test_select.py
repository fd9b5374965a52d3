"""Unit selection prefers runs of consecutive source frames."""

from __future__ import annotations

import numpy as np

from twinstudio.render.lipsync.select import SelectionWeights, unary_costs, viterbi_select


def _select(target: np.ndarray, desc: np.ndarray, frames: np.ndarray, **w: float) -> np.ndarray:
    t, n = len(target), len(desc)
    return viterbi_select(
        target, np.zeros(t, bool), np.zeros((t, 3)), desc, np.zeros((n, 3)), np.zeros(n),
        frames, np.ones(3), SelectionWeights(**w),  # type: ignore[arg-type]
    )  # fmt: skip


def test_prefers_consecutive_run_over_slightly_closer_frames() -> None:
    # Bank: a run of 10 consecutive frames (0..9) matching the ramp exactly up to a small offset,
    # and isolated frames (100, 200, ...) each matching one target exactly.
    ramp = np.linspace(0.0, 0.3, 10)
    run = np.stack([ramp + 0.01, np.zeros(10), np.zeros(10), np.zeros(10)], axis=1)
    iso = np.stack([ramp, np.zeros(10), np.zeros(10), np.zeros(10)], axis=1)
    desc = np.vstack([run, iso]).astype(np.float32)
    frames = np.concatenate([np.arange(10), 100 + 100 * np.arange(10)])
    target = np.stack([ramp, np.zeros(10), np.zeros(10)], axis=1).astype(np.float32)
    path = _select(target, desc, frames, switch_cost=0.05)
    assert np.all(np.diff(frames[path]) == 1)  # one continuous run
    # Without a switching cost it takes the nearest frame each time.
    greedy = _select(target, desc, frames, switch_cost=0.0, hold_cost=0.0)
    assert np.all(frames[greedy] >= 100)


def test_closed_target_picks_closed_mouth() -> None:
    desc = np.array([[0.2, 0, 0, 0], [0.005, 0, 0, 0], [0.1, 0, 0, 0]], np.float32)
    frames = np.array([0, 50, 100])
    target = np.zeros((3, 3), np.float32)
    path = viterbi_select(target, np.ones(3, bool), np.zeros((3, 3)), desc, np.zeros((3, 3)),
                          np.zeros(3), frames, np.ones(3) * 0.3)  # fmt: skip
    assert np.all(path == 1)


def test_long_outputs_keep_small_state() -> None:
    rng = np.random.default_rng(0)
    desc = rng.random((500, 4)).astype(np.float32) * 0.3
    target = rng.random((2000, 3)).astype(np.float32) * 0.3
    path = _select(target, desc, np.arange(500))
    assert path.shape == (2000,) and path.min() >= 0 and path.max() < 500


def test_opening_outweighs_continuity_when_they_conflict() -> None:
    # The target opens steadily; the run that follows it drifts 12 % of the person's range open
    # for 3 frames, where another short run (footage frames 100-102) matches it exactly. Leaving
    # and rejoining costs two cuts; at the opening's weight the drift costs more than that
    # (at weight 1 it cost less, and the run was kept through the drift).
    t = 12
    ramp = (np.arange(t) * 0.2).astype(np.float32)
    target = np.zeros((t, 3), np.float32)
    target[:, 0] = ramp
    run = np.zeros((t, 4), np.float32)
    run[:, 0] = ramp
    run[5:8, 0] += 0.12
    other = np.zeros((3, 4), np.float32)
    other[:, 0] = ramp[5:8]
    desc = np.vstack([run, other])
    frames = np.concatenate([np.arange(t), [100, 101, 102]])
    path = _select(target, desc, frames)
    assert frames[path].tolist() == [0, 1, 2, 3, 4, 100, 101, 102, 8, 9, 10, 11]


def test_a_resting_mouth_holds_still_instead_of_looping() -> None:
    # A still target (the lips closed in a pause) and a bank whose best match is the end of a
    # short closing run (footage frames 0-3): at the speaking hold price, replaying the run and
    # jumping back to its start costs less than holding its last frame, and the lips flutter.
    opening = np.array([0.019, 0.010, 0.006, 0.003], np.float32)
    desc = np.stack([opening, np.zeros(4), np.zeros(4), np.zeros(4)], axis=1).astype(np.float32)
    frames = np.arange(4)
    t = 24
    target = np.zeros((t, 3), np.float32)
    scale = np.array([0.15, 1.0, 1.0])

    def returns(path: np.ndarray) -> int:  # cuts back to a frame shown in the last 8 frames
        f = frames[path]
        return sum(1 for i in range(1, t) if f[i] not in (f[i - 1], f[i - 1] + 1)
                   and f[i] in set(f[max(0, i - 8) : i - 1]))  # fmt: skip

    def select(resting: np.ndarray | None) -> np.ndarray:
        return viterbi_select(target, np.zeros(t, bool), np.zeros((t, 3)), desc, np.zeros((4, 3)),
                              np.zeros(4), frames, scale, resting=resting)  # fmt: skip

    assert returns(select(None)) >= 3  # the loop this guards against
    still = select(np.ones(t, bool))
    assert returns(still) == 0
    assert np.all(frames[still][4:] == 3)  # settles on the closest frame and stays


def test_resting_frames_keep_a_margin_around_speech() -> None:
    from twinstudio.render.lipsync.select import resting_frames

    speaking = np.array([0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0], bool)
    assert resting_frames(speaking, margin=2).tolist() == [
        True, True, False, False, False, False, False, False, True, True, True]  # fmt: skip


def test_unary_costs_are_the_plain_formula_bit_for_bit() -> None:
    """The in-place version is only faster: every cost is the broadcast formula's, exactly."""
    rng = np.random.default_rng(7)
    t, n = 9, 300
    target, base_pose = rng.random((t, 4)), rng.normal(0, 0.1, (t, 3))
    bank, bank_pose, blur = rng.random((n, 4)), rng.normal(0, 0.1, (n, 3)), rng.random(n)
    closed = np.array([0, 1, 0, 0.5, 0, 0, 1, 0, 0])
    scale = np.array([0.3, 0.2, 0.25])
    w = SelectionWeights()
    d = (bank[None, :, :3] - target[:, None, :3]) / scale[None, None, :3]
    want = w.open * d[..., 0] ** 2 + w.width * d[..., 1] ** 2 + w.jaw * d[..., 2] ** 2
    want += w.closed * closed[:, None] * np.clip(d[..., 0], 0, None) ** 2
    dp = bank_pose[None, :, :2] - base_pose[:, None, :2]
    want += w.pose * (dp**2).sum(axis=-1) / 0.01
    want += w.blur * blur[None, :]
    got = unary_costs(target, closed, base_pose, bank, bank_pose, blur, scale, w)
    np.testing.assert_array_equal(got, want)


def test_settled_frames_leave_the_lips_free_just_before_speech() -> None:
    from twinstudio.render.lipsync.select import settled_frames

    speaking = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0], bool)
    target = np.array([0.5, 0.4, 0.3, 0.05, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 0.3, 0.2, 0.05])
    # 10 fps: ONSET_S (0.25 s) keeps the two frames before speech free; frame 2 is still closing.
    assert settled_frames(speaking, target, fps=10).tolist() == [
        False, False, False, True, True, True, True, True, False, False, False, False, False,
        True]  # fmt: skip


def test_a_settled_pause_shuts_the_mouth_even_off_the_base_pose() -> None:
    # The footage's own talking mouth (frames 0-9, opening 0.16, the base frames' head pose) and
    # one shut mouth filmed at another head angle (frame 50). After the last word the target
    # settles to shut. Without the settled price the path stays on the talking mouth, whose
    # pose matches, for the whole pause: a mouth open in silence at the end of the video.
    t = 10
    desc = np.zeros((11, 4), np.float32)
    desc[:10, 0] = 0.16
    frames = np.concatenate([np.arange(10), [50]])
    bank_pose = np.zeros((11, 3))
    bank_pose[10, 1] = 0.23  # the shut mouth's head pitched down by 0.23 IOD
    target = np.zeros((t, 3), np.float32)
    target[:4, 0] = [0.2, 0.16, 0.1, 0.05]
    speaking = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0], bool)
    scale = np.array([0.377, 0.33, 0.48])

    def select(settled: np.ndarray | None) -> np.ndarray:
        return viterbi_select(target, np.zeros(t, bool), np.zeros((t, 3)), desc, bank_pose,
                              np.zeros(11), frames, scale, settled=settled)  # fmt: skip

    from twinstudio.render.lipsync.select import settled_frames

    settled = settled_frames(speaking, target[:, 0] / scale[0], fps=25)
    assert settled[4:].all()
    assert np.all(frames[select(None)] < 10)  # the talking mouth throughout
    assert np.all(frames[select(settled)][4:] == 50)  # shut from the pause's first settled frame
