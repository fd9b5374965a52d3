"""The photo engine's mouth: the lips part in an almond that closes at the inner corners, and
what shows between them reads as a mouth (upper teeth lit like the face, one by one, a tongue)."""

from __future__ import annotations

from unittest.mock import patch

import numpy as np
import pytest

from twinstudio.render.lipsync import photo as PH
from twinstudio.twins import pack as P
from twinstudio.twins import train_twin
from twinstudio.twins.demo import demo_source
from twinstudio.twins.faces import LIPS_INNER


@pytest.fixture(scope="module")
def face(tmp_path_factory: pytest.TempPathFactory) -> PH._Face:
    import cv2

    pack_dir = tmp_path_factory.mktemp("photo") / "demo"
    train_twin(demo_source(), pack_dir, kind="photo")
    pack = P.TwinPack.open(pack_dir)
    image = cv2.imread(str(pack.file(P.IMAGE)))[:, :, ::-1].copy()
    return PH._Face(image, pack.track["landmarks"][0])


@pytest.fixture(scope="module")
def closed_face(face: PH._Face) -> PH._Face:
    """The demo portrait at three times its size (front teeth ~20 px wide, not ~6) with its
    mouth closed: the astronaut smiles with her teeth showing, and a still whose mouth is open
    keeps its own teeth (nothing is painted over them). Her teeth are inpainted away from the
    lips around them and each inner-lip point pair meets halfway."""
    import cv2

    image = cv2.resize(face.image, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)
    lm = face.lm * 3
    mouth = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(mouth, [np.round(lm[list(LIPS_INNER)]).astype(np.int32)], (255,))
    image = cv2.inpaint(image, cv2.dilate(mouth, np.ones((7, 7), np.uint8)), 9, cv2.INPAINT_TELEA)
    for upper, lower in zip(PH._UPPER_INNER, PH._LOWER_INNER, strict=True):
        lm[upper] = lm[lower] = (lm[upper] + lm[lower]) / 2
    closed = PH._Face(image, lm)
    assert closed.gap0 < 0.03 * closed.iod
    return closed


@pytest.fixture(scope="module")
def parted_face(face: PH._Face) -> PH._Face:
    """The demo portrait at three times its size with its lips apart and only dark between them
    (her teeth painted over with the dark of a mouth)."""
    import cv2

    image = cv2.resize(face.image, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)
    lm = face.lm * 3
    cv2.fillPoly(image, [np.round(lm[list(LIPS_INNER)]).astype(np.int32)], (40, 22, 24))
    return PH._Face(image, lm)


def _inner_half_width(face: PH._Face) -> float:
    """Half the distance between the inner lip corners (face mesh points 78 and 308)."""
    return float(np.abs(face._uv(face.lm[[78, 308]])[:, 0]).mean())


def _unpainted(face: PH._Face, opening: float) -> np.ndarray:
    """The frame with the lips moved but nothing painted between them."""
    with patch.object(PH._Face, "_paint_interior", lambda self, region, *a, **k: region):
        return face.render(opening, 0.0)


def _painted(face: PH._Face, opening: float) -> tuple[np.ndarray, np.ndarray]:
    """(u, v) in the face's axes of the pixels painted as the inside of the mouth: those that
    differ clearly from the same warp with nothing painted."""
    frame = face.render(opening, 0.0).astype(np.float32)
    warped = _unpainted(face, opening).astype(np.float32)
    ys, xs = np.nonzero(np.abs(frame - warped).max(axis=2) > 30)
    rel = np.stack([xs - face.centre[0], ys - face.centre[1]], axis=-1)
    return rel @ face.ex, rel @ face.ey


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)


def _at(face: PH._Face, u: float, v: float) -> tuple[int, int]:
    """Pixel (row, column) of the point (u, v) of the face's axes."""
    x, y = face.centre + u * face.ex + v * face.ey
    return int(np.rint(y)), int(np.rint(x))


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


def test_upper_teeth_show_below_the_upper_lip_lit_as_the_face_is(closed_face: PH._Face) -> None:
    """A closed-mouth still talks with teeth, not a dark hole: the top of the gap at the centre
    is near-white and about as bright as the cheeks; the middle of the gap is dark."""
    face = closed_face
    frame = face.render(0.6, 0.0)
    u, v = _painted(face, 0.6)
    centre = np.abs(u) < 0.05 * _inner_half_width(face)
    top, bottom = float(v[centre].min()), float(v[centre].max())
    tooth = frame[_at(face, 0.0, top + 0.12 * (bottom - top))].astype(np.float32)
    cavity = frame[_at(face, 0.0, top + 0.55 * (bottom - top))].astype(np.float32)
    cheeks = [
        face.image[int(y) - 3 : int(y) + 4, int(x) - 3 : int(x) + 4] for x, y in face.lm[[205, 425]]
    ]
    cheek = float(np.median(_luma(np.concatenate(cheeks))))
    assert 0.8 * cheek < _luma(tooth) < 1.5 * cheek
    assert tooth.max() - tooth.min() < 45  # off-white, not lip-red
    assert _luma(cavity) < 0.5 * _luma(tooth)


def test_a_face_lit_from_one_side_gets_front_teeth_lit_as_its_bright_side(
    closed_face: PH._Face,
) -> None:
    """One half of the face (u < 0) in shadow at 0.35 of its light, as a portrait lit from
    the side is: both front teeth are lit as the bright side's are on the evenly lit face (they
    were lit as the two cheeks' median before: grey), and the teeth towards the shadowed corner
    are darker than their mirror image on the lit side."""
    face = closed_face
    h, w = face.image.shape[:2]
    xs, ys = np.meshgrid(np.arange(w), np.arange(h))
    u = (xs - face.centre[0]) * face.ex[0] + (ys - face.centre[1]) * face.ex[1]
    light = np.where(u < 0, 0.35, 1.0)[..., None]
    shaded = PH._Face((face.image * light).astype(np.uint8), face.lm)

    def tooth(f: PH._Face, at_u: float) -> float:
        frame = f.render(0.6, 0.0)
        us, vs = _painted(f, 0.6)
        near = np.abs(us - at_u) < 0.05 * _inner_half_width(f)
        top, bottom = float(vs[near].min()), float(vs[near].max())
        return float(_luma(frame[_at(f, at_u, top + 0.12 * (bottom - top))].astype(np.float32)))

    front = face.half_w * PH.TOOTH_EDGES[1] / 2  # the middle of a front tooth
    lit_front = tooth(shaded, front)
    assert lit_front > 0.9 * tooth(face, front)  # (each side's teeth lit as its own cheek)
    assert tooth(shaded, -front) > 0.9 * lit_front
    aside = 0.75 * _inner_half_width(face)
    assert tooth(shaded, -aside) < 0.8 * tooth(shaded, aside)


def test_the_teeth_are_separate_teeth(closed_face: PH._Face) -> None:
    """Down the middle of a front tooth and down the line between the two front teeth (the
    midline): both are tooth (off-white), and the line is darker."""
    face = closed_face
    frame = face.render(0.6, 0.0)

    def tooth_luma(at_u: float) -> float:
        column = np.array(
            [frame[_at(face, at_u, dv)] for dv in np.arange(-0.2, 0.2, 0.005) * face.iod]
        )
        spread = column.max(axis=1).astype(int) - column.min(axis=1)
        tooth = np.nonzero((spread < 45) & (_luma(column) > 100))[0]
        assert len(tooth) >= 4, f"no tooth at u={at_u:.1f}"
        run = tooth[len(tooth) // 3 : 2 * len(tooth) // 3 + 1]  # the middle of the tooth
        return float(np.median(_luma(column[run])))

    half = face.half_w * PH.TOOTH_EDGES[1] / 2  # the middle of a front tooth
    assert tooth_luma(0.0) < min(tooth_luma(-half), tooth_luma(half)) - 8


def test_the_colours_follow_the_still(face: PH._Face) -> None:
    """Teeth are lit like the face: the same portrait at half the exposure gets teeth about
    half as bright; the tongue is pinker than pale lips."""
    _, _, teeth = PH._mouth_colours(face.image, face.lm, face.iod)
    dim = (face.image.astype(np.float32) * 0.5).astype(np.uint8)
    _, _, teeth_dim = PH._mouth_colours(dim, face.lm, face.iod)
    assert teeth.shape == (2, 3)  # one for each cheek's light
    ratio = _luma(teeth_dim) / _luma(teeth)
    assert ((ratio > 0.4) & (ratio < 0.6)).all(), ratio
    grey_lips = np.full_like(face.image, 120)
    _, grey_tongue, _ = PH._mouth_colours(grey_lips, face.lm, face.iod)
    assert grey_tongue[0] > grey_tongue[1] + 25  # a tongue, not a grey rim


def test_the_face_is_warped_bicubic_and_feathered_into_the_picture(face: PH._Face) -> None:
    """The sway's bilinear warp softens the picture; the face's box is warped again, bicubic:
    its middle is the bicubic warp, nothing outside the moved box changes, and its edge blends
    into the bilinear picture over ``FACE_FEATHER`` pixels (no step)."""
    import cv2

    image = face.image
    move = np.array([[1.05, 0.03, 12.3], [-0.03, 1.05, -6.6]])
    size = (image.shape[1], image.shape[0])
    flags = {"borderMode": cv2.BORDER_REPLICATE}
    linear = cv2.warpAffine(image, move, size, flags=cv2.INTER_LINEAR, **flags)
    cubic = cv2.warpAffine(image, move, size, flags=cv2.INTER_CUBIC, **flags)
    box = np.array([face.lm[:, :2].min(axis=0), face.lm[:, :2].max(axis=0)])
    out = linear.copy()
    PH._sharper_face(image, move, out, box)
    corners = np.array([[x, y, 1.0] for x in box[:, 0] for y in box[:, 1]]) @ move.T
    (x0, y0), (x1, y1) = np.floor(corners.min(axis=0)), np.ceil(corners.max(axis=0))
    ys, xs = np.nonzero(np.any(out != linear, axis=2))
    assert len(xs) and xs.min() >= x0 and xs.max() < x1 and ys.min() >= y0 and ys.max() < y1
    f = PH.FACE_FEATHER
    inner = np.s_[int(y0) + f : int(y1) - f, int(x0) + f : int(x1) - f]
    off = np.abs(out[inner].astype(int) - cubic[inner])  # OpenCV's fixed-point maps: a few levels
    assert off.mean() < 0.3 and off.max() <= 6
    edge_step = np.abs(
        out[int(y0) : int(y1), int(x0)].astype(int) - linear[int(y0) : int(y1), int(x0)]
    )
    assert edge_step.max() <= 8  # the box's first column is still almost the bilinear picture
    sharp = cv2.Laplacian(cv2.cvtColor(out[inner], cv2.COLOR_RGB2GRAY), cv2.CV_64F).var()
    soft = cv2.Laplacian(cv2.cvtColor(linear[inner], cv2.COLOR_RGB2GRAY), cv2.CV_64F).var()
    assert sharp > 1.1 * soft


def test_lips_apart_with_only_dark_between_them_get_teeth_too(
    face: PH._Face, parted_face: PH._Face
) -> None:
    """A still whose lips are apart with nothing but dark between them has that whole gap
    painted, teeth and all, opened wider or narrower than in the still; a still showing its own
    teeth (the astronaut) keeps them."""
    assert parted_face.gap0 >= PH.CLOSED_GAP_IOD * parted_face.iod and parted_face.dark_gap
    assert not face.dark_gap
    for opening in (0.25, 0.7):  # the still's own gap is 0.16 IOD: 0.46 of the range
        frame = parted_face.render(opening, 0.0)
        column = np.array(
            [
                frame[_at(parted_face, 0.0, dv)]
                for dv in np.arange(-0.2, 0.25, 0.004) * parted_face.iod
            ]
        )
        spread = column.max(axis=1).astype(int) - column.min(axis=1)
        tooth = (spread < 45) & (_luma(column) > 120)
        dark = np.flatnonzero(_luma(column) < 70)
        assert len(dark), f"no mouth open at {opening}"
        # Down the middle: lip, then teeth, then the dark inside (teeth floating lower down,
        # under a band of the still's own dark, or no teeth at all, fail this).
        assert tooth[max(0, dark[0] - 4) : dark[0]].sum() >= 2, f"no teeth at opening {opening}"
