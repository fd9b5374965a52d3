"""Bad footage is refused with a FootageError whose code says why, leaving nothing behind."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from twinstudio.errors import FootageError
from twinstudio.twins import train_twin

from .conftest import write_clip, write_face_clip, write_undecodable


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private temp dir for everything training might put in ``tempfile``'s folder."""
    folder = tmp_path / "tmpdir"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _code(source: Path, tmp_path: Path, scratch: Path | None = None, **kwargs: object) -> str:
    pack = tmp_path / "pack"
    with pytest.raises(FootageError) as info:
        train_twin(source, pack, **kwargs)  # type: ignore[arg-type]
    message = info.value.message
    assert len(message) > 40 and message.endswith((".", ")")), message  # a sentence to act on
    assert not pack.exists(), "a refused training left its pack folder behind"
    if scratch is not None:
        assert list(scratch.iterdir()) == [], "a refused training left temporary files"
    return info.value.code


def _text(path: Path) -> Path:
    path.write_text("these are my notes, not a video\n" * 20)
    return path


def _truncated(path: Path) -> Path:
    clip = write_clip(path.with_name("full.mp4"), 6.0)
    path.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])
    return path


BAD_INPUTS: dict[str, tuple[Callable[[Path], Path], str]] = {
    "two_second_clip": (lambda p: write_clip(p, 2.0), "too_short"),
    "blank_wall": (lambda p: write_clip(p, 6.0), "no_face"),
    "text_renamed_mp4": (_text, "not_a_video"),
    "truncated_mp4": (_truncated, "not_a_video"),
    "undecodable_codec": (write_undecodable, "unreadable_codec"),
    "no_audio_track": (lambda p: write_face_clip(p, 6.0), "no_speech"),
    "silent_audio": (lambda p: write_face_clip(p, 6.0, audio="silence"), "no_speech"),
    "music_only": (lambda p: write_face_clip(p, 6.0, audio="tones"), "no_speech"),
    "very_dark": (lambda p: write_face_clip(p, 6.0, brightness=0.12), "too_dark"),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_is_refused_with_its_code(name: str, tmp_path: Path, scratch: Path) -> None:
    make, code = BAD_INPUTS[name]
    source = make(tmp_path / f"{name}.mp4")
    assert _code(source, tmp_path, scratch) == code


def test_refusal_keeps_an_existing_pack_folder_as_it_was(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "keep.txt").write_text("mine")
    with pytest.raises(FootageError):
        train_twin(write_face_clip(tmp_path / "f.mp4", 6.0), pack)
    assert sorted(p.name for p in pack.iterdir()) == ["keep.txt"]


def test_min_duration_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clip = write_clip(tmp_path / "wall.mp4", 3.0)
    assert _code(clip, tmp_path) == "too_short"
    monkeypatch.setenv("TWINSTUDIO_MIN_FOOTAGE_S", "1")
    assert _code(clip, tmp_path) == "no_face"


def test_too_long_footage_is_refused_before_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from twinstudio.twins import ingest

    monkeypatch.setattr(ingest, "MAX_FOOTAGE_S", 4.0)
    assert _code(write_clip(tmp_path / "long.mp4", 6.0), tmp_path) == "too_long"


def test_photo_without_face(tmp_path: Path) -> None:
    from PIL import Image

    img = tmp_path / "wall.png"
    Image.new("RGB", (200, 200), (120, 130, 140)).save(img)
    assert _code(img, tmp_path, kind="photo") == "no_face"


def test_text_is_not_an_image(tmp_path: Path) -> None:
    fake = tmp_path / "face.jpg"
    fake.write_text("not an image")
    assert _code(fake, tmp_path, kind="photo") == "not_an_image"
