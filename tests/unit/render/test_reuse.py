"""Kept matte blends (``render.reuse``): a footage frame seen again is blended only where it
changed, and the frames are the same, byte for byte, as blending each one whole."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from twinstudio.render import yuv
from twinstudio.render.compose import Compositor
from twinstudio.render.framing import _even_box
from twinstudio.render.reuse import union
from twinstudio.render.types import Background, RenderOptions

FACE = (860, 240, 1060, 500)  # in 1920x1080 footage


def _picture(size: tuple[int, int], seed: int) -> np.ndarray:
    """A footage-like I420 picture: smooth noise, so a resampling error would show."""
    w, h = size
    rgb = np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)
    return yuv.from_rgb(cv2.GaussianBlur(rgb, (0, 0), 1.5))


def _alpha(size: tuple[int, int]) -> np.ndarray:
    w, h = size
    alpha = np.zeros((h, w), np.uint8)
    cv2.ellipse(alpha, (w // 2, h // 2), (w // 4, h // 3), 0, 0, 360, (255,), -1)
    return cv2.GaussianBlur(alpha, (0, 0), 3)


def _mouth(picture: np.ndarray, box: tuple[int, int, int, int], seed: int) -> np.ndarray:
    """``picture`` (copied) with new pixels inside ``box``, as a pasted mouth."""
    out = picture.copy()
    x0, y0, x1, y1 = box
    patch = _picture((x1 - x0, y1 - y0), seed)
    for dst, src in zip(yuv.box_planes(out, box), yuv.planes(patch), strict=True):
        dst[...] = src
    return out


def _options(resolution: str, aspect: str, tmp_path: Path, background: str) -> RenderOptions:
    if background == "none":
        return RenderOptions(resolution, aspect, "cover")
    if background in ("colour", "colour+plate"):
        return RenderOptions(resolution, aspect, "cover", remove_background=True,
                             background=Background(color="#2F6FB0"))  # fmt: skip
    if background == "studio":
        return RenderOptions(resolution, aspect, "cover", remove_background=True)
    image = tmp_path / "bg.png"
    cv2.imwrite(str(image), cv2.cvtColor(yuv.to_rgb(_picture((640, 400), 9)), cv2.COLOR_RGB2BGR))
    return RenderOptions(resolution, aspect, "cover", remove_background=True,
                         background=Background(image_path=image))  # fmt: skip


@pytest.mark.parametrize(
    ("resolution", "aspect", "background"),
    [("720p", "16:9", "colour"), ("1080p", "16:9", "colour"), ("720p", "9:16", "colour"),
     ("1080p", "9:16", "studio"), ("1080p", "16:9", "colour+plate")],
)  # fmt: skip
def test_kept_blends_give_the_same_frames(
    resolution: str, aspect: str, background: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Frames of two footage frames, each shown several times with its mouth in another box
    (odd edges, one touching the picture's edge, one frame unchanged): identical to blending
    each whole. Only each footage frame's first frame is blended whole; a frame that does not
    say its footage frame is always blended whole."""
    options = _options(resolution, aspect, tmp_path, background)
    plate = None
    if background.endswith("plate"):  # the backdrop is unmixed from the soft edge first
        plate = np.dstack([yuv.to_rgb(_picture((480, 270), 5)), np.full((270, 480), 200, np.uint8)])
    whole = Compositor((1920, 1080), FACE, options, plate=plate)
    kept = Compositor((1920, 1080), FACE, options, keep=4, plate=plate)
    assert (kept._backdrop is None) == (plate is None)
    assert kept._kept is not None and whole._kept is None
    vw, vh = kept.view.size
    bases = [_picture((vw, vh), seed) for seed in (1, 2)]
    alpha = _alpha((vw, vh))
    boxes = [(vw // 3, vh // 2, vw // 3 + 90, vh // 2 + 64), (vw // 3 + 21, vh // 2 + 11,
             vw // 3 + 131, vh // 2 + 91), (0, vh - 40, 60, vh), None, (vw - 50, 10, vw, 30)]  # fmt: skip
    sequence = [(k % 2, box, seed) for seed, box in enumerate(boxes) for k in range(2)]
    whole_blends = 0
    real = yuv.blend_onto

    def counted(picture: np.ndarray, *args: object) -> np.ndarray:
        nonlocal whole_blends
        whole_blends += yuv.size_of(picture) == (vw, vh)
        return real(picture, *args)  # type: ignore[arg-type]

    for source, box, seed in sequence:
        picture = bases[source] if box is None else _mouth(bases[source], _even_box(box, (vw, vh)),
                                                            10 + seed)  # fmt: skip
        want = whole.compose_placed(picture.copy(), alpha)
        with monkeypatch.context() as patch:
            patch.setattr(yuv, "blend_onto", counted)
            got = kept.compose_placed(picture.copy(), alpha, source=source, changed=box)
        assert got.shape == want.shape and np.array_equal(got, want), (source, box)
    assert whole_blends == 2  # one per footage frame: the other eight came from kept blends
    picture = _mouth(bases[0], boxes[0], 1)
    with monkeypatch.context() as patch:
        patch.setattr(yuv, "blend_onto", counted)
        got = kept.compose_placed(picture.copy(), alpha, changed=boxes[0])
    assert np.array_equal(got, whole.compose_placed(picture.copy(), alpha))
    assert whole_blends == 3
    kept.close()
    if plate is not None:  # (and the plate did change the edge)
        plain = Compositor((1920, 1080), FACE, options).compose_placed(picture.copy(), alpha)
        assert not np.array_equal(got, plain)


@pytest.mark.parametrize("background", ["image", "webm"])
def test_kept_unmixed_pictures_give_the_same_frames(
    background: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over an image and for transparent WebM each frame is blended afresh, but its unmixed
    picture (``render.backdrop``) is kept by footage frame: the frames come out identical to
    unmixing each whole, and only each footage frame's first frame is unmixed whole."""
    from twinstudio.render import compose

    if background == "webm":
        options = RenderOptions("720p", "16:9", "cover", remove_background=True,
                                output_format="webm")  # fmt: skip
    else:
        options = _options("720p", "16:9", tmp_path, "image")
    plate = np.dstack([yuv.to_rgb(_picture((480, 270), 5)), np.full((270, 480), 200, np.uint8)])
    whole = Compositor((1920, 1080), FACE, options, plate=plate)
    kept = Compositor((1920, 1080), FACE, options, keep=4, plate=plate)
    assert kept._kept is None and kept._kept_unmixed is not None and whole._kept_unmixed is None
    assert Compositor((1920, 1080), FACE, options, keep=4)._kept_unmixed is None  # no plate
    vw, vh = kept.view.size
    bases = [_picture((vw, vh), seed) for seed in (1, 2)]
    alpha = _alpha((vw, vh))
    boxes = [(vw // 3, vh // 2, vw // 3 + 90, vh // 2 + 64), None, (0, vh - 40, 60, vh),
             (vw - 50, 10, vw, 30)]  # fmt: skip
    wholes = 0
    real = compose.unmix

    def counted(picture: np.ndarray, alpha: np.ndarray, backdrop: object) -> None:
        nonlocal wholes
        wholes += yuv.size_of(picture) == (vw, vh)
        real(picture, alpha, backdrop)  # type: ignore[arg-type]

    for seed, box in enumerate(boxes):
        for source in (0, 1):
            picture = bases[source]
            if box is not None:
                picture = _mouth(picture, _even_box(box, (vw, vh)), 10 + seed)
            want = whole.compose_placed(picture.copy(), alpha)
            with monkeypatch.context() as patch:
                patch.setattr(compose, "unmix", counted)
                got = kept.compose_placed(picture.copy(), alpha, source=source, changed=box)
            if background == "webm":  # the picture with its alpha
                assert isinstance(got, yuv.AlphaPicture) and isinstance(want, yuv.AlphaPicture)
                assert np.array_equal(got.alpha, want.alpha), (source, box)
                got, want = got.picture, want.picture
            assert got.shape == want.shape and np.array_equal(got, want), (source, box)
    assert wholes == 2  # one per footage frame
    kept.close()


@pytest.mark.parametrize(
    ("options", "why"),
    [(RenderOptions("720p", "9:16", "cover"), "no matte, nothing blended"),
     (RenderOptions("720p", "16:9", "cover", remove_background=True, output_format="webm"),
      "a transparent WebM carries the alpha; nothing is blended"),
     (RenderOptions("720p", "16:9", "cover", remove_background=True,
                    background=Background(image_path=Path("bg.png"))),
      "an image background is blended at output size, where its detail is")],
)  # fmt: skip
def test_blends_are_not_kept_where_nothing_is_blended_in_the_view(
    options: RenderOptions, why: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    cv2.imwrite("bg.png", np.zeros((40, 60, 3), np.uint8))
    comp = Compositor((1920, 1080), FACE, options, keep=8)
    assert comp._kept is None, why


def test_boxes() -> None:
    assert union(None, (1, 2, 3, 4)) == (1, 2, 3, 4) and union(None, None) is None
    assert union((0, 5, 3, 9), (1, 2, 8, 4)) == (0, 2, 8, 9)
    assert _even_box((3, 5, 9, 11), (10, 10)) == (2, 4, 10, 10)
