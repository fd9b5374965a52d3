"""Framing and composition: sizes, face-safe crops, contain, backgrounds and matting."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from twinstudio.errors import RenderError
from twinstudio.render import yuv
from twinstudio.render.compose import Compositor, parse_color
from twinstudio.render.framing import plan_frame
from twinstudio.render.types import Background, RenderOptions

# Both source shapes the product sees: phone portrait and landscape footage.
PORTRAIT = (608, 1080)
LANDSCAPE = (1280, 720)


def _frame(size: tuple[int, int], seed: int = 0) -> np.ndarray:
    width, height = size
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


def _rgb(out: np.ndarray) -> np.ndarray:
    """An MP4 frame (I420) as RGB, to check colours."""
    assert yuv.is_picture(out)
    return yuv.to_rgb(out)


def _near(pixel: np.ndarray, rgb: tuple[int, int, int], tol: int = 2) -> bool:
    """The colour after an I420 round trip (±1–2 levels)."""
    return bool(np.all(np.abs(pixel.astype(int) - np.array(rgb)) <= tol))


def _inside(box: tuple[int, int, int, int], crop: tuple[int, int, int, int]) -> bool:
    return crop[0] <= box[0] and crop[1] <= box[1] and box[2] <= crop[2] and box[3] <= crop[3]


@pytest.mark.parametrize(
    ("resolution", "aspect", "expected"),
    [
        ("720p", "16:9", (1280, 720)),
        ("720p", "9:16", (720, 1280)),
        ("1080p", "16:9", (1920, 1080)),
        ("1080p", "9:16", (1080, 1920)),
    ],
)
@pytest.mark.parametrize("fit", ["cover", "contain"])
def test_output_size(resolution: str, aspect: str, expected: tuple[int, int], fit: str) -> None:
    options = RenderOptions(resolution=resolution, aspect_ratio=aspect, fit=fit)
    comp = Compositor(LANDSCAPE, (560, 200, 720, 400), options)
    assert comp.out_size == expected
    out = comp.compose(_frame(LANDSCAPE))
    assert yuv.size_of(out) == expected and out.shape == (expected[1] * 3 // 2, expected[0])
    assert out.dtype == np.uint8


@pytest.mark.parametrize("src", [PORTRAIT, LANDSCAPE])
@pytest.mark.parametrize("aspect", ["16:9", "9:16"])
@pytest.mark.parametrize("where", ["centre", "left", "right", "top", "bottom"])
def test_cover_keeps_face_inside_crop(src: tuple[int, int], aspect: str, where: str) -> None:
    width, height = src
    face = min(width, height) // 5
    cx = {"left": face, "right": width - face}.get(where, width // 2)
    cy = {"top": face, "bottom": height - face}.get(where, height // 3)
    box = (cx - face // 2, cy - face // 2, cx + face // 2, cy + face // 2)
    plan = plan_frame(src, box, (1080, 1920) if aspect == "9:16" else (1920, 1080), "cover")
    assert _inside(box, plan.crop), (plan, box)


def test_cover_centres_face_horizontally_for_landscape_into_portrait() -> None:
    box = (500, 150, 700, 380)  # face left of centre in 1280x720
    plan = plan_frame(LANDSCAPE, box, (1080, 1920), "cover")
    assert plan.full
    crop_centre = (plan.crop[0] + plan.crop[2]) / 2
    assert abs(crop_centre - 600) <= 2
    # Eyes (40 % down the face box) land in the upper half, near the upper third line.
    eyes = box[1] + 0.4 * (box[3] - box[1])
    eye_line = (eyes - plan.crop[1]) / (plan.crop[3] - plan.crop[1])
    assert 0.2 < eye_line < 0.5


def test_cover_zooms_out_rather_than_cut_a_big_face() -> None:
    box = (20, 300, 588, 900)  # face nearly as wide as a portrait source
    plan = plan_frame(PORTRAIT, box, (1920, 1080), "cover")
    assert _inside(box, plan.crop)
    assert not plan.full  # window grew past the source; the sides are background


def test_contain_keeps_full_frame() -> None:
    frame = _frame(LANDSCAPE)
    frame[:, :4] = (255, 0, 0)  # a red left edge and a blue right edge must survive
    frame[:, -4:] = (0, 0, 255)
    comp = Compositor(LANDSCAPE, (560, 200, 720, 400), RenderOptions("720p", "9:16", "contain"))
    assert comp.plan.crop == (0, 0, *LANDSCAPE)
    out = _rgb(comp.compose(frame))
    x0, y0, x1, y1 = comp.plan.dest
    assert (x0, x1) == (0, 720) and y1 - y0 == 406 and y0 % 2 == 0  # 405, made even
    mid = (y0 + y1) // 2
    assert out[mid, 0, 0] > 200 and out[mid, 0, 2] < 60
    assert out[mid, 719, 2] > 200 and out[mid, 719, 0] < 60


def test_contain_without_background_fills_bars_with_blurred_frame() -> None:
    frame = np.full((720, 1280, 3), (40, 160, 220), np.uint8)
    comp = Compositor(LANDSCAPE, (560, 200, 720, 400), RenderOptions("720p", "9:16", "contain"))
    out = _rgb(comp.compose(frame))
    bar = out[: comp.plan.dest[1]].reshape(-1, 3).astype(int)
    # Darkened copy of the frame's colour, not black.
    assert np.all(np.abs(bar.mean(axis=0) - np.array((40, 160, 220)) * 0.55) < 4)


def test_contain_with_colour_background_fills_bars() -> None:
    options = RenderOptions("720p", "9:16", "contain", background=Background(color="#10C020"))
    comp = Compositor(LANDSCAPE, (560, 200, 720, 400), options)
    out = _rgb(comp.compose(_frame(LANDSCAPE)))
    assert _near(out[5, 5], (0x10, 0xC0, 0x20))
    assert _near(out[-5, -5], (0x10, 0xC0, 0x20))


def test_image_background_is_scaled_to_cover(tmp_path: Path) -> None:
    image = np.zeros((100, 300, 3), np.uint8)
    image[:, :, 2] = 255  # blue in RGB → write as BGR for cv2
    path = tmp_path / "bg.png"
    cv2.imwrite(str(path), image)
    options = RenderOptions(
        "720p", "16:9", "cover", remove_background=True, background=Background(image_path=path)
    )
    comp = Compositor(LANDSCAPE, (560, 200, 720, 400), options)
    alpha = np.zeros((720, 1280), np.uint8)
    out = _rgb(comp.compose(_frame(LANDSCAPE), alpha))
    assert out.shape == (720, 1280, 3)
    assert np.all(out[:, :, 0] >= 250) and np.all(out[:, :, 2] <= 5)  # all red (from BGR blue)


def test_background_colour_shows_where_alpha_is_zero() -> None:
    options = RenderOptions(
        "720p", "16:9", "cover", remove_background=True, background=Background(color="#FF8000")
    )
    comp = Compositor(LANDSCAPE, (560, 200, 720, 400), options)
    frame = np.full((720, 1280, 3), (0, 0, 255), np.uint8)
    alpha = np.zeros((720, 1280), np.uint8)
    alpha[100:700, 400:900] = 255
    out = _rgb(comp.compose(frame, alpha))
    assert _near(out[10, 10], (255, 128, 0))  # background
    assert _near(out[400, 640], (0, 0, 255))  # person
    # The edge is a blend, not a hard step (feathered) and has no foreign colours.
    edge = out[400, 395:405].astype(int)
    assert len({tuple(p) for p in edge}) > 2
    assert np.all(edge[:, 1] <= 131)


def test_default_matte_background_is_studio_grey() -> None:
    comp = Compositor(
        LANDSCAPE, (560, 200, 720, 400), RenderOptions("720p", remove_background=True)
    )
    out = _rgb(comp.compose(_frame(LANDSCAPE), np.zeros((720, 1280), np.uint8))).astype(int)
    spread = out.max(axis=2) - out.min(axis=2)
    assert spread.max() <= 12  # neutral
    assert out[360, 640].mean() > out[5, 5].mean() + 10  # lighter behind the subject


def test_contain_with_the_background_removed_stands_the_picture_on_the_bottom_edge() -> None:
    # Talking-head footage cuts the person at its bottom edge (the chest): centred over a
    # colour that was a line across the frame, a bust floating over a band of the colour.
    green = RenderOptions("720p", "9:16", "contain", remove_background=True,
                          background=Background(color="#10C020"))  # fmt: skip
    comp = Compositor(LANDSCAPE, (560, 200, 720, 400), green)
    x0, y0, x1, y1 = comp.plan.dest
    assert (x0, x1, y1) == (0, 720, 1280) and y0 > 800  # the whole picture, at the bottom
    frame = np.full((720, 1280, 3), 200, np.uint8)
    alpha = np.zeros((720, 1280), np.uint8)
    alpha[300:, 540:740] = 255  # a person reaching the footage's bottom edge
    out = _rgb(comp.compose(frame, alpha))
    assert _near(out[1279, 360], (200, 200, 200), 3)  # the chest meets the frame's edge
    assert _near(out[y0 // 2, 360], (16, 192, 32), 3)  # the background fills the rest
    # Without removal contain letterboxes in the middle, as before.
    plain = Compositor(LANDSCAPE, (560, 200, 720, 400), RenderOptions("720p", "9:16", "contain"))
    py0, py1 = plain.plan.dest[1], plain.plan.dest[3]
    assert abs(py0 - (1280 - py1)) <= 2


def test_webm_with_matting_is_a_transparent_picture() -> None:
    options = RenderOptions("720p", "16:9", "contain", remove_background=True, output_format="webm")
    comp = Compositor(LANDSCAPE, (560, 200, 720, 400), options)
    alpha = np.zeros((720, 1280), np.uint8)
    alpha[200:600, 500:800] = 255
    out = comp.compose(np.full((720, 1280, 3), 200, np.uint8), alpha)
    assert isinstance(out, yuv.AlphaPicture)  # planes and alpha, for VP9 as they are
    assert out.picture.shape == (1080, 1280) and out.alpha.shape == (720, 1280)
    assert out.alpha[10, 10] == 0 and out.alpha[400, 640] == 255
    assert _near(yuv.to_rgb(out.picture)[400, 640], (200, 200, 200), 1)
    # With a background the WebM is the opaque composite: a plain picture.
    opaque = replace(options, background=Background(color="#00ff00"))
    out = Compositor(LANDSCAPE, (560, 200, 720, 400), opaque).compose(
        np.full((720, 1280, 3), 200, np.uint8), alpha
    )
    assert yuv.is_picture(out) and _near(yuv.to_rgb(out)[10, 10], (0, 255, 0), 3)


def test_wrong_frame_size_is_a_render_error() -> None:
    comp = Compositor(LANDSCAPE, (560, 200, 720, 400), RenderOptions("720p"))
    with pytest.raises(RenderError) as err:
        comp.compose(_frame(PORTRAIT))
    assert err.value.code == "frame_size_mismatch"


def test_parse_color() -> None:
    assert parse_color("#0a0B0c") == (10, 11, 12)
    assert parse_color("#fff") == (255, 255, 255)
    with pytest.raises(RenderError):
        parse_color("blue")


def test_enlarged_matte_is_blended_at_source_size_with_the_same_result() -> None:
    options = RenderOptions(
        "1080p", "9:16", "cover", remove_background=True, background=Background(color="#10A040")
    )
    comp = Compositor(LANDSCAPE, (560, 200, 720, 400), options)
    x0, y0, x1, y1 = comp.plan.crop
    assert comp.view.size == (x1 - x0, y1 - y0)  # enlarging: the engine draws at source scale
    assert comp._behind_view is not None  # the cheap path is taken when enlarging
    frame = np.full((720, 1280, 3), (200, 40, 30), np.uint8)
    alpha = np.zeros((720, 1280), np.uint8)
    alpha[150:720, 520:760] = 255
    out = _rgb(comp.compose(frame, alpha))
    assert out.shape == (1920, 1080, 3)
    assert _near(out[5, 5], (16, 160, 64))  # background colour where alpha is 0
    x0, y0, x1, _ = comp.plan.crop
    k = 1080 / (x1 - x0)
    cx, cy = round((640 - x0) * k), round((500 - y0) * k)
    assert _near(out[cy, cx], (200, 40, 30))  # the person, untouched
    edge = out[cy, round((520 - x0) * k) - 6 : round((520 - x0) * k) + 6].astype(int)
    assert len({tuple(p) for p in edge}) > 3  # a soft edge, not a step


def _soft_alpha(size: tuple[int, int], seed: int = 0) -> np.ndarray:
    """A person-like matte: opaque inside an ellipse, a soft band round it, 0 outside."""
    width, height = size
    alpha = np.zeros((height, width), np.uint8)
    cv2.ellipse(alpha, (width // 2, height // 2), (width // 4, height // 3), 0, 0, 360, 255, -1)
    return cv2.GaussianBlur(alpha, (0, 0), 3 + seed)


def test_shrunk_matte_is_blended_at_output_scale() -> None:
    """720p from 1080p footage over a colour: the picture and its matte are placed at output
    scale (where the engine draws) and blended there, soft pixels only."""
    src = (1920, 1080)
    options = RenderOptions(
        "720p", "16:9", "cover", remove_background=True, background=Background(color="#2F6FB0")
    )
    comp = Compositor(src, (860, 200, 1060, 460), options)
    assert comp.view.size == (1280, 720) and comp._behind_view is not None
    frame = cv2.GaussianBlur(_frame(src, 3), (0, 0), 2)  # footage-like: not pure noise
    alpha = _soft_alpha(src)
    out = comp.compose(frame, alpha)
    picture = cv2.resize(frame, (1280, 720), interpolation=cv2.INTER_LINEAR).astype(np.float64)
    a = cv2.resize(alpha, (1280, 720), interpolation=cv2.INTER_LINEAR)
    a_out = cv2.GaussianBlur(a, (3, 3), 0.8).astype(np.float64)[:, :, None] / 255
    expected = picture * a_out + np.array([0x2F, 0x6F, 0xB0]) * (1 - a_out)
    want = yuv.from_rgb(np.round(expected).astype(np.uint8)).astype(int)
    assert np.abs(out[:720].astype(int) - want[:720]).max() <= 2  # luma
    assert np.abs(out[720:].astype(int) - want[720:]).max() <= 3  # chroma: 2x2 means of both
    assert np.array_equal(comp.compose_placed(comp.view.place(frame), comp.view.place_alpha(alpha)),
                          out)  # fmt: skip


@pytest.mark.parametrize(
    ("src", "resolution", "aspect"),
    [((1920, 1080), "720p", "16:9"), ((1920, 1080), "720p", "9:16"), ((1080, 1920), "720p", "9:16"),
     ((1920, 1080), "1080p", "16:9"), ((640, 360), "1080p", "16:9")],
)  # fmt: skip
def test_view_maps_source_points_where_the_picture_puts_them(
    src: tuple[int, int], resolution: str, aspect: str
) -> None:
    """An engine drawing in the view at ``to_view · p`` lands where the source's pixel p lands."""
    from twinstudio.twins.bank import apply_affine

    comp = Compositor(src, (src[0] // 2 - 80, src[1] // 3, src[0] // 2 + 80, src[1] // 2),
                      RenderOptions(resolution, aspect, "cover"))  # fmt: skip
    view = comp.view
    x0, y0, x1, y1 = comp.plan.crop
    d0, _, d1, _ = comp.plan.dest
    assert view.size[0] <= max(x1 - x0, d1 - d0)  # never more pixels than shown or filmed
    for px, py in [(x0 + 40.0, y0 + 30.0), ((x0 + x1) / 2, (y0 + y1) / 2), (x1 - 50.0, y1 - 40.0)]:
        image = np.zeros((src[1], src[0]), np.float32)
        image[int(py), int(px)] = 1.0
        image = cv2.GaussianBlur(image, (0, 0), 6)  # a smooth dot: its peak survives resizing
        placed = view.place(image)
        ys, xs = np.mgrid[: placed.shape[0], : placed.shape[1]]
        w = placed / placed.sum()
        centre = np.array([(xs * w).sum(), (ys * w).sum()])
        want = apply_affine(view.to_view, np.array([[int(px), int(py)]], np.float64))[0]
        assert np.abs(centre - want).max() < 0.1, (centre, want)


@pytest.mark.parametrize(
    ("resolution", "aspect"), [("720p", "16:9"), ("720p", "9:16"), ("1080p", "16:9")]
)
def test_decoded_frames_are_placed_from_their_planes_like_from_rgb(
    tmp_path: Path, resolution: str, aspect: str
) -> None:
    """``View.place_decoded`` (shrinking the YUV planes, never converting) gives the picture that
    converting to RGB first and then placing gives. The reference conversion is the exact
    BT.601 limited-range formula: swscale's default (``to_ndarray("rgb24")``) reads ~1 level
    dark on this footage, OpenCV's within ±0.5."""
    import av

    from twinstudio.twins.video import VideoWriter

    src = (1920, 1080)
    ys, xs = np.mgrid[:1080, :1920].astype(np.float32)
    scene = np.dstack([128 + 100 * np.sin(xs / 90), 128 + 90 * np.cos(ys / 70),
                       128 + 80 * np.sin((xs + ys) / 120)]).astype(np.uint8)  # fmt: skip
    cv2.circle(scene, (980, 420), 120, (230, 40, 60), -1)  # a sharp colour edge
    path = tmp_path / "base.mp4"
    with VideoWriter(path, src, 25) as writer:
        writer.write(scene)
    comp = Compositor(src, (880, 280, 1080, 560), RenderOptions(resolution, aspect, "cover"))
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        expected = comp.view.place(_bt601_to_rgb(frame.to_ndarray())).astype(int)
        got = yuv.to_rgb(comp.view.place_decoded(frame))
    assert got.shape == expected.shape == (comp.view.size[1], comp.view.size[0], 3)
    diff = np.abs(got.astype(int) - expected)
    assert diff.mean() < 1.0 and np.percentile(diff, 99) <= 6  # edges: chroma resampled apart


def _bt601_to_rgb(yuv: np.ndarray) -> np.ndarray:
    """Planar yuv420p (h·3/2, w) → RGB uint8 by the float BT.601 limited-range formula."""
    h, w = yuv.shape[0] * 2 // 3, yuv.shape[1]
    flat = yuv.reshape(-1).astype(np.float64)
    y = (flat[: h * w].reshape(h, w) - 16) * 255 / 219
    planes = [flat[h * w + k * h * w // 4 : h * w + (k + 1) * h * w // 4].reshape(h // 2, w // 2)
              for k in range(2)]  # fmt: skip
    u, v = ((np.repeat(np.repeat(p, 2, 0), 2, 1) - 128) * 255 / 224 for p in planes)
    rgb = np.dstack([y + 1.402 * v, y - 0.344136 * u - 0.714136 * v, y + 1.772 * u])
    return np.clip(np.round(rgb), 0, 255).astype(np.uint8)
