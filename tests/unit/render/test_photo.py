"""The photo engine's mouth: the lips part in an almond that closes at the inner corners."""

from __future__ import annotations

import numpy as np
import pytest

from twinstudio.render.lipsync import photo as PH
from twinstudio.twins import pack as P
from twinstudio.twins import train_twin
from twinstudio.twins.demo import demo_source


@pytest.fixture(scope="module")
def face(tmp_path_factory: pytest.TempPathFactory) -> PH._Face:
    import cv2

    pack_dir = tmp_path_factory.mktemp("photo") / "demo"
    train_twin(demo_source(), pack_dir, kind="photo")
    pack = P.TwinPack.open(pack_dir)
    image = cv2.imread(str(pack.file(P.IMAGE)))[:, :, ::-1].copy()
    return PH._Face(image, pack.track["landmarks"][0])


def _inner_half_width(face: PH._Face) -> float:
    """Half the distance between the inner lip corners (face mesh points 78 and 308)."""
    return float(np.abs(face._uv(face.lm[[78, 308]])[:, 0]).mean())


def _painted(face: PH._Face, opening: float) -> tuple[np.ndarray, np.ndarray]:
    """(u, v) in the face's axes of the pixels painted as the inside of the mouth: dark, and
    much darker than the still there (the warp alone moves a crease or a shadow, never that far
    into the dark)."""
    frame = face.render(opening, 0.0).astype(np.float32).mean(axis=2)
    still = face.image.astype(np.float32).mean(axis=2)
    ys, xs = np.nonzero((still - frame > 60) & (frame < 50))
    rel = np.stack([xs - face.centre[0], ys - face.centre[1]], axis=-1)
    return rel @ face.ex, rel @ face.ey


def test_the_open_mouth_stays_between_the_inner_corners_and_tapers_to_them(face: PH._Face) -> None:
    u, v = _painted(face, 1.0)
    inner = _inner_half_width(face)
    assert len(u) > 50  # the mouth opened
    # Never wider than the lips' inner corners (it was a bar 1.05x as wide as the mouth).
    assert np.abs(u).max() <= inner + 1.5
    # An almond: tall at the centre, thin near the corners.
    centre = np.abs(u) < 0.1 * inner
    side = np.abs(np.abs(u) - 0.8 * inner) < 0.05 * inner
    assert centre.any() and side.any()
    height_centre = np.ptp(v[centre])
    height_side = np.ptp(v[side])
    assert height_side < 0.6 * height_centre


def test_a_wider_opening_opens_the_mouth_wider(face: PH._Face) -> None:
    heights = []
    for opening in (0.5, 0.8, 1.0):
        u, v = _painted(face, opening)
        centre = np.abs(u) < 0.1 * _inner_half_width(face)
        heights.append(float(np.ptp(v[centre])) if centre.any() else 0.0)
    assert heights[0] < heights[1] < heights[2]
    assert heights[2] <= PH.MAX_GAP_IOD * face.iod + 2
