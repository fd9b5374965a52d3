"""A background image is read in its own colour profile, its transparency on white, like a photo
twin's portrait (``twins.still``): the colours behind the person are the ones the image shows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.unit.twins.test_still import display_p3_profile, p3_to_srgb
from twinstudio.errors import RenderError
from twinstudio.render import yuv
from twinstudio.render.compose import Compositor, _load_image
from twinstudio.render.types import Background, RenderOptions

P3_MID = (200, 80, 60)


def test_p3_background_comes_out_in_srgb(tmp_path: Path) -> None:
    path = tmp_path / "bg.png"
    Image.new("RGB", (64, 36), P3_MID).save(path, icc_profile=display_p3_profile())
    rgb = _load_image(path, (128, 72))
    assert rgb.shape == (72, 128, 3)
    expected = p3_to_srgb(P3_MID)  # ≈ (216, 69, 50); the raw numbers are 16 levels off
    assert np.abs(rgb[36, 64].astype(int) - expected).max() <= 3, rgb[36, 64]


def test_transparent_background_shows_white_not_what_hides_under_it(tmp_path: Path) -> None:
    path = tmp_path / "cutout.png"
    Image.new("RGBA", (64, 36), (0, 0, 0, 0)).save(path)
    assert np.all(_load_image(path, (128, 72)) == 255)


def test_unreadable_background_is_invalid_background(tmp_path: Path) -> None:
    path = tmp_path / "bg.jpg"
    path.write_text("not an image")
    with pytest.raises(RenderError) as err:
        _load_image(path, (128, 72))
    assert err.value.code == "invalid_background"
    options = RenderOptions(
        "720p", "16:9", "cover", remove_background=True, background=Background(image_path=path)
    )
    with pytest.raises(RenderError) as err:
        Compositor((1280, 720), (560, 200, 720, 400), options)
    assert err.value.code == "invalid_background"


def test_p3_background_behind_the_person(tmp_path: Path) -> None:
    path = tmp_path / "bg.jpg"
    Image.new("RGB", (320, 180), P3_MID).save(
        path, quality=100, subsampling=0, icc_profile=display_p3_profile()
    )
    options = RenderOptions(
        "720p", "16:9", "cover", remove_background=True, background=Background(image_path=path)
    )
    comp = Compositor((1280, 720), (560, 200, 720, 400), options)
    frame = np.zeros((720, 1280, 3), np.uint8)
    out = yuv.to_rgb(comp.compose(frame, np.zeros((720, 1280), np.uint8)))
    assert np.abs(out[10, 10].astype(int) - p3_to_srgb(P3_MID)).max() <= 4, out[10, 10]
