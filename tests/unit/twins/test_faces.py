"""Face tracking: a close-up as MediaPipe's mesh tracks it, a wider shot through a crop."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from twinstudio.twins.faces import FaceTracker, inter_ocular

DEMO = (
    Path(__file__).resolve().parents[3]
    / "src" / "twinstudio" / "assets" / "demo" / "astronaut_eileen_collins.png"
)  # fmt: skip


@pytest.fixture(scope="module")
def portrait() -> np.ndarray:
    import cv2

    return cv2.cvtColor(cv2.imread(str(DEMO)), cv2.COLOR_BGR2RGB)


def _wide(portrait: np.ndarray, scale: float) -> tuple[np.ndarray, tuple[int, int]]:
    """The portrait ``scale`` times its size in the lower part of a 1920x1080 grey frame."""
    import cv2

    small = cv2.resize(portrait, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    frame = np.full((1080, 1920, 3), 120, np.uint8)
    y, x = 1080 - small.shape[0] - 20, 700
    frame[y : y + small.shape[0], x : x + small.shape[1]] = small
    return frame, (x, y)


def test_a_close_up_is_tracked_by_the_mesh_over_the_whole_frame(portrait: np.ndarray) -> None:
    import mediapipe as mp

    with mp.solutions.face_mesh.FaceMesh(
        static_image_mode=False, max_num_faces=1, refine_landmarks=True,
        min_detection_confidence=0.5, min_tracking_confidence=0.5,
    ) as mesh:  # fmt: skip
        plain = [mesh.process(portrait).multi_face_landmarks[0].landmark for _ in range(3)]
    tracker = FaceTracker()
    got = [tracker.landmarks(portrait) for _ in range(3)]
    tracker.close()
    for lm, pts in zip(got, plain, strict=True):
        want = np.array([(p.x * 512, p.y * 512) for p in pts], np.float32)
        assert lm is not None and np.array_equal(lm, want)  # no crop: as it always was


@pytest.mark.parametrize("scale", [1.0, 1.5])
def test_a_face_too_small_for_the_mesh_is_tracked_in_a_crop(
    portrait: np.ndarray, scale: float
) -> None:
    """The demo's face 106 / 159 px high in a 1920x1080 frame (a person across the room): the
    mesh alone sees no face there; found by the full-range detector and tracked in a crop, its
    landmarks land where the close-up's do, shrunk and moved as the picture was."""
    close = FaceTracker()
    ref = close.landmarks(portrait)
    close.close()
    assert ref is not None
    frame, (x, y) = _wide(portrait, scale)
    want = ref * scale + (x, y)
    tracker = FaceTracker()
    try:
        for _ in range(4):  # found, then tracked from frame to frame
            lm = tracker.landmarks(frame)
            assert lm is not None
            err = np.linalg.norm(lm - want, axis=1) / inter_ocular(want)
            assert float(np.median(err)) < 0.05 and float(err.max()) < 0.25
        assert tracker._crop is not None  # it is the crop that found it
    finally:
        tracker.close()


def test_no_face_is_still_no_face() -> None:
    rng = np.random.default_rng(3)
    wall = np.clip(120 + rng.normal(0, 4, (1080, 1920, 3)), 0, 255).astype(np.uint8)
    tracker = FaceTracker()
    assert tracker.landmarks(wall) is None and tracker.landmarks(wall) is None
    assert tracker._crop is None
    tracker.close()


def _half_body(portrait: np.ndarray, scale: float = 2.5) -> tuple[np.ndarray, tuple[int, int]]:
    """The portrait ``scale`` times its size at the foot of a 2880x2160 phone photo (its face
    12 % of the height: a half-body shot)."""
    import cv2

    big = cv2.resize(portrait, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    photo = np.full((2160, 2880, 3), 120, np.uint8)
    x, y = 400, 2160 - big.shape[0]
    photo[y:, x : x + big.shape[1]] = big
    return photo, (x, y)


def test_a_half_body_photo_shows_its_face_to_the_still_mesh(portrait: np.ndarray) -> None:
    """The mesh alone finds no face in a photo whose face is an eighth of its height; looked at
    again in a crop round what the full-range detector finds, it lands where the portrait's
    landmarks do, scaled and moved."""
    from twinstudio.twins.faces import still_landmarks

    ref = still_landmarks(portrait)
    photo, (x, y) = _half_body(portrait)
    faces = still_landmarks(photo)
    assert len(ref) == 1 and len(faces) == 1
    want = ref[0] * 2.5 + (x, y)
    err = np.linalg.norm(faces[0] - want, axis=1) / inter_ocular(want)
    assert float(np.median(err)) < 0.05
    assert still_landmarks(np.full((900, 1200, 3), 120, np.uint8)) == []


def test_a_half_body_photo_makes_a_photo_twin(portrait: np.ndarray, tmp_path: Path) -> None:
    """It was refused: "No face was found in the photo"."""
    import cv2

    from twinstudio.twins import train_twin

    photo, _ = _half_body(portrait)
    path = tmp_path / "half_body.jpg"
    cv2.imwrite(str(path), cv2.cvtColor(photo, cv2.COLOR_RGB2BGR))
    info = train_twin(path, tmp_path / "pack", kind="photo")
    assert info.kind == "photo" and (tmp_path / "pack" / "meta.json").is_file()


def test_a_photo_that_cuts_the_mouth_off_is_refused(portrait: np.ndarray, tmp_path: Path) -> None:
    import cv2

    from twinstudio.errors import FootageError
    from twinstudio.twins import train_twin
    from twinstudio.twins.faces import LIPS_OUTER, mouth_outside, still_landmarks

    lips = still_landmarks(portrait)[0][list(LIPS_OUTER)]
    whole = int(lips[:, 1].max()) + 3
    assert not mouth_outside(still_landmarks(portrait[:whole])[0], (512, whole))
    cut = int(lips[:, 1].mean())  # the picture ends across the lips
    path = tmp_path / "cut.png"
    cv2.imwrite(str(path), cv2.cvtColor(portrait[:cut], cv2.COLOR_RGB2BGR))
    with pytest.raises(FootageError) as info:
        train_twin(path, tmp_path / "pack", kind="photo")
    assert info.value.code == "mouth_cut_off" and "chin included" in info.value.message
