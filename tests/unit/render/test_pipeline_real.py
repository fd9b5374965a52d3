"""End to end on real footage (slow): train a twin, render speech, check the video.

Footage is research-only material read from ``/work/shared/footage`` at run time (never
committed); the tests skip when it is absent.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from tests.media import webm_rgba
from tests.unit.speech.helpers import syllables
from twinstudio.cpu import SPEECH_NICE
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
    from twinstudio.render.mediainfo import probe

    speech = _speech(3.0)
    result = render_video(video_pack, speech, RenderOptions(resolution="720p"), tmp_path)
    info = probe(result.video_path)
    assert (result.width, result.height) == (1280, 720) == (info["width"], info["height"])
    assert abs(info["duration"] - speech.duration_s) <= 0.1
    assert result.thumbnail_path.is_file() and result.gif_path.is_file()
    n, found = _faces_on_every_frame(result.video_path)
    assert n == round(3.0 * 25) and found == n


@pytest.mark.slow
@pytest.mark.parametrize(("aspect", "size"), [("16:9", (3840, 2160)), ("9:16", (2160, 3840))])
def test_a_4k_render_is_4k_h264_high_at_a_level_players_decode(
    video_pack: Path, tmp_path: Path, aspect: str, size: tuple[int, int]
) -> None:
    """``resolution: 4k``: the picture at 3840×2160 (or turned), H.264 High 4:2:0 at a level
    hardware decoders take (≤ 5.2), every frame there with the face in it (a 512-px twin
    upscaled ~4×, as a 1080p one would be 2×)."""
    import av

    speech = _speech(1.0)
    result = render_video(video_pack, speech, RenderOptions(resolution="4k", aspect_ratio=aspect),
                          tmp_path)  # fmt: skip
    assert (result.width, result.height) == size
    with av.open(str(result.video_path)) as container:
        stream = container.streams.video[0]
        ctx = stream.codec_context
        assert (ctx.name, ctx.profile, ctx.pix_fmt) == ("h264", "High", "yuv420p")
        assert (stream.width, stream.height) == size
        assert 0 < ctx.level <= 52
    n, found = _faces_on_every_frame(result.video_path)
    assert n == 25 and found == n


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


@pytest.mark.slow
def test_a_matted_photo_twin_renders_onto_a_colour_and_clear(tmp_path: Path) -> None:
    """Training with matting stores the matte (``matte.mov``, PNG frames) and background removal
    reads it: the corners show the colour asked for, the face is still found on every frame;
    with no colour, a WebM is transparent there."""
    from twinstudio.render.types import Background
    from twinstudio.twins import pack as P

    train_twin(demo_source(), tmp_path / "demo", kind="photo", matting=True)
    assert (tmp_path / "demo" / P.MATTE).is_file()
    options = RenderOptions(resolution="720p", remove_background=True,
                            background=Background(color="#2f6fb0"))  # fmt: skip
    result = render_video(tmp_path / "demo", _speech(1.0), options, tmp_path / "out")
    frames = _frames(result.video_path)
    blue = np.array([0x2F, 0x6F, 0xB0])
    for corner in (frames[:, :8, :8], frames[:, :8, -8:]):  # the top corners: backdrop only
        assert np.abs(corner.reshape(-1, 3).mean(axis=0) - blue).max() < 4
    n, found = _faces_on_every_frame(result.video_path)
    assert n == 25 and found == n
    # The same twin as a transparent WebM: VP9 with alpha, nothing behind the person, and the
    # person in the MP4's colours (both are coded with the BT.601 matrix and tagged so).
    from twinstudio.render.mediainfo import probe

    clear = RenderOptions(resolution="720p", remove_background=True, output_format="webm")
    webm = render_video(tmp_path / "demo", _speech(1.0), clear, tmp_path / "clear")
    info = probe(webm.video_path)
    assert info["video_codec"] == "vp9" and info["has_alpha"] and info["color_space"] == 6
    assert webm.thumbnail_path.is_file() and webm.gif_path.is_file()
    rgba = webm_rgba(webm.video_path)
    assert len(rgba) == 25
    alpha = rgba[0][:, :, 3].astype(int)
    assert alpha[:8, :8].max() <= 3 and alpha[:8, -8:].max() <= 3  # the top corners: clear
    face = rgba[0][300:420, 580:700]  # the middle of the face, opaque in both
    assert face[:, :, 3].min() >= 240 and face[:, :, 3].mean() > 254  # (coded with loss)
    shown = frames[0][300:420, 580:700].reshape(-1, 3).mean(axis=0)
    assert np.abs(face[:, :, :3].reshape(-1, 3).mean(axis=0) - shown).max() < 4
    # Over a colour a WebM has nothing to show through: plain VP9, no alpha plane to code.
    onto = RenderOptions(resolution="720p", remove_background=True, output_format="webm",
                         background=Background(color="#2f6fb0"))  # fmt: skip
    opaque = render_video(tmp_path / "demo", _speech(1.0), onto, tmp_path / "opaque")
    info = probe(opaque.video_path)
    assert info["video_codec"] == "vp9" and not info["has_alpha"], info
    corner = webm_rgba(opaque.video_path)[0][:8, :8]
    assert corner[:, :, 3].min() == 255
    assert np.abs(corner[:, :, :3].reshape(-1, 3).mean(axis=0) - blue).max() < 4


def _split(speech: Speech, cuts_s: list[float]) -> list[Speech]:
    """``speech`` cut into pieces at ``cuts_s`` (not on frame boundaries), each piece timed from
    its own start, as ``synthesize_stream`` yields them."""
    rate = speech.sample_rate
    edges = [0, *(round(c * rate) for c in cuts_s), len(speech.audio)]
    pieces = []
    for a, b in itertools.pairwise(edges):
        a_ms, b_ms = round(a * 1000 / rate), round(b * 1000 / rate)

        def clip(ts: list[Timing], a_ms: int = a_ms, b_ms: int = b_ms) -> list[Timing]:
            return [Timing(t.symbol, max(t.start_ms, a_ms) - a_ms, min(t.end_ms, b_ms) - a_ms)
                    for t in ts if t.end_ms > a_ms and t.start_ms < b_ms]  # fmt: skip

        pieces.append(Speech(speech.audio[a:b], rate, clip(speech.phonemes), clip(speech.words),
                             text=f"piece {len(pieces)}"))  # fmt: skip
    return pieces


def _frames(video: Path) -> np.ndarray:
    import av

    with av.open(str(video)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


@pytest.mark.slow
def test_streamed_pieces_make_one_continuous_video(video_pack: Path, tmp_path: Path) -> None:
    """Speech in pieces (as streamed TTS gives it) renders as the whole speech would: the same
    frames count and duration, the base loop running on across pieces, words in video time.
    While speech is made beside the frames OpenCV runs without its thread pool, and gets it
    back afterwards; a render of whole speech keeps it (``twinstudio.cpu``)."""
    speech = _speech(3.0)
    speech.words = [
        Timing("hello", 150, 900),
        Timing("pop", 1000, 1600),
        Timing("boot", 2400, 2900),
    ]
    options = RenderOptions(resolution="720p")
    before = cv2.getNumThreads()
    pool = 3  # whatever the machine's cores
    cv2.setNumThreads(pool)
    threads: dict[str, set[int]] = {"whole": set(), "streamed": set()}
    seen: list[float] = []

    def told(fraction: float) -> None:
        seen.append(fraction)
        threads["streamed"].add(cv2.getNumThreads())

    try:
        whole = render_video(video_pack, speech, options, tmp_path / "whole",
                             progress=lambda _f: threads["whole"].add(cv2.getNumThreads()))  # fmt: skip
        pieces = _split(speech, [0.93, 1.71, 2.33])  # between words
        streamed = render_video(video_pack, iter(pieces), options, tmp_path / "streamed",
                                progress=told, text_length=4 * len("piece 0"))  # fmt: skip
        after = cv2.getNumThreads()
    finally:
        cv2.setNumThreads(before)
    assert threads == {"whole": {pool}, "streamed": {1}}
    assert after == pool
    assert streamed.duration_s == whole.duration_s == 3.0
    a, b = _frames(whole.video_path), _frames(streamed.video_path)
    assert a.shape == b.shape and len(a) == 75
    # Above the mouth the pictures are the base loop's: identical frames, not restarted per piece.
    top = slice(0, int(a.shape[1] * 0.3))
    assert np.abs(a[:, top].astype(int) - b[:, top].astype(int)).mean() < 2.0
    assert [w.symbol for w in streamed.words] == ["hello", "pop", "boot"]
    assert all(abs(x.start_ms - y.start_ms) <= 1 and abs(x.end_ms - y.end_ms) <= 1
               for x, y in zip(streamed.words, speech.words, strict=True))  # fmt: skip
    assert seen == sorted(seen) and seen[-1] == 1.0 and 0 < seen[0] < 0.5


@pytest.mark.slow
def test_speech_is_made_beside_the_frames_at_background_priority(tmp_path: Path) -> None:
    """Pieces are made in a background thread at the lowest CPU priority while the renderer
    draws the frames of those already made (kept on disk, not in memory); progress only rises
    and ends at 1.0; the spool is gone afterwards. A failure while making a later piece fails
    the render and leaves no video behind."""
    train_twin(demo_source(), tmp_path / "demo", kind="photo")
    progress: list[float] = []
    drawn = threading.Event()  # a frame was written (progress is told every 10 frames)
    made_in: list[tuple[str, int]] = []
    waited: list[bool] = []
    pieces = _split(_speech(6.0), [1.0, 2.0, 3.0, 4.0, 5.0])

    def told(fraction: float) -> None:
        progress.append(fraction)
        drawn.set()

    def produce() -> Iterator[Speech]:
        me = threading.current_thread()
        made_in.append((me.name, os.getpriority(os.PRIO_PROCESS, threading.get_native_id())))
        yield from pieces[:2]  # 50 frames' worth
        waited.append(drawn.wait(60))  # made first, the frames would never come: False
        yield from pieces[2:]

    result = render_video(tmp_path / "demo", produce(), RenderOptions(resolution="720p"),
                          tmp_path / "out", progress=told, text_length=6 * len("piece 0"))  # fmt: skip
    assert result.duration_s == 6.0
    assert waited == [True]  # frames of the first pieces were drawn before the rest was made
    assert made_in == [("speech", SPEECH_NICE)]
    assert progress == sorted(progress) and progress[-1] == 1.0 and 0 < progress[0] < 0.5
    assert not list((tmp_path / "out").glob("speech-*"))  # the spool is removed

    def failing() -> Iterator[Speech]:
        yield from pieces[:3]
        raise RenderError("tts_failed", "the voice engine crashed")

    with pytest.raises(RenderError) as info:
        render_video(tmp_path / "demo", failing(), RenderOptions(resolution="720p"),
                     tmp_path / "failed")  # fmt: skip
    assert info.value.code == "tts_failed"
    assert not (tmp_path / "failed" / "video.mp4").exists()
    assert not list((tmp_path / "failed").glob("speech-*"))


@pytest.mark.slow
def test_pieces_with_no_audio_are_empty_speech_only_when_all_of_them_are(tmp_path: Path) -> None:
    """A first piece with no audio is no reason to stop (its speech may come in the next one);
    no piece at all, or nothing but empty pieces, is ``empty_speech`` and no video."""
    train_twin(demo_source(), tmp_path / "demo", kind="photo")
    options = RenderOptions(resolution="720p")
    speech = _speech(2.0)
    empty = Speech(np.zeros(0, np.float32), speech.sample_rate, [], [], "")

    def late() -> Iterator[Speech]:
        yield empty
        time.sleep(0.5)  # the renderer has the empty piece alone for a while
        yield speech

    result = render_video(tmp_path / "demo", late(), options, tmp_path / "late")
    assert result.duration_s == 2.0
    for name, pieces in (("none", []), ("all-empty", [empty, empty])):
        with pytest.raises(RenderError) as info:
            render_video(tmp_path / "demo", iter(pieces), options, tmp_path / name)
        assert info.value.code == "empty_speech"
        assert not (tmp_path / name / "video.mp4").exists()


@pytest.mark.slow
def test_engine_drawing_in_a_smaller_view_matches_the_placed_full_frames(video_pack: Path) -> None:
    """Mouths pasted straight into a half-size view (what a 720p output of 1080p footage does)
    look like the full-size frames shrunk afterwards: same mouth, same place."""
    from twinstudio.render.compose import _make_view
    from twinstudio.render.lipsync.base import engine_for
    from twinstudio.render.motion import track_for_pack
    from twinstudio.twins.pack import TwinPack

    pack = TwinPack.open(video_pack)
    w, h = pack.size
    view = _make_view((0, 0, w, h), (w // 2, h // 2))
    track = track_for_pack(pack, _speech(1.2), 30, 1.0)
    engine = engine_for(pack)
    full = [view.place(f.rgb) for f in engine.frames(pack, track)]
    small = [f.rgb for f in engine.frames(pack, track, view=view)]
    assert len(small) == len(full) == 30 and small[0].shape == (h // 2, w // 2, 3)
    lm = pack.track["landmarks"][0]
    mx, my = (lm[[13, 14]].mean(axis=0) / 2).astype(int)  # the mouth centre, in the view
    r = max(8, int(np.ptp(lm[:, 0]) / 8))
    for a, b in zip(full, small, strict=True):
        signed = b.astype(int) - a.astype(int)
        # The view's frames come from OpenCV's YUV→RGB (exact), the full ones from swscale's
        # (~1 level dark): a uniform offset of about a level, nothing else.
        bias = np.median(signed.reshape(-1, 3), axis=0)
        assert np.abs(bias).max() <= 2
        diff = np.abs(signed - bias)
        assert diff.mean() < 1.5  # the frame as a whole
        assert diff[my - r : my + r, mx - r : mx + r].mean() < 6  # the mouth itself
    opening = [int(np.abs(a.astype(int) - full[0].astype(int))[my - r : my + r, mx - r : mx + r]
                   .sum()) for a in full[1:]]  # fmt: skip
    assert max(opening) > 0  # the mouth moves: a pasted mouth, not the base frame twice


@pytest.mark.slow
def test_loop_crossfades_are_morphed_once_and_reused(
    video_pack: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every jump back to the loop's start morphs the same frames with the same partners: the
    morphs are made at the first jump only, and later jumps show the very same pictures away
    from the pasted mouth (which follows the speech)."""
    from twinstudio.render import yuv
    from twinstudio.render.baseloop import crossfade_window
    from twinstudio.render.compose import _make_view
    from twinstudio.render.lipsync.base import engine_for
    from twinstudio.render.motion import track_for_pack
    from twinstudio.twins.pack import TwinPack

    pack = TwinPack.open(video_pack)
    w, h = pack.size
    loop = pack.meta["loop"]
    length = int(loop["end"]) - int(loop["start"])
    n = 3 * length + 10  # three jumps back
    partner, _ = crossfade_window(pack, 0, n)
    fading = np.flatnonzero(partner >= 0)
    per_jump = len(fading) // 3
    assert per_jump >= 2 and len(fading) == 3 * per_jump
    warps = 0
    real_warp = yuv.warp

    def counted(*args: object, **kwargs: object) -> np.ndarray:
        nonlocal warps
        warps += 1
        return real_warp(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(yuv, "warp", counted)
    view = _make_view((0, 0, w, h), (w // 2, h // 2))
    track = track_for_pack(pack, _speech(n / pack.fps), n, 1.0)
    frames = {t: f.picture for t, f in enumerate(engine_for(pack).stream(pack, [track], view=view))
              if t in set(fading.tolist()) | {int(fading[0]) - 1}}  # fmt: skip
    assert warps == 2 * per_jump  # loop frame and partner, at the first jump only
    # Landmarks 145 and 374: the lower eyelids. Mouths are pasted well below them (half-size
    # view; the highest they are in any frame, less the morph's small motion).
    eye_line = int(pack.track["landmarks"][:, [145, 374], 1].min() / 2) - 4
    assert eye_line > h // 8
    for k in range(per_jump):
        first, second, third = (frames[int(fading[k + i * per_jump])] for i in range(3))
        assert np.array_equal(second[:eye_line], third[:eye_line])
        assert np.array_equal(first[:eye_line], second[:eye_line])
    before = frames[int(fading[0]) - 1]
    assert not np.array_equal(frames[int(fading[0])][:eye_line], before[:eye_line])


@pytest.mark.slow
def test_mouths_on_loop_fades_follow_the_morphs_residual_flow(
    video_pack: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mouth pasted on a loop fade's morph is moved along the residual flow the morph moved
    the loop frame along (``crossfade.Residual``, unit-tested in ``test_paste.py``): every fade
    frame's paste gets its fade's flow, and this footage's head moves enough between the frames
    of a jump for the flow to move a paste by pixels. Frames that play as filmed get none."""
    from twinstudio.render.baseloop import crossfade_window
    from twinstudio.render.compose import _make_view
    from twinstudio.render.lipsync import crossfade, sample
    from twinstudio.render.lipsync.base import engine_for
    from twinstudio.render.motion import track_for_pack
    from twinstudio.twins.pack import TwinPack

    pack = TwinPack.open(video_pack)
    w, h = pack.size
    loop = pack.meta["loop"]
    n = int(loop["end"]) - int(loop["start"]) + 10  # through the first jump back
    partner, _ = crossfade_window(pack, 0, n)
    calls: list[object] = []
    real_paste = sample.Paster.paste

    def paste(self: sample.Paster, *args: object, **kwargs: object) -> object:
        calls.append(args[6] if len(args) > 6 else kwargs.get("moved"))
        return real_paste(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sample.Paster, "paste", paste)
    view = _make_view((0, 0, w, h), (w, h))
    track = track_for_pack(pack, _speech(n / pack.fps), n, 1.0)
    for _ in engine_for(pack).stream(pack, [track], view=view):
        pass
    assert len(calls) == n
    fades = [calls[t] for t in np.flatnonzero(partner >= 0)]
    assert fades and all(isinstance(m, crossfade.Residual) for m in fades)
    assert max(m.reach for m in fades if isinstance(m, crossfade.Residual)) >= 2
    assert all(calls[t] is None for t in np.flatnonzero(partner < 0))


def test_crossfade_partners_are_decoded_before_the_first_frame_when_the_length_is_known(
    video_pack: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Told the video's length, the engine decodes the crossfade partners before its base-loop
    decoder starts (not beside it, mid-render), and only when the video reaches a crossfade;
    the frames are the same either way."""
    import hashlib

    from twinstudio.render.baseloop import crossfade_window
    from twinstudio.render.compose import _make_view
    from twinstudio.render.lipsync import sample
    from twinstudio.render.lipsync.base import engine_for
    from twinstudio.render.motion import track_for_pack
    from twinstudio.twins.pack import TwinPack

    pack = TwinPack.open(video_pack)
    w, h = pack.size
    partner, _ = crossfade_window(pack, 0, 400)
    first_fade = int(np.flatnonzero(partner >= 0)[0])
    events: list[str] = []
    real_partners, real_prefetch = sample.Partners.__init__, sample.prefetch

    def partners(self: object, *args: object, **kwargs: object) -> None:
        events.append("partners")
        real_partners(self, *args, **kwargs)  # type: ignore[arg-type]

    def prefetch(*args: object, **kwargs: object) -> object:
        events.append("prefetch")
        return real_prefetch(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sample.Partners, "__init__", partners)
    monkeypatch.setattr(sample, "prefetch", prefetch)
    view = _make_view((0, 0, w, h), (w // 2, h // 2))
    head, rest = first_fade // 2, first_fade - first_fade // 2 + 12  # the fade in piece two
    tracks = [track_for_pack(pack, _speech(k / pack.fps), k, 1.0) for k in (head, rest)]

    def render(frames: int | None, pieces: int = 2) -> list[str]:
        events.clear()
        got = engine_for(pack).stream(pack, tracks[:pieces], view=view, frames=frames)
        return [hashlib.md5(f.picture.tobytes()).hexdigest() for f in got]

    known = render(head + rest)
    assert events == ["partners", "prefetch"]  # before the base loop's decoder
    unknown = render(None)
    assert events == ["prefetch", "partners"]  # when piece two needed them
    assert known == unknown and len(known) == head + rest
    render(head, pieces=1)  # a video that ends before the first fade: nothing decoded for it
    assert events == ["prefetch"]


@pytest.mark.slow
def test_a_footage_frame_shown_again_differs_only_inside_its_changed_box(video_pack: Path) -> None:
    """The engine says which footage frame each picture shows and the box its mouth changed
    (``SyncedFrame``): two pictures of one footage frame are the same pixels outside their
    two boxes, and the boxes hold the mouth that moved; crossfade morphs name no frame."""
    from twinstudio.render import yuv
    from twinstudio.render.baseloop import crossfade_window
    from twinstudio.render.compose import Compositor
    from twinstudio.render.lipsync.base import engine_for
    from twinstudio.render.motion import track_for_pack
    from twinstudio.render.reuse import union
    from twinstudio.twins.pack import TwinPack

    pack = TwinPack.open(video_pack)
    loop = pack.meta["loop"]
    n = 2 * (int(loop["end"]) - int(loop["start"])) + 10
    view = Compositor(pack.size, pack.face_box, RenderOptions("720p", "9:16")).view
    track = track_for_pack(pack, _speech(n / pack.fps), n, 1.0)
    partner, _ = crossfade_window(pack, 0, n)
    first: dict[int, tuple[np.ndarray, tuple[int, int, int, int] | None]] = {}
    again = moved = 0
    for t, frame in enumerate(engine_for(pack).stream(pack, [track], view=view, frames=n)):
        if partner[t] >= 0:
            assert frame.source is None  # a morph of two footage frames
            continue
        assert frame.source is not None
        if frame.source not in first:
            first[frame.source] = (frame.picture, frame.changed)
            continue
        picture, box = first[frame.source]
        both = union(box, frame.changed)
        outside = np.ones(picture.shape, bool)
        if both is not None:
            for plane in yuv.box_planes(outside, both):
                plane[...] = False
        assert np.array_equal(picture[outside], frame.picture[outside])
        again += 1
        moved += not np.array_equal(picture, frame.picture)
    assert again >= n // 3 and moved >= again // 2  # seen again, mostly with another mouth


@pytest.mark.slow
def test_kept_blends_make_the_frames_composed_whole(video_pack: Path) -> None:
    """The engine's frames over a colour with a matte, 9:16 (blended in the view, then
    upscaled): frames made from kept blends, blended again only in the boxes the engine says
    changed, are the frames composed whole, byte for byte."""
    from twinstudio.render.compose import Compositor
    from twinstudio.render.lipsync.base import engine_for
    from twinstudio.render.motion import track_for_pack
    from twinstudio.render.reuse import KeptBlends
    from twinstudio.render.types import Background
    from twinstudio.twins.pack import TwinPack

    pack = TwinPack.open(video_pack)
    loop = pack.meta["loop"]
    n = int(loop["end"]) - int(loop["start"]) + 25  # into a second turn
    options = RenderOptions("720p", "9:16", remove_background=True,
                            background=Background(color="#336699"))  # fmt: skip
    kept = Compositor(pack.size, pack.face_box, options, keep=pack.meta["n_frames"])
    whole = Compositor(pack.size, pack.face_box, options, keep=pack.meta["n_frames"])
    assert kept._kept is not None and kept.view.size[0] < kept.out_size[0]
    vw, vh = kept.view.size
    alpha = np.zeros((vh, vw), np.uint8)  # one matte for every footage frame
    cv2.ellipse(alpha, (vw // 2, vh // 2), (vw // 3, vh // 2), 0, 0, 360, (255,), -1)
    alpha = cv2.GaussianBlur(alpha, (0, 0), 4)
    hits = 0
    real_get = KeptBlends.get

    def counted(self: KeptBlends, key: int) -> object:
        nonlocal hits
        got = real_get(self, key)
        hits += got is not None
        return got

    track = track_for_pack(pack, _speech(n / pack.fps), n, 1.0)
    frames = engine_for(pack).stream(pack, [track], view=kept.view, frames=n)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(KeptBlends, "get", counted)
        for frame in frames:
            got = kept.compose_placed(frame.picture.copy(), alpha, source=frame.source,
                                      changed=frame.changed)  # fmt: skip
            assert np.array_equal(got, whole.compose_placed(frame.picture, alpha))
    assert hits >= 20


@pytest.mark.slow
def test_a_mouth_pasted_onto_its_own_frame_leaves_it_as_filmed(video_pack: Path) -> None:
    """Bank frame j's own mouth pasted onto the footage frame it was cut from: luma and both
    chroma planes come back as filmed (within the cut's compression), at full and half scale;
    a misplaced or swapped chroma plane, or a shifted warp, would not."""
    from twinstudio.render import yuv
    from twinstudio.render.baseloop import base_frames
    from twinstudio.render.compose import _make_view
    from twinstudio.render.lipsync.sample import Paster
    from twinstudio.twins.pack import TwinPack

    pack = TwinPack.open(video_pack)
    w, h = pack.size
    bank_frame = pack.track["bank_index"]
    valid = pack.track["valid"]
    picks = [j for j in range(len(bank_frame)) if valid[int(bank_frame[j])]][
        :: max(1, len(bank_frame) // 6)
    ]
    for view in (_make_view((0, 0, w, h), (w, h)), _make_view((0, 0, w, h), (w // 2, h // 2))):
        paster = Paster(pack, view)
        for j in picks:
            b = int(bank_frame[j])
            (base,) = base_frames(pack, np.array([b]), view)
            pasted = base.copy()
            box = paster.paste(pasted, b, b, j)
            assert box is not None
            for new, old in zip(
                yuv.box_planes(pasted, box), yuv.box_planes(base, box), strict=True
            ):
                assert np.abs(new.astype(int) - old.astype(int)).mean() < 2.0
            moved = base.copy()  # the same mouth, a neighbour's cut: visibly different
            other = (j + len(bank_frame) // 2) % len(bank_frame)
            paster.paste(moved, b, int(bank_frame[other]), other)
            assert np.abs(moved.astype(int) - base.astype(int)).max() > 20


def test_a_pasted_mouth_is_the_same_whatever_opencvs_threads(video_pack: Path) -> None:
    """Renders are reproducible: the paste (alpha, warp, colour field, blend) gives the same
    pixels run serially (as beside streamed speech, ``twinstudio.cpu``) or split across
    OpenCV's pool. A stack blur for the mask's feather did not: its pool stripes changed
    pixels by a level, so a render could differ from the same render."""
    from twinstudio.render.baseloop import base_frames, loop_runs, schedule
    from twinstudio.render.framing import whole_view
    from twinstudio.render.lipsync.sample import Paster
    from twinstudio.twins.pack import TwinPack

    pack = TwinPack.open(video_pack)
    view = whole_view(pack.size)
    bases = list(itertools.islice(base_frames(pack, loop_runs(pack), view), 6))
    footage = schedule(pack, len(bases))
    bank = pack.track["bank_index"]
    before = cv2.getNumThreads()
    pasted: dict[int, list[np.ndarray]] = {}
    try:
        for threads in (1, 4):
            cv2.setNumThreads(threads)
            paster = Paster(pack, view)
            pasted[threads] = []
            for k, base in enumerate(bases):
                picture = base.copy()
                j = (7 * k + 3) % len(bank)
                assert paster.paste(picture, int(footage[k]), int(bank[j]), j) is not None
                pasted[threads].append(picture)
    finally:
        cv2.setNumThreads(before)
    for serial, split, base in zip(pasted[1], pasted[4], bases, strict=True):
        assert not np.array_equal(serial, base)  # a mouth was pasted
        assert np.array_equal(serial, split)


def test_each_bank_cut_is_decoded_once_per_render(
    video_pack: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cut that fell out of the paster's small memory cache is read back from its store, not
    decoded again (lossless WebP plus the shrink: ~4-7 ms a cut, hundreds a minute), and reads
    back the very pixels the decode gave; once closed, the paster keeps nothing."""
    from twinstudio.render.framing import whole_view
    from twinstudio.render.lipsync.sample import Paster
    from twinstudio.twins.pack import TwinPack

    pack = TwinPack.open(video_pack)
    paster = Paster(pack, whole_view(pack.size))
    monkeypatch.setattr(Paster, "CACHE", 2)  # every other cut falls out at once
    decoded: list[int] = []
    decode = paster._decode

    def counted(j: int) -> np.ndarray:
        decoded.append(j)
        return decode(j)

    monkeypatch.setattr(paster, "_decode", counted)
    cuts = [0, 1, 2, 3]
    first = [paster._cut(j).copy() for j in cuts]
    again = [paster._cut(j) for j in cuts * 2]
    assert decoded == cuts
    for j, cut in zip(cuts * 2, again, strict=True):
        assert np.array_equal(cut, first[j])
    paster.close()
    assert not paster._cache and len(paster._store) == 0


@pytest.mark.slow
def test_the_phones_pauses_give_way_only_where_there_is_sound(video_pack: Path) -> None:
    # Digital silence tells the audio model nothing (it never heard any in the footage): a
    # pause there keeps its rest however far the twin's pauses give way; room tone is sound.
    from twinstudio.render import motion
    from twinstudio.twins.pack import TwinPack

    pack = TwinPack.open(video_pack)
    rate = 16000
    rng = np.random.default_rng(1)
    talk = syllables(1.5, rate)
    tone = float(np.sqrt(np.mean(talk**2))) * 10 ** (-45 / 20)  # room tone at -72 dBFS
    talk = (talk + tone * rng.standard_normal(len(talk))).astype(np.float32)
    silence = np.zeros(int(1.2 * rate), np.float32)
    room = (tone * rng.standard_normal(len(silence))).astype(np.float32)
    phonemes = [Timing("ɑ", 0, 1500), Timing("", 1500, 2700), Timing("ɑ", 2700, 4200)]
    n = int(4.2 * pack.fps)
    gap = slice(int(1.95 * pack.fps), int(2.3 * pack.fps))  # inside the pause, settled

    def opening(pause: np.ndarray, over_pauses: float) -> np.ndarray:
        speech = Speech(np.concatenate([talk, pause, talk]), rate, phonemes)
        return motion.track_for_pack(pack, speech, n, over_pauses=over_pauses).desc[:, 0]

    heard = motion.heard_frames(np.concatenate([talk, silence, talk]), rate, n, pack.fps)
    assert heard[gap].max() == 0.0 and heard[: int(1.3 * pack.fps)].min() > 0.99
    dither = np.random.default_rng(2).standard_normal(rate).astype(np.float32) * 10 ** (-96 / 20)
    assert motion.heard_frames(dither, rate, 25, 25.0).max() == 0.0  # nothing but a pause
    assert np.allclose(opening(silence, 1.0)[gap], opening(silence, 0.0)[gap], atol=1e-4)
    assert np.abs(opening(room, 1.0)[gap] - opening(room, 0.0)[gap]).max() > 1e-3


@pytest.mark.slow
def test_the_twins_audio_model_gets_less_for_a_tts_voice_and_more_in_an_echo(
    video_pack: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The twin's audio-to-mouth model learnt the person's own voice; a TTS voice is another
    # speaker's, on which it predicts less (``motion.SYNTHETIC_AUDIO_WEIGHT``).
    from twinstudio.render import habits, motion

    shares: list[float] = []
    echoes: list[float] = []
    pauses: list[float] = []
    openings: list[np.ndarray] = []
    original = motion.track_for_pack

    def spy(pack: Any, speech: Speech, n: int, expressiveness: float = 1.0,
            audio_weight: float = motion.AUDIO_WEIGHT, echo: float = 0.0,
            over_pauses: float = 0.0) -> motion.MouthTrack:  # fmt: skip
        track = original(pack, speech, n, expressiveness, audio_weight, echo, over_pauses)
        shares.append(audio_weight)
        echoes.append(echo)
        pauses.append(over_pauses)
        openings.append(track.desc[:, 0].copy())
        return track

    monkeypatch.setattr(motion, "track_for_pack", spy)
    speech = _speech(2.0)
    for synthetic in (True, False):
        options = RenderOptions(resolution="720p", synthetic_voice=synthetic)
        render_video(video_pack, speech, options, tmp_path / str(synthetic))
    assert shares == [motion.SYNTHETIC_AUDIO_WEIGHT, motion.AUDIO_WEIGHT]
    assert motion.SYNTHETIC_AUDIO_WEIGHT < motion.AUDIO_WEIGHT
    assert np.abs(openings[0] - openings[1]).max() > 1e-3  # the model moves the mouth
    # A recording in a room's echo whose phones were recognised (no transcript): the
    # recogniser mishears them, so the model takes more of the opening (``speech.clarity``).
    echoing = Speech(syllables(2.0, speech.sample_rate, rt60_s=0.5), speech.sample_rate,
                     speech.phonemes)  # fmt: skip
    for recognised in (False, True):
        options = RenderOptions(resolution="720p", recognised_phones=recognised)
        render_video(video_pack, echoing, options, tmp_path / f"echo-{recognised}")
    assert shares[2:] == [motion.AUDIO_WEIGHT, motion.ECHO_AUDIO_WEIGHT]
    assert echoes == [0.0, 0.0, 0.0, 1.0]  # and its context from misheard phones gives way
    assert pauses[:3] == [0.0, 0.0, 0.0] and pauses[3] > 0.5  # and their pauses
    # Dry recognised sound: its pauses give way as far as the twin's own footage says.
    monkeypatch.setattr(habits, "pauses_from_footage", lambda pack: 0.7)
    dry = Speech(syllables(2.0, speech.sample_rate), speech.sample_rate, speech.phonemes)
    options = RenderOptions(resolution="720p", recognised_phones=True)
    render_video(video_pack, dry, options, tmp_path / "dry-recognised")
    assert echoes[4] == 0.0 and pauses[4] == 0.7
