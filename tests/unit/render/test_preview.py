"""Previews: the JPEG thumbnail and the GIF."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from tests.media import moving_square
from twinstudio.render import yuv
from twinstudio.render.preview import GifWriter, make_thumbnail

SIZE = (256, 144)


def test_thumbnail_and_gif_open_with_pil(tmp_path: Path) -> None:
    frames = list(moving_square(30, SIZE, channels=4))
    thumb = make_thumbnail(frames[0], tmp_path / "t.jpg")
    with Image.open(thumb) as image:
        assert image.format == "JPEG" and image.size == SIZE
    gif = GifWriter(tmp_path / "p.gif", every_n=2, side=128, fps=25, seconds=0.8)
    for frame in frames[:18]:
        gif.add(frame)
    assert not gif.done and not gif.path.exists()
    gif.add(frames[18])  # the 10th kept frame (0.8 s * 25 fps / 2): written at once, let go
    assert gif.full and gif.done and gif.path.exists() and gif._frames == []
    for frame in frames[19:]:
        gif.add(frame)
    assert gif._frames == []  # frames after the limit are not kept
    path = gif.close()
    assert path == gif.path
    with Image.open(path) as image:
        assert image.format == "GIF" and image.size == (128, 72)
        assert getattr(image, "n_frames", 1) == 10
        assert image.info["duration"] == 80


def test_gif_from_i420_pictures_keeps_their_colours_and_is_written_on_close(
    tmp_path: Path,
) -> None:
    rgb = np.zeros((1920, 1080, 3), np.uint8)  # 9:16, as a portrait render's frames
    rgb[:960] = (200, 40, 40)
    rgb[960:] = (30, 90, 200)
    gif = GifWriter(tmp_path / "p.gif", every_n=1, side=480, fps=25, seconds=1.0)
    for i in range(5):  # fewer than the limit: written by close
        rgb[:200, :200] = 50 * i  # a corner that changes, so no frame is merged away
        gif.add(yuv.from_rgb(rgb))
    assert not gif.done and gif._frames[0].mode == "P"  # one byte a pixel, as it comes
    path = gif.close()
    assert path is not None and gif.done
    with Image.open(path) as image:
        assert image.size == (270, 480) and getattr(image, "n_frames", 1) == 5  # 480 the long side
        assert image.mode == "P"
        top = np.asarray(image.convert("RGB"))[120, 135].astype(int)
        bottom = np.asarray(image.convert("RGB"))[360, 135].astype(int)
    assert np.abs(top - (200, 40, 40)).max() <= 12
    assert np.abs(bottom - (30, 90, 200)).max() <= 12


def test_previews_of_transparent_pictures_show_grey_where_nothing_is(tmp_path: Path) -> None:
    rgb = np.full((*SIZE[::-1], 3), (200, 40, 40), np.uint8)
    alpha = np.zeros(SIZE[::-1], np.uint8)
    alpha[:, :128] = 255
    frame = yuv.AlphaPicture(yuv.from_rgb(rgb), alpha)
    with Image.open(make_thumbnail(frame, tmp_path / "t.jpg")) as image:
        thumb = np.asarray(image.convert("RGB")).astype(int)
    gif = GifWriter(tmp_path / "p.gif", every_n=1, side=128, fps=25, seconds=0.2)
    for _ in range(5):
        gif.add(frame)
    with Image.open(gif.path) as image:
        assert image.size == (128, 72)
        small = np.asarray(image.convert("RGB")).astype(int)
    for picture, left, right in ((thumb, 60, 200), (small, 30, 100)):
        assert np.abs(picture[36, left] - (200, 40, 40)).max() <= 12
        assert np.abs(picture[36, right] - (128, 128, 128)).max() <= 12


def test_gif_with_no_frame_writes_nothing(tmp_path: Path) -> None:
    gif = GifWriter(tmp_path / "p.gif")
    assert gif.close() is None and not (tmp_path / "p.gif").exists()


def _scene(i: int, rng: np.random.Generator) -> np.ndarray:
    """A textured still picture (a photo's background) with camera noise, and a square that
    moves across it."""
    y, x = np.mgrid[0:270, 0:480]
    base = np.dstack([(x * 255 // 479), (y * 255 // 269), ((x + y) * 255 // 748)])
    picture = base + rng.integers(-2, 3, base.shape)  # noise below CHANGE_LEVELS
    picture[100:160, 40 + 30 * i : 100 + 30 * i] = (250, 240, 20)
    return np.clip(picture, 0, 255).astype(np.uint8)


def _decoded(path: Path) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Every frame as a player shows it: Pillow's reader and FFmpeg's (browsers' kind)."""
    import av

    shown = []
    with Image.open(path) as image:
        for k in range(getattr(image, "n_frames", 1)):
            image.seek(k)
            shown.append(np.asarray(image.convert("RGB")).astype(int))
    with av.open(str(path)) as container:
        ffmpeg = [f.to_ndarray(format="rgb24").astype(int) for f in container.decode(video=0)]
    return shown, ffmpeg


def test_gif_frames_code_only_what_changed_and_play_back_whole(tmp_path: Path) -> None:
    """Each frame after the first holds what moved (the rest shows through), so a still
    background does not shimmer with new dither dots and the file is a fraction of one that
    codes every pixel; decoded, every frame is still its picture."""
    rng = np.random.default_rng(7)
    scenes = [_scene(i, rng) for i in range(10)]
    gif = GifWriter(tmp_path / "p.gif", every_n=1, side=480, fps=10, seconds=1.0)
    for scene in scenes:
        gif.add(scene)
    assert gif.done
    every_pixel = tmp_path / "every.gif"  # the same palette images, each coded whole
    images = [Image.fromarray(s).quantize(palette=gif._coder.palette) for s in scenes]
    images[0].save(every_pixel, save_all=True, append_images=images[1:], duration=100, loop=0)
    assert gif.path.stat().st_size < 0.5 * every_pixel.stat().st_size
    for decoded in _decoded(gif.path):
        assert len(decoded) == 10
        for k, (frame, scene) in enumerate(zip(decoded, scenes, strict=True)):
            blur = [cv2.blur(a.astype(np.float32), (5, 5)) for a in (frame, scene)]
            assert np.abs(blur[0] - blur[1]).mean() < 4  # the picture, dithered
            square = frame[110:150, 50 + 30 * k : 90 + 30 * k]
            assert np.abs(square - (250, 240, 20)).max(axis=-1).mean() < 20  # it moved here
            if k:  # where it was: the background again, no trail
                left = frame[110:150, 20 + 30 * k : 30 + 30 * k]
                assert np.abs(left - scene[110:150, 20 + 30 * k : 30 + 30 * k]).mean() < 25
        background = [f[200:260, 200:460] for f in decoded]  # below the square's path
        assert all(np.array_equal(background[0], b) for b in background[1:])  # still
