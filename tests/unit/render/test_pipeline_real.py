"""End to end on real footage (slow): train a twin, render speech, check the video.

Footage is research-only material read from ``/work/shared/footage`` at run time (never
committed); the tests skip when it is absent.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from twinstudio.errors import RenderError
from twinstudio.render import RenderOptions, render_video
from twinstudio.speech.types import Speech, Timing
from twinstudio.twins import train_twin
from twinstudio.twins.demo import demo_source

FOOTAGE = Path("/work/shared/footage")
CLIP = FOOTAGE / "clips" / "sadtalker_hdtf_ed_markey_8s.mp4"


def _speech(seconds: float = 3.0, rate: int = 16000) -> Speech:
    """A hand-made Speech: a hum with phonemes tiling it exactly (no TTS needed)."""
    n = int(seconds * rate)
    t = np.arange(n) / rate
    audio = 0.2 * np.sin(2 * np.pi * 140 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))
    symbols = ["", "h", "ə", "l", "oʊ", "", "p", "ɑ", "p", "ə", "b", "ɔ", "t", "f", "aɪ", "v",
               "b", "l", "uː", "b", "uː", "t", "s", ""]  # fmt: skip
    total = round(seconds * 1000)
    edges = np.linspace(0, total, len(symbols) + 1).round().astype(int)
    phonemes = [
        Timing(s, int(a), int(b)) for s, a, b in zip(symbols, edges[:-1], edges[1:], strict=True)
    ]
    return Speech(audio=audio.astype(np.float32), sample_rate=rate, phonemes=phonemes)


def _faces_on_every_frame(video: Path) -> tuple[int, int]:
    import av

    from twinstudio.twins.faces import FaceTracker

    tracker = FaceTracker()
    n = found = 0
    with av.open(str(video)) as container:
        for frame in container.decode(video=0):
            n += 1
            found += tracker.landmarks(frame.to_ndarray(format="rgb24")) is not None
    tracker.close()
    return n, found


@pytest.fixture(scope="module")
def video_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not CLIP.is_file():
        pytest.skip(f"real footage not available ({CLIP}); see shared/footage/README.md")
    pack = tmp_path_factory.mktemp("twin") / "pack"
    info = train_twin(CLIP, pack)
    assert info.fps == 25 and info.n_frames == 200 and info.orientation == "square"
    assert info.preview_image.is_file() and info.preview_video is not None
    assert 0 <= info.quality["overall"] <= 100 and isinstance(info.quality["advice"], list)
    return pack


@pytest.mark.slow
def test_render_real_twin(video_pack: Path, tmp_path: Path) -> None:
    from twinstudio.render.encode import probe

    speech = _speech(3.0)
    result = render_video(video_pack, speech, RenderOptions(resolution="720p"), tmp_path)
    info = probe(result.video_path)
    assert (result.width, result.height) == (1280, 720) == (info["width"], info["height"])
    assert abs(info["duration"] - speech.duration_s) <= 0.1
    assert result.thumbnail_path.is_file() and result.gif_path.is_file()
    n, found = _faces_on_every_frame(result.video_path)
    assert n == round(3.0 * 25) and found == n


@pytest.mark.slow
def test_background_removal_needs_matting(video_pack: Path, tmp_path: Path) -> None:
    with pytest.raises(RenderError) as info:
        render_video(video_pack, _speech(1.0), RenderOptions(remove_background=True), tmp_path)
    assert info.value.code == "matting_required"


@pytest.mark.slow
def test_multiple_faces_refused(tmp_path: Path) -> None:
    from twinstudio.errors import FootageError

    clip = FOOTAGE / "edge_cases" / "visualvoice_interview_two_speakers_splitscreen_18s.mp4"
    if not clip.is_file():
        pytest.skip("edge-case footage not available")
    with pytest.raises(FootageError) as info:
        train_twin(clip, tmp_path / "pack")
    assert info.value.code == "multiple_faces"


@pytest.mark.slow
def test_demo_photo_twin_renders(tmp_path: Path) -> None:
    info = train_twin(demo_source(), tmp_path / "demo", kind="photo")
    assert info.kind == "photo" and info.preview_video is None
    result = render_video(tmp_path / "demo", _speech(2.0), RenderOptions(resolution="720p",
                          aspect_ratio="9:16", fit="cover"), tmp_path / "out")  # fmt: skip
    assert (result.width, result.height) == (720, 1280)
    n, found = _faces_on_every_frame(result.video_path)
    assert n == 50 and found == n
