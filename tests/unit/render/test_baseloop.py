"""Base loop: loop-point crossfades and the decoding prefetch thread."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from twinstudio.render.baseloop import (
    crossfade_partners,
    crossfade_window,
    crossfades,
    loop_runs,
    prefetch,
    schedule,
)


class _Pack:
    """Just what ``schedule``/``crossfades`` read from a twin pack."""

    def __init__(self, start: int, end: int, n_frames: int, fps: int = 25) -> None:
        self.meta: dict[str, Any] = {"loop": {"start": start, "end": end}, "n_frames": n_frames}
        self.fps = fps
        self.track = {"valid": np.ones(n_frames, bool)}
        self.path = Path("/nonexistent")


def test_crossfade_after_the_jump_uses_the_footage_continuation() -> None:
    pack: Any = _Pack(10, 110, 200)
    idx = schedule(pack, 250)
    partner, weight = crossfades(pack, idx)
    jumps = np.flatnonzero(np.diff(idx) < 0) + 1
    assert len(jumps) == 2
    for k in jumps:
        assert idx[k] == 10 and partner[k] == 110  # fades from where the footage would go on
        run = weight[k : k + 5]
        assert np.all(np.diff(run) < 0) and 0.5 < run[0] < 1.0 and run[-1] > 0
        assert weight[k + 5] == 0 and partner[k + 5] == -1
    assert (partner >= 0).sum() == 10  # nothing else is touched


def test_crossfade_before_the_jump_when_the_footage_ends_at_the_loop() -> None:
    pack: Any = _Pack(20, 200, 200)
    idx = schedule(pack, 400)
    partner, weight = crossfades(pack, idx)
    k = int(np.flatnonzero(np.diff(idx) < 0)[0] + 1)
    before = slice(k - 5, k)
    assert np.all(partner[before] == np.arange(15, 20))  # the frames that precede the start
    assert np.all(np.diff(weight[before]) > 0) and weight[k] == 0


def test_prefetch_keeps_order_and_reraises() -> None:
    assert list(prefetch(iter(range(50)), depth=2)) == list(range(50))

    def broken() -> Iterator[int]:
        yield 1
        raise ValueError("decoder failed")

    got = []
    with pytest.raises(ValueError, match="decoder failed"):
        for item in prefetch(broken()):
            got.append(item)
    assert got == [1]


def test_prefetch_stops_when_abandoned() -> None:
    produced = []

    def endless() -> Iterator[int]:
        i = 0
        while True:
            produced.append(i)
            yield i
            i += 1

    gen = prefetch(endless(), depth=2)
    assert next(gen) == 0
    gen.close()
    count = len(produced)
    assert count < 10


def test_loop_morph_glides_the_head_instead_of_showing_two() -> None:
    from twinstudio.render.lipsync.crossfade import LoopMorph

    rng = np.random.default_rng(0)
    lm_base = rng.uniform(80, 160, (478, 2))
    lm_partner = lm_base + np.array([20.0, 0.0])  # the partner's head sits 20 px to the right
    base = np.zeros((240, 320), np.uint8)
    partner = np.zeros((240, 320), np.uint8)
    base[100:120, 100:120] = 255
    partner[100:120, 120:140] = 255
    out = LoopMorph(lm_partner, lm_base, 0.5).alphas(base, partner)
    cols = np.flatnonzero(out[110] > 200)
    assert 108 <= cols.min() <= 112 and 128 <= cols.max() <= 132  # one square, half-way
    assert out[110, 100] < 60 and out[110, 139] < 60  # no ghost at either end
    start = LoopMorph(lm_partner, lm_base, 1.0).alphas(base, partner)
    assert np.array_equal(start, partner)  # w = 1: exactly the footage's continuation
    # Pictures (I420) morph the same way, chroma with luma.
    from twinstudio.render import yuv

    rgb_base, rgb_partner = (np.dstack([img, img // 2, 255 - img]) for img in (base, partner))
    pictures, _ = LoopMorph(lm_partner, lm_base, 0.5).pictures(
        yuv.from_rgb(rgb_base), yuv.from_rgb(rgb_partner)
    )
    morphed = yuv.to_rgb(pictures)
    cols = np.flatnonzero(morphed[110, :, 0] > 200)
    assert 108 <= cols.min() <= 112 and 128 <= cols.max() <= 132
    assert morphed[110, 120, 2] < 60  # the square's own colour (blue low), not a ghost's


def test_loop_morph_moves_the_brows_instead_of_dissolving_them() -> None:
    """A frown (low brows) in the loop frame, raised brows in its partner, the head still: the
    half-way morph shows one pair of brows half-way up, not two faint pairs."""
    from twinstudio.render import yuv
    from twinstudio.render.lipsync.crossfade import LoopMorph
    from twinstudio.twins.faces import STABLE
    from twinstudio.twins.loop import EXPRESSION

    rng = np.random.default_rng(3)
    lm = np.zeros((478, 2))
    lm[list(STABLE)] = rng.uniform([40, 85], [90, 120], (len(STABLE), 2))  # nose, cheeks
    lm[33], lm[133], lm[362], lm[263] = (40, 62), (56, 62), (72, 62), (88, 62)  # eye corners
    brows = list(EXPRESSION[:10])
    lm[brows] = np.column_stack([np.linspace(40, 88, 10), np.full(10, 40.0)])
    lm[list(EXPRESSION[10:])] = [(48, 59), (48, 65), (80, 59), (80, 65)]  # eyelids
    lm_partner = lm.copy()
    lm_partner[brows, 1] -= 8.0  # raised by 8 px

    def face(brow_y: int) -> np.ndarray:
        luma = np.full((128, 128), 200, np.uint8)
        luma[brow_y - 1 : brow_y + 1, 40:89] = 20
        return yuv.from_rgb(np.dstack([luma] * 3))

    morph, _ = LoopMorph(lm_partner, lm, 0.5).pictures(face(40), face(32))
    column = yuv.to_rgb(morph)[20:56, 64, 0].astype(int)  # down the middle of the brows
    darkest = 20 + int(np.argmin(column))
    assert 34 <= darkest <= 38 and column.min() < 90  # one dark brow, half-way up
    assert column[40 - 20] > 140 and column[32 - 20] > 140  # no faint brow where either was


def test_loop_morph_meets_what_the_face_points_cannot_align_half_way() -> None:
    """Hair that swung (here: the whole textured picture moved 6 px down and 4 px left) while
    the face points stayed put: the half-way morph shows each feature once, half-way, not a
    ghost at either place; its matte follows the same way."""
    import cv2

    from twinstudio.render import yuv
    from twinstudio.render.lipsync.crossfade import LoopMorph

    rng = np.random.default_rng(5)
    texture = cv2.GaussianBlur(rng.uniform(0, 255, (160, 208)).astype(np.float32), (0, 0), 3)
    texture = cv2.normalize(texture, None, 40, 220, cv2.NORM_MINMAX).astype(np.uint8)
    base = texture.copy()
    base[60:70, 80:90] = 255  # a bright mark on it
    partner = np.roll(np.roll(base, 6, axis=0), -4, axis=1)
    lm = rng.uniform(60, 120, (478, 2))
    morph, residual = LoopMorph(lm, lm, 0.5).pictures(
        yuv.from_rgb(np.dstack([base] * 3)), yuv.from_rgb(np.dstack([partner] * 3))
    )
    assert residual is not None
    grey = yuv.to_rgb(morph)[..., 0].astype(int)
    ys, xs = np.nonzero(grey > 240)  # the mark, whole (the texture stays under 220)
    assert len(ys) > 60
    # Once, half-way: 3 px down and 2 px left of where it was (64.5, 84.5 at its centre).
    assert abs(ys.mean() - 67.5) <= 1.0 and abs(xs.mean() - 82.5) <= 1.0
    # No faint copy where the mark was in only one of the frames.
    assert not np.any(grey[60:62, 86:90] > 225) and not np.any(grey[75:77, 76:80] > 225)
    alpha = LoopMorph(lm, lm, 0.5).alphas(base, partner, residual).astype(int)
    ay, ax = np.nonzero(alpha > 240)  # whole and once (a dissolve of the two would be ≤ 238)
    assert len(ay) > 60
    assert abs(ay.mean() - 67.5) <= 1.5 and abs(ax.mean() - 82.5) <= 1.5
    assert not np.any(alpha[60:62, 86:90] > 225) and not np.any(alpha[75:77, 76:80] > 225)


def test_the_residual_flow_moves_a_picture_band_by_band_as_it_would_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from twinstudio.render import yuv
    from twinstudio.render.lipsync import crossfade

    rng = np.random.default_rng(8)
    picture = yuv.from_rgb(rng.integers(0, 255, (96, 64, 3), dtype=np.uint8))
    flow = rng.normal(0, 3, (96, 64, 2)).astype(np.float32)
    whole = picture.copy()
    monkeypatch.setattr(crossfade, "RESIDUAL_BAND", 1000)
    crossfade._move_along([(whole, 0.5)], flow)
    banded = picture.copy()
    monkeypatch.setattr(crossfade, "RESIDUAL_BAND", 16)
    crossfade._move_along([(banded, 0.5)], flow)
    assert not np.array_equal(whole, picture)
    np.testing.assert_array_equal(banded, whole)


@pytest.mark.parametrize("size", [(1920, 1080), (1280, 720), (512, 512), (64, 96), (67, 101)])
def test_a_band_of_the_residual_flow_is_those_rows_of_it_resized_whole(
    size: tuple[int, int],
) -> None:
    """The flow stays at its small size; each band brought to full size matches the same rows
    of the whole flow resized at once (which a 1080p fade no longer holds)."""
    import cv2

    from twinstudio.render.lipsync import crossfade

    w, h = size
    rng = np.random.default_rng(3)
    fw, fh = crossfade._residual_size(w, h)
    noise = rng.normal(0, 3, (fh, fw, 2)).astype(np.float32)
    flow = cv2.GaussianBlur(noise, (0, 0), crossfade.RESIDUAL_SMOOTH_PX)  # as a residual is
    whole = cv2.resize(flow, size, interpolation=cv2.INTER_LINEAR)
    exact = w % fw == 0 and h % fh == 0 and (w // fw) in (1, 2, 4) and (h // fh) in (1, 2, 4)
    for y0, y1 in [(0, 5), (0, h), (h // 3, h // 3 + 17), (h - 7, h)]:
        band = crossfade._flow_band(flow, size, y0, y1)
        assert band.shape == (y1 - y0, w, 2)
        np.testing.assert_allclose(band, whole[y0:y1], atol=1e-5 if exact else 0.03)


def test_the_residual_flow_is_made_as_fine_as_a_1080p_quarter_allows() -> None:
    from twinstudio.render.lipsync import crossfade

    assert crossfade._residual_size(1920, 1080) == (480, 270)  # a quarter, as always
    assert crossfade._residual_size(1080, 1920) == (270, 480)
    assert crossfade._residual_size(1280, 720) == (426, 240)  # a third
    assert crossfade._residual_size(512, 512) == (256, 256)  # a half (a quarter: 128)
    assert crossfade._residual_size(224, 224) == (224, 224)


def _two_faces(shift: int) -> np.ndarray:
    """A 512-px textured picture whose middle (a face) has moved ``shift`` / 2 px to the right
    and two small dark blobs in it (nostrils) ``shift`` px: a head turned a little."""
    import cv2

    from twinstudio.render import yuv

    rng = np.random.default_rng(4)
    img = np.clip(
        cv2.GaussianBlur(rng.normal(150, 40, (512, 512)).astype(np.float32), (0, 0), 6), 0, 255
    )
    moved = cv2.warpAffine(img, np.float32([[1, 0, shift / 2], [0, 1, 0]]), (512, 512),
                           borderMode=cv2.BORDER_REFLECT)  # fmt: skip
    img[128:384, 128:384] = moved[128:384, 128:384]
    for cx in (236, 276):
        cv2.ellipse(img, (cx + shift, 260), (7, 4), 0, 0, 360, 40, -1)
    img = cv2.GaussianBlur(img, (0, 0), 1.0)
    return yuv.from_rgb(np.repeat(img[..., None], 3, axis=2).astype(np.uint8))


def test_a_small_face_is_met_half_way_feature_by_feature() -> None:
    """Two frames of a loop fade from 512-px footage, the nostrils moved more than the face:
    moved half way each along the residual flow, they agree round the nostrils (mean |a − b|
    2.5 levels; 7.9 unmoved; 4.5 with the flow made at a quarter of the size, as before
    2026-12-06, when katie_hill's fade showed her nostrils twice)."""
    from twinstudio.render import yuv
    from twinstudio.render.lipsync import crossfade

    a, b = _two_faces(0), _two_faces(6)
    before = np.abs(yuv.planes(a)[0].astype(float) - yuv.planes(b)[0])[245:275, 215:300].mean()
    flow = crossfade._residual_flow(yuv.planes(a)[0], yuv.planes(b)[0])
    assert flow is not None
    crossfade._move_along([(a, -0.5), (b, 0.5)], flow)
    after = np.abs(yuv.planes(a)[0].astype(float) - yuv.planes(b)[0])[245:275, 215:300].mean()
    assert before > 6 and after < 3.5


@pytest.mark.parametrize("loop", [(10, 110, 200), (20, 200, 200)])
def test_pieces_of_the_endless_schedule_match_one_long_schedule(loop: tuple[int, int, int]) -> None:
    """Streamed speech renders piece by piece: every piece's base frames and fades must be
    those of one long schedule, even where a piece boundary falls inside a fade."""
    pack: Any = _Pack(*loop)
    whole = schedule(pack, 700)
    partner, weight = crossfades(pack, whole)
    cuts = [0, 3, 95, 101, 187, 190, 400, 700]  # boundaries inside and around the jumps
    for a, b in itertools.pairwise(cuts):
        assert np.array_equal(schedule(pack, b - a, a), whole[a:b])
        p, w = crossfade_window(pack, a, b - a)
        assert np.array_equal(p, partner[a:b]) and np.allclose(w, weight[a:b])
    assert set(partner[partner >= 0].tolist()) <= set(crossfade_partners(pack).tolist())


class _MattePack(_Pack):
    def __init__(self, path: Path, n_frames: int, fps: int = 25) -> None:
        super().__init__(0, n_frames, n_frames, fps)
        self.matte = path

    def file(self, name: str) -> Path:
        return self.matte


@pytest.mark.parametrize("fps", [25, 30])
def test_matte_frames_seek_to_each_run(tmp_path: Path, fps: int) -> None:
    """Runs starting mid-file (past several keyframes) give exactly the frames asked for."""
    from twinstudio.render.baseloop import matte_frames
    from twinstudio.twins.matte import write_matte

    path = tmp_path / "matte.mov"
    n = 150
    write_matte(path, [np.full((16, 24), i, np.uint8) for i in range(n)], fps=fps)
    pack: Any = _MattePack(path, n, fps)
    runs = [(97, 5), (0, 3), (140, 10), (61, 2), (149, 3)]  # the last runs past the end: held
    got = [int(a[0, 0]) for a in matte_frames(pack, runs)]
    want = [*range(97, 102), 0, 1, 2, *range(140, 150), 61, 62, 149, 149, 149]
    assert got == want


def test_paster_region_polygons_are_computed_once_per_frame() -> None:
    from twinstudio.render.lipsync.sample import Paster, region_polygon
    from twinstudio.twins.bank import apply_affine

    paster: Any = object.__new__(Paster)  # only what ``polygon`` reads
    rng = np.random.default_rng(0)
    paster.landmarks = rng.uniform(0, 500, (3, 478, 2))
    paster.to_crop = np.tile(np.array([[0.5, 0.1, 3.0], [-0.1, 0.5, 7.0]]), (3, 1, 1))
    paster.scale = 100.0
    paster._polygons = {}
    got = paster.polygon(1)
    assert got is paster.polygon(1)  # cached
    expected = region_polygon(apply_affine(paster.to_crop[1], paster.landmarks[1]), 100.0)
    assert np.array_equal(got, expected)
    assert got.shape[1] == 2 and got.dtype == np.int32


def test_paster_keeps_decoded_cuts_within_its_count_and_bytes() -> None:
    """Cuts are kept as I420 pictures (1.5 bytes a pixel), the least recently used let go
    first, within both bounds; one let go is read back from the render's store, not decoded
    again."""
    from collections import OrderedDict

    from twinstudio.render import yuv
    from twinstudio.render.framestore import ArrayStore
    from twinstudio.render.lipsync.sample import Paster

    decoded: list[int] = []

    class Crops:
        def get(self, j: int) -> np.ndarray:
            decoded.append(j)
            return np.full((100, 99, 3), j % 256, np.uint8)  # odd: made even, 100x100

    paster: Any = object.__new__(Paster)  # only what ``_cut`` reads
    paster.crops, paster.cut_scale = Crops(), 1.0
    paster._cache, paster._cache_bytes, paster._store = OrderedDict(), 0, ArrayStore()
    paster.CACHE, paster.CACHE_BYTES = 5, 50_000  # 15,000 bytes a cut: the bytes bind first
    for j in (0, 1, 2, 0, 3, 4, 0):
        cut = paster._cut(j)
        assert cut.shape == (150, 100) and tuple(cut[[0, 100, 125], 0]) == yuv.colour_of((j, j, j))
    assert list(paster._cache) == [3, 4, 0]  # least recently used let go first
    assert paster._cache_bytes == 45_000
    assert decoded == [0, 1, 2, 3, 4]  # 0 was kept: used again before it was the oldest
    paster.CACHE = 2  # the count binds
    paster._cut(5)
    assert list(paster._cache) == [0, 5] and paster._cache_bytes == 30_000
    assert tuple(paster._cut(1)[[0, 100, 125], 0]) == yuv.colour_of((1, 1, 1))
    assert decoded == [0, 1, 2, 3, 4, 5]  # 1 came back from the store


def _counted_matte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, n: int, loop: dict[str, Any]
) -> tuple[Any, list[int]]:
    """A matte of ``n`` frames (frame i's pixels are 3·i) with ``loop``, and the list each frame
    the decoder gives is recorded in (by number)."""
    import twinstudio.render.baseloop as bl
    from twinstudio.twins.matte import write_matte

    path = tmp_path / "matte.mov"
    write_matte(path, [np.full((16, 24), 3 * i, np.uint8) for i in range(n)], fps=25)
    pack: Any = _MattePack(path, n, 25)
    pack.meta["loop"] = loop
    decoded: list[int] = []
    real = bl.read_matte

    def counted(*args: Any, **kwargs: Any) -> Iterator[np.ndarray]:
        for alpha in real(*args, **kwargs):
            decoded.append(int(alpha[0, 0]) // 3)
            yield alpha

    monkeypatch.setattr(bl, "read_matte", counted)
    return pack, decoded


def test_a_kept_loop_is_decoded_once_and_gives_the_same_frames(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The endless schedule read through the frame store: every turn of the loop gives the
    frames decoding gives, even when they are edited downstream, but only the first turn
    decodes."""
    import twinstudio.render.baseloop as bl

    pack, decoded = _counted_matte(tmp_path, monkeypatch, 40, {"start": 7, "end": 19})
    plain = [a.copy() for a in itertools.islice(bl.matte_frames(pack, loop_runs(pack, 5)), 60)]
    decoded.clear()
    kept = []
    for alpha in itertools.islice(bl.matte_frames(pack, loop_runs(pack, 5), keep_loop=True), 60):
        kept.append(alpha.copy())
        alpha[...] = 255  # edited downstream, as frames are: later turns are not
    assert [int(a[0, 0]) // 3 for a in kept] == schedule(pack, 60, 5).tolist()
    assert all(np.array_equal(a, b) for a, b in zip(plain, kept, strict=True))
    assert sorted(set(decoded)) == list(range(7, 19))  # each loop frame decoded, then read back
    assert len(decoded) <= 12 + 7  # the first partial turn and the one after it, no more


def _bouncing(start: int, end: int, n_frames: int) -> Any:
    pack: Any = _Pack(start, end, n_frames)
    pack.meta["loop"]["bounce"] = True
    return pack


def test_a_bouncing_loop_plays_back_and_forth_without_a_jump_or_a_fade() -> None:
    pack = _bouncing(10, 15, 40)
    idx = schedule(pack, 20)
    assert idx.tolist() == [10, 11, 12, 13, 14, 13, 12, 11, 10, 11, 12, 13, 14, 13, 12, 11,
                            10, 11, 12, 13]  # fmt: skip
    partner, weight = crossfades(pack, schedule(pack, 300))
    assert (partner == -1).all() and (weight == 0).all()
    assert len(crossfade_partners(pack)) == 0
    whole = schedule(pack, 300)
    for a, b in itertools.pairwise([0, 3, 4, 9, 17, 150, 300]):
        assert np.array_equal(schedule(pack, b - a, a), whole[a:b])


@pytest.mark.parametrize("bounce", [False, True])
def test_loop_runs_expand_to_the_schedule(bounce: bool) -> None:
    pack: Any = _bouncing(10, 110, 200) if bounce else _Pack(10, 110, 200)
    for offset in (0, 42, 99, 150, 250):
        runs = loop_runs(pack, offset)
        expanded: list[int] = []
        while len(expanded) < 330:
            first, count = next(runs)
            assert count != 0
            step = 1 if count > 0 else -1
            expanded.extend(range(first, first + count, step))
        assert expanded[:330] == schedule(pack, 330, offset).tolist()


@pytest.mark.parametrize("offset", [0, 13])  # from the start, and from inside a backward run
def test_a_bouncing_loop_is_decoded_once_and_read_back_both_ways(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, offset: int
) -> None:
    """Backward runs come from the frame store the forward run filled; a render that starts
    half-way back (nothing kept yet) decodes a few frames at a time and plays them reversed."""
    import twinstudio.render.baseloop as bl

    loop = {"start": 7, "end": 19, "bounce": True}
    pack, decoded = _counted_matte(tmp_path, monkeypatch, 60, loop)
    kept = []
    for alpha in itertools.islice(
        bl.matte_frames(pack, loop_runs(pack, offset), keep_loop=True), 80
    ):
        kept.append(int(alpha[0, 0]) // 3)
        alpha[...] = 255  # edited downstream, as frames are: later turns are not
    assert kept == schedule(pack, 80, offset).tolist()
    assert sorted(set(decoded)) == list(range(7, 19))
    assert len(decoded) <= 3 * 12  # decoded once (and a few frames twice), not every turn
    # Without a store (a loop too big to keep), every backward run is decoded group by group.
    plain = [
        int(a[0, 0]) // 3
        for a in itertools.islice(bl.matte_frames(pack, loop_runs(pack, offset)), 80)
    ]
    assert plain == kept


def test_frames_by_index_read_descending_runs_backwards(tmp_path: Path) -> None:
    from twinstudio.render.baseloop import matte_frames
    from twinstudio.twins.matte import write_matte

    path = tmp_path / "matte.mov"
    write_matte(path, [np.full((16, 24), i, np.uint8) for i in range(50)], fps=25)
    pack: Any = _MattePack(path, 50)
    indices = np.array([40, 41, 42, 41, 40, 39, 38, 3, 2, 2, 30, 29])
    assert [int(a[0, 0]) for a in matte_frames(pack, indices)] == indices.tolist()


def test_a_face_that_alone_moves_is_still_met_half_way() -> None:
    """Two small blobs (nostrils) moved 4 px in an otherwise still 512-px picture: over the
    whole picture the flow is under ``RESIDUAL_MIN_PX`` (the frames "agree"), so it was not
    applied; looked at in the fade's face box too, it is, and the blobs meet half way."""
    import cv2

    from twinstudio.render import yuv
    from twinstudio.render.lipsync import crossfade

    def blobs(shift: int) -> np.ndarray:
        rng = np.random.default_rng(4)
        img = cv2.GaussianBlur(rng.normal(150, 40, (512, 512)).astype(np.float32), (0, 0), 6)
        img = np.clip(img, 0, 255)
        for cx in (236, 276):
            cv2.ellipse(img, (cx + shift, 260), (7, 4), 0, 0, 360, 40, -1)
        img = cv2.GaussianBlur(img, (0, 0), 1.0)
        return yuv.from_rgb(np.repeat(img[..., None], 3, axis=2).astype(np.uint8))

    def error(a: np.ndarray, b: np.ndarray) -> float:
        diff = yuv.planes(a)[0].astype(float) - yuv.planes(b)[0]
        return float(np.abs(diff)[245:275, 215:300].mean())

    a, b = blobs(0), blobs(4)
    assert crossfade._residual_flow(yuv.planes(a)[0], yuv.planes(b)[0]) is None
    flow = crossfade._residual_flow(
        yuv.planes(a)[0], yuv.planes(b)[0], (200.0, 220.0, 320.0, 300.0)
    )
    assert flow is not None
    before = error(a, b)
    crossfade._move_along([(a, -0.5), (b, 0.5)], flow)
    assert before > 5 and error(a, b) < 0.7 * before
