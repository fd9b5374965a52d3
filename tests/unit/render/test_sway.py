"""Head motion of a photo twin: how the still moves, and that no edge of it ever shows."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from twinstudio.render.lipsync import sway as S
from twinstudio.twins.faces import CHIN, EYE_L, EYE_R

FPS = 25.0
SIZE = (640, 480)


def _landmarks(size: tuple[int, int] = SIZE, iod: float = 60.0) -> np.ndarray:
    """478 points, all at the face's centre but for the eyes' corners and the chin."""
    w, h = size
    lm = np.tile([w / 2, h / 2 - 0.2 * iod], (478, 1)).astype(np.float32)
    lm[list(EYE_L)] = [w / 2 - iod / 2, h / 2 - 0.5 * iod]
    lm[list(EYE_R)] = [w / 2 + iod / 2, h / 2 - 0.5 * iod]
    lm[CHIN] = [w / 2, h / 2 + 0.9 * iod]
    return lm


def _moved(m: np.ndarray, point: np.ndarray) -> np.ndarray:
    """(n, 2) where each frame's affine takes ``point``."""
    return np.einsum("nij,j->ni", m, np.append(point, 1.0))


def test_the_head_drifts_and_tilts_smoothly_and_no_edge_shows() -> None:
    lm = _landmarks()
    sway = S.Sway(SIZE, lm, FPS)
    m = sway.matrices(np.zeros(int(20 * FPS)), 0)
    eyes = _moved(m, lm[list(EYE_L) + list(EYE_R)].mean(axis=0))
    # It moves: over 20 s the eyes' centre wanders at least 0.05 IOD either way...
    assert np.ptp(eyes[:, 0]) > 0.05 * sway.iod and np.ptp(eyes[:, 1]) > 0.02 * sway.iod
    # ...smoothly: no frame-to-frame step above 0.02 IOD (a jitter would show).
    assert np.linalg.norm(np.diff(eyes, axis=0), axis=1).max() < 0.02 * sway.iod
    # It tilts: the eye line turns by a degree or more at some frame.
    left, right = _moved(m, lm[list(EYE_L)].mean(axis=0)), _moved(m, lm[list(EYE_R)].mean(axis=0))
    roll = np.degrees(np.arctan2(right[:, 1] - left[:, 1], right[:, 0] - left[:, 0]))
    assert np.abs(roll).max() > 1.0
    # No edge shows: every corner of every frame comes from inside the still.
    w, h = SIZE
    corners = np.array([[0, 0, 1], [w, 0, 1], [0, h, 1], [w, h, 1]], np.float64)
    for a in m:
        inv = np.linalg.inv(np.vstack([a, [0, 0, 1]]))
        src = corners @ inv.T
        assert (src[:, 0] >= -0.5).all() and (src[:, 0] <= w + 0.5).all()
        assert (src[:, 1] >= -0.5).all() and (src[:, 1] <= h + 0.5).all()
    assert 1.0 < sway.zoom < 1.1


def test_the_head_dips_while_the_mouth_is_open_and_pieces_move_as_the_whole() -> None:
    lm = _landmarks()
    opening = np.zeros(int(12 * FPS))
    opening[int(4 * FPS) : int(8 * FPS)] = 0.8  # four seconds of open speech in the middle
    whole = S.Sway(SIZE, lm, FPS).matrices(opening, 0)
    quiet = S.Sway(SIZE, lm, FPS).matrices(np.zeros_like(opening), 0)
    nose = lm[list(EYE_L) + list(EYE_R)].mean(axis=0)
    dip = _moved(whole, nose)[:, 1] - _moved(quiet, nose)[:, 1]
    assert dip[: int(4 * FPS)].max() < 1e-6  # the same motion before the speech
    assert dip[int(6 * FPS)] > 0.5 * S.NOD_IOD * 0.8 * S.Sway(SIZE, lm, FPS).iod  # lower
    assert dip[-1] < 0.1 * dip[int(8 * FPS)]  # and back up after it
    # Cut into pieces (the renderer's speech pieces), in order: the very same motion.
    sway = S.Sway(SIZE, lm, FPS)
    cuts = [0, 37, 100, 101, 222, len(opening)]
    pieces = [sway.matrices(opening[a:b], a) for a, b in itertools.pairwise(cuts)]
    np.testing.assert_allclose(np.concatenate(pieces), whole, atol=1e-9)


def test_a_face_filling_the_picture_moves_less_rather_than_be_zoomed_further() -> None:
    """The zoom that hides the edges crops the still: it stays under ``MAX_ZOOM``, and a face
    too large for the full motion at that zoom gets part of it."""
    small = S.Sway(SIZE, _landmarks(iod=60.0), FPS)
    large = S.Sway(SIZE, _landmarks(iod=400.0), FPS)
    assert small.amount == 1.0 and 1.0 < small.zoom <= S.MAX_ZOOM
    assert 0.0 < large.amount < 1.0 and 1.0 < large.zoom <= S.MAX_ZOOM
    m = large.matrices(np.zeros(int(10 * FPS)), 0)
    eyes = _moved(m, _landmarks(iod=400.0)[list(EYE_L)].mean(axis=0))
    assert np.ptp(eyes[:, 0]) > 0.01 * large.iod  # it still moves, a little


@pytest.mark.slow
def test_a_matted_photo_twin_moves_its_matte_with_its_picture(tmp_path: Path) -> None:
    """The person sways in front of the background: the matte's edge moves with the picture's,
    and the same frame is drawn the same in two renders."""
    from twinstudio.render.lipsync.photo import PhotoEngine
    from twinstudio.render.motion import MouthTrack
    from twinstudio.twins import pack as P
    from twinstudio.twins import train_twin
    from twinstudio.twins.demo import demo_source
    from twinstudio.twins.pack import TwinPack

    train_twin(demo_source(), tmp_path / "demo", kind="photo", matting=True)
    pack = TwinPack.open(tmp_path / "demo")
    n = int(8 * pack.fps)
    track = MouthTrack(np.zeros((n, 2), np.float32), np.zeros((n, 3), np.float32),
                       np.zeros(n, bool), np.zeros(n, bool))  # fmt: skip
    frames = list(PhotoEngine().stream(pack, [track], with_alpha=True))
    again = list(PhotoEngine().stream(pack, [track], with_alpha=True))
    assert np.array_equal(frames[-1].rgb, again[-1].rgb)

    import cv2

    from twinstudio.twins.faces import FaceTracker
    from twinstudio.twins.matte import read_matte

    still = pack.track["landmarks"][0]
    moves = S.Sway(pack.size, still, pack.fps).matrices(track.norm[:, 0], 0)
    matte = next(iter(read_matte(pack.file(P.MATTE))))
    eyes = list(EYE_L) + list(EYE_R)
    tracker = FaceTracker()
    travelled = 0.0
    for k in range(0, n, int(pack.fps) // 2):
        alpha = frames[k].alpha
        assert alpha is not None
        # The matte moved as the picture is moved at that frame...
        expected = cv2.warpAffine(matte, moves[k], pack.size, flags=cv2.INTER_LINEAR,
                                  borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
        assert np.abs(alpha.astype(int) - expected.astype(int)).max() <= 1
        # ...and the face in the picture is where that move takes the still's face.
        lm = tracker.landmarks(frames[k].rgb)
        assert lm is not None
        want = _moved(moves[k : k + 1], still[eyes].mean(axis=0))[0]
        assert np.linalg.norm(lm[eyes].mean(axis=0) - want) < 1.5
        travelled = max(travelled, float(np.linalg.norm(want - still[eyes].mean(axis=0))))
    tracker.close()
    assert travelled > 2.0  # it did move (the demo's face: 42 px between the eyes)


@pytest.mark.slow
@pytest.mark.parametrize("scale", [1.0, 0.75])
def test_a_photo_moved_straight_into_a_view_matches_the_moved_still_placed(
    tmp_path: Path, scale: float
) -> None:
    """Each frame is moved and placed in the view by one warp: the same picture as moving
    the whole still and cropping (and shrinking) it afterwards."""
    from twinstudio.render.framing import _make_view
    from twinstudio.render.lipsync.photo import PhotoEngine
    from twinstudio.render.motion import MouthTrack
    from twinstudio.twins import train_twin
    from twinstudio.twins.demo import demo_source
    from twinstudio.twins.pack import TwinPack

    train_twin(demo_source(), tmp_path / "demo", kind="photo", matting=True)
    pack = TwinPack.open(tmp_path / "demo")
    w, h = pack.size
    crop = (w // 16 * 2, h // 8 * 2, w - w // 16 * 2, h - h // 16 * 2)  # off centre, even
    cw, ch = crop[2] - crop[0], crop[3] - crop[1]
    view = _make_view(crop, (round(cw * scale) // 2 * 2, round(ch * scale) // 2 * 2))
    n = int(3 * pack.fps)
    track = MouthTrack(np.full((n, 2), 0.3, np.float32), np.zeros((n, 3), np.float32),
                       np.zeros(n, bool), np.ones(n, bool))  # fmt: skip
    whole = list(PhotoEngine().stream(pack, [track], with_alpha=True))
    placed = list(PhotoEngine().stream(pack, [track], with_alpha=True, view=view))
    for k in (0, n // 2, n - 1):
        a, b = placed[k], whole[k]
        assert a.rgb.shape[1::-1] == view.size
        diff = np.abs(a.rgb.astype(int) - view.place(b.rgb).astype(int))
        assert diff.mean() < (0.5 if scale == 1.0 else 2.5)
        assert a.alpha is not None and b.alpha is not None
        alpha_diff = np.abs(a.alpha.astype(int) - view.place_alpha(b.alpha).astype(int))
        assert alpha_diff.mean() < (0.5 if scale == 1.0 else 2.5)
