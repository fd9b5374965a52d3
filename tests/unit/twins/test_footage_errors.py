"""Bad footage is refused with a FootageError whose code says why."""

from __future__ import annotations

from pathlib import Path

import pytest

from twinstudio.errors import FootageError
from twinstudio.twins import train_twin

from .conftest import write_clip


def _code(source: Path, tmp_path: Path, **kwargs: object) -> str:
    with pytest.raises(FootageError) as info:
        train_twin(source, tmp_path / "pack", **kwargs)  # type: ignore[arg-type]
    assert info.value.message  # a sentence a person can act on
    return info.value.code


def test_two_second_clip_is_too_short(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "short.mp4", 2.0)
    assert _code(clip, tmp_path) == "too_short"


def test_min_duration_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWINSTUDIO_MIN_FOOTAGE_S", "1")
    clip = write_clip(tmp_path / "wall.mp4", 2.0)
    assert _code(clip, tmp_path) == "no_face"


def test_blank_wall_has_no_face(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "wall.mp4", 6.0)
    assert _code(clip, tmp_path) == "no_face"


def test_text_renamed_mp4_is_not_a_video(tmp_path: Path) -> None:
    fake = tmp_path / "notes.mp4"
    fake.write_text("these are my notes, not a video\n" * 20)
    assert _code(fake, tmp_path) == "not_a_video"


def test_truncated_mp4_is_not_a_video(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "full.mp4", 6.0)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])
    assert _code(cut, tmp_path) == "not_a_video"


def test_photo_without_face(tmp_path: Path) -> None:
    from PIL import Image

    img = tmp_path / "wall.png"
    Image.new("RGB", (200, 200), (120, 130, 140)).save(img)
    assert _code(img, tmp_path, kind="photo") == "no_face"


def test_text_is_not_an_image(tmp_path: Path) -> None:
    fake = tmp_path / "face.jpg"
    fake.write_text("not an image")
    assert _code(fake, tmp_path, kind="photo") == "not_an_image"
