"""Background matting: the matte file format, the guided filter, and real footage (if present)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from twinstudio.errors import RenderError
from twinstudio.twins.matte import Matter, build_matte, guided_filter, read_matte, write_matte

FOOTAGE = Path(__file__).resolve().parents[4] / "shared" / "footage" / "clips"
BLUE_CLIP = FOOTAGE / "videoretalking_woman_blue_backdrop_7s.mp4"


def _alphas(n: int, size: tuple[int, int] = (96, 64)) -> list[np.ndarray]:
    width, height = size
    yy, xx = np.mgrid[0:height, 0:width]
    out = []
    for i in range(n):
        blob = np.hypot(xx - 30 - 2 * i, yy - 32) / 20.0
        out.append(np.clip((1.5 - blob) * 255, 0, 255).astype(np.uint8))
    return out


def test_matte_file_round_trip(tmp_path: Path) -> None:
    alphas = _alphas(12)
    alphas[3][:] = 0
    alphas[4][:] = 255
    path = tmp_path / "m.mov"
    assert write_matte(path, alphas, fps=25) == 12
    back = list(read_matte(path))
    assert len(back) == 12
    for original, decoded in zip(alphas, back, strict=True):
        assert decoded.shape == original.shape and decoded.dtype == np.uint8
        assert np.array_equal(decoded, original)  # lossless
    assert path.stat().st_size < sum(a.size for a in alphas) / 2  # actually compressed


def test_every_stored_matte_frame_is_a_keyframe(tmp_path: Path) -> None:
    """A seek lands on the frame asked for: nothing is decoded before it at a loop's start."""
    import av

    path = tmp_path / "m.mov"
    write_matte(path, _alphas(70), fps=30)
    with av.open(str(path)) as container:
        packets = [p for p in container.demux(video=0) if p.size]
    assert len(packets) == 70 and all(p.is_keyframe for p in packets)


def test_read_matte_of_garbage_is_a_render_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.mov"
    path.write_bytes(b"\x00" * 64)
    with pytest.raises(RenderError):
        list(read_matte(path))


def test_guided_filter_snaps_a_blurry_mask_to_the_guide_edge() -> None:
    guide = np.zeros((64, 64), np.float32)
    guide[:, 32:] = 1.0  # sharp edge at x = 32
    mask = np.clip((np.arange(64, dtype=np.float32) - 20) / 24, 0, 1)[None, :].repeat(64, 0)
    a, b = guided_filter(guide, mask, 4, 1e-4)
    refined = a * guide + b
    step_before = mask[32, 33] - mask[32, 30]
    step_after = refined[32, 33] - refined[32, 30]
    assert step_after > 2 * step_before


def test_temporal_filter_follows_big_changes_and_damps_small_ones() -> None:
    matter = Matter()
    base = np.zeros((8, 8), np.float32)
    matter._steady(base)
    noisy = matter._steady(base + 0.05)
    assert 0.0 < float(noisy.mean()) < 0.05  # flicker damped
    moved = matter._steady(np.ones((8, 8), np.float32))
    assert float(moved.min()) > 0.99  # motion followed at once


def _short_clip(src: Path, dst: Path, frames: int) -> None:
    with av.open(str(src)) as source, av.open(str(dst), "w") as sink:
        stream = sink.add_stream("libx264", rate=25)
        stream.width = source.streams.video[0].codec_context.width
        stream.height = source.streams.video[0].codec_context.height
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "12", "preset": "ultrafast"}
        for i, frame in enumerate(source.decode(video=0)):
            if i == frames:
                break
            new = av.VideoFrame.from_ndarray(frame.to_ndarray(format="rgb24"), format="rgb24")
            for packet in stream.encode(new):
                sink.mux(packet)
        for packet in stream.encode(None):
            sink.mux(packet)


@pytest.mark.slow
def test_build_matte_on_real_footage(tmp_path: Path) -> None:
    if not BLUE_CLIP.exists():
        pytest.skip(f"real footage not present at {FOOTAGE}")
    clip = tmp_path / "clip.mp4"
    _short_clip(BLUE_CLIP, clip, 8)
    seen: list[float] = []
    count = build_matte(clip, tmp_path / "m.mkv", progress=seen.append)
    assert count == 8
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)
    alphas = list(read_matte(tmp_path / "m.mkv"))
    assert len(alphas) == 8
    alpha = alphas[-1]
    assert alpha.shape == (700, 700)
    height, width = alpha.shape
    assert alpha[height // 3, width // 2] > 240  # the face
    assert alpha[height - 20, width // 2] > 240  # the body
    assert alpha[20, 20] < 10 and alpha[20, width - 20] < 10  # the blue backdrop
    # A usable matte is mostly decided: few pixels stuck half-way.
    assert np.mean((alpha > 20) & (alpha < 235)) < 0.08


def _person_on_backdrop(backdrop: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An orange disc on ``backdrop`` (RGB), the disc's true mask, and a too-wide soft matte
    whose band reaches ~10 px past it (as the segmentation network's does)."""
    import cv2

    height, width = backdrop.shape[:2]
    rgb = backdrop.copy()
    person = np.zeros((height, width), np.uint8)
    cv2.circle(person, (width // 2, height // 2), 180, (255,), -1)
    rgb[person > 0] = (230, 150, 60)
    matte = cv2.GaussianBlur(cv2.dilate(person, np.ones((9, 9), np.uint8)), (0, 0), 3)
    return rgb, person, matte


def test_edge_key_clears_the_backdrop_fringe_and_keeps_the_person() -> None:
    from twinstudio.twins.matte import clear_edge

    backdrop = np.zeros((720, 960, 3), np.uint8)
    backdrop[:] = (40, 80, 200)
    backdrop[:, :, 2] = np.linspace(170, 230, 960).astype(np.uint8)  # an unevenly lit wall
    rgb, person, matte = _person_on_backdrop(backdrop)
    keyed = clear_edge(rgb, matte)
    fringe = (matte > 0) & (person == 0)
    assert matte[fringe].mean() > 40  # the fringe showed the old backdrop
    assert keyed[fringe].mean() < 5  # now transparent
    assert np.all(keyed[person > 0] >= matte[person > 0])  # the person is kept (or made whole)
    assert keyed[person > 0].min() >= 250


def test_edge_key_leaves_a_busy_backdrop_alone() -> None:
    from twinstudio.twins.matte import clear_edge

    noise = np.random.default_rng(3).integers(0, 256, (720, 960, 3), dtype=np.uint8)
    rgb, person, matte = _person_on_backdrop(noise)
    keyed = clear_edge(rgb, matte)
    fringe = (matte > 0) & (person == 0)
    assert keyed[fringe].mean() > 0.8 * matte[fringe].mean()  # no local backdrop colour to key


def test_mixed_pixels_at_the_outline_get_their_share_of_person() -> None:
    """The camera mixes person and backdrop over a few px at the outline, where the network's
    alpha is anything from too low to 255: each pixel's alpha becomes its share of person (the
    old key only cleared pixels of the backdrop's own colour: the mix stayed opaque, a line of
    the old backdrop round the face on any new background)."""
    import cv2

    from twinstudio.twins.matte import clear_edge

    height, width = 720, 960
    disc = np.zeros((height, width), np.uint8)
    cv2.circle(disc, (width // 2, height // 2), 180, (255,), -1)
    truth = cv2.GaussianBlur(disc, (0, 0), 1.6).astype(np.float32) / 255  # a 4-5 px soft edge
    person = np.float32([225, 170, 140])  # skin
    backdrop = np.float32([60, 90, 175])  # blue
    rgb = np.round(truth[..., None] * person + (1 - truth[..., None]) * backdrop).astype(np.uint8)
    # The network's alpha: opaque over the mixed ramp, then a soft skirt past it; and a patch of
    # doubt on the person's edge (alpha 0.4 where the truth is 0.9-1).
    grown = cv2.dilate(disc, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7)))
    matte = np.maximum(cv2.GaussianBlur(grown, (0, 0), 2.0), cv2.erode(grown, np.ones((3, 3))))
    doubt = np.zeros_like(disc)
    cv2.rectangle(doubt, (width // 2 - 40, height // 2 - 180), (width // 2 + 40, height // 2 - 176),
                  (255,), -1)  # fmt: skip
    matte[doubt > 0] = 100
    mixed = (truth > 0.1) & (truth < 0.9) & (doubt == 0)
    assert matte[mixed].mean() > 235  # the mix was (nearly) opaque
    keyed = clear_edge(rgb, matte).astype(np.float32) / 255
    assert np.abs(keyed[mixed] - truth[mixed]).mean() < 0.08  # now its share of person
    assert np.abs(matte[mixed] / 255 - truth[mixed]).mean() > 0.3  # (the old matte's error)
    inside = (doubt > 0) & (truth > 0.9)
    assert keyed[inside].mean() > 0.9  # the doubt is mended
    assert keyed[truth > 0.999].min() == 1.0  # the person is whole


def test_a_shadow_on_the_skin_at_the_outline_is_not_taken_for_backdrop() -> None:
    """The split is a share under one light: darker skin at the edge of a face (a shadow) on a
    dark blue wall stays opaque."""
    import cv2

    from twinstudio.twins.matte import clear_edge

    height, width = 720, 960
    rgb = np.zeros((height, width, 3), np.uint8)
    rgb[:] = (40, 60, 130)  # dark blue wall
    disc = np.zeros((height, width), np.uint8)
    cv2.circle(disc, (width // 2, height // 2), 180, (255,), -1)
    rgb[disc > 0] = (225, 170, 140)
    ring = (disc > 0) & ~(cv2.erode(disc, np.ones((9, 9), np.uint8)) > 0)
    rgb[ring] = (140, 100, 82)  # the same skin in shadow, 4 px wide at the edge
    matte = cv2.GaussianBlur(disc, (0, 0), 1.0)
    matte[disc > 0] = 255
    keyed = clear_edge(rgb, matte)
    assert keyed[ring].mean() > 245


def test_islands_that_are_not_the_person_are_cleared() -> None:
    """A poster on the wall that the network calls a person goes, and so does a pale haze far
    from everyone; the person, a second person, a hand held apart and a shoulder rising from
    the bottom edge stay."""
    import cv2

    from twinstudio.twins.matte import keep_person

    mask = np.zeros((216, 384), np.float32)
    cv2.ellipse(mask, (190, 150), (70, 100), 0, 0, 360, (1.0,), -1)  # the person, to the bottom
    cv2.rectangle(mask, (20, 20), (60, 90), (0.9,), -1)  # a poster far from them
    cv2.circle(mask, (276, 150), 8, (1.0,), -1)  # a hand 8 px from their edge
    cv2.rectangle(mask, (350, 180), (383, 215), (1.0,), -1)  # someone's shoulder, from below
    mask = cv2.GaussianBlur(mask, (0, 0), 2.0)  # soft skirts, as the network gives
    kept = keep_person(mask)
    assert kept[20:91, 20:61].max() == 0.0 and kept[10:100, 10:70].max() < 1e-3  # with skirt
    assert kept[150, 190] == mask[150, 190] and kept[150, 276] == mask[150, 276]
    assert kept[200, 370] == mask[200, 370]
    # Elsewhere only the skirts' far tails (under 1e-6, beyond ISLAND_GAP) were cleared.
    assert np.abs(kept[:, 100:] - mask[:, 100:]).max() < 1e-6
    alone = np.where(mask > 1e-6, mask, 0).astype(np.float32)
    alone[:, :100] = 0
    assert keep_person(alone) is alone  # one part, nothing beyond reach: returned as is
    # A pale wedge on the wall (never over one half: no part of its own) 40 px from the person
    # goes; the same haze just beside the person (a wisp of hair) stays.
    hazy = alone.copy()
    cv2.fillConvexPoly(hazy, np.int32([[300, 20], [340, 50], [300, 50]]), (0.35,))
    cv2.rectangle(hazy, (255, 100), (262, 110), (0.35,), -1)
    kept = keep_person(hazy)
    assert kept[20:51, 300:341].max() == 0.0 and hazy[40, 305] == np.float32(0.35)
    assert kept[105, 258] == np.float32(0.35)
