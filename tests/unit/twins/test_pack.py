"""The pack format: safe files only, versioned, round-trips."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from twinstudio.errors import RenderError
from twinstudio.twins import pack as P
from twinstudio.twins.cuts import MouthCrops, MouthCropWriter


def test_meta_and_arrays_round_trip(tmp_path: Path) -> None:
    P.write_meta(tmp_path, {"kind": "video", "fps": 25, "width": 64, "height": 48,
                            "face_box": [1, 2, 30, 40]})  # fmt: skip
    lm = np.random.default_rng(1).random((3, 478, 2)).astype(np.float32)
    P.save_arrays(tmp_path / P.TRACK, landmarks=lm, valid=np.ones(3, bool))
    pack = P.TwinPack.open(tmp_path)
    assert pack.meta["version"] == P.PACK_VERSION
    assert pack.fps == 25 and pack.size == (64, 48) and pack.face_box == (1, 2, 30, 40)
    np.testing.assert_array_equal(pack.track["landmarks"], lm)


def _ffv1_matte(path: Path, n: int, fps: int) -> None:
    """A revision-4 matte: FFV1 in Matroska, a keyframe every 60 frames, frame k all k."""
    import av

    with av.open(str(path), "w", format="matroska") as sink:
        stream = sink.add_stream("ffv1", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 32, 16, "gray"
        stream.options = {"level": "3", "slices": "4", "slicecrc": "0", "g": "60"}
        for k in range(n):
            frame = av.VideoFrame.from_ndarray(np.full((16, 32), k, np.uint8), format="gray")
            frame.pts = k
            for packet in stream.encode(frame):
                sink.mux(packet)
        for packet in stream.encode(None):
            sink.mux(packet)


def test_older_packs_mattes_stand_for_the_current_names(tmp_path: Path) -> None:
    """A revision-4 pack (``matte.mkv``, ``matte_small.mkv``: FFV1) keeps its background removal:
    the current names resolve to its files, and they seek and decode as before."""
    from twinstudio.twins.matte import read_matte, write_matte

    P.write_meta(tmp_path, {"kind": "video", "fps": 30, "width": 32, "height": 16})
    pack = P.TwinPack.open(tmp_path)
    assert not pack.has(P.MATTE) and not pack.has(P.MATTE_SMALL)
    _ffv1_matte(tmp_path / "matte.mkv", 100, 30)
    _ffv1_matte(tmp_path / "matte_small.mkv", 10, 30)
    assert pack.has(P.MATTE) and pack.file(P.MATTE) == tmp_path / "matte.mkv"
    assert pack.has(P.MATTE_SMALL) and pack.file(P.MATTE_SMALL) == tmp_path / "matte_small.mkv"
    got = read_matte(pack.file(P.MATTE), 75, 30.0)  # past a keyframe, between two
    assert [int(next(got)[0, 0]) for _ in range(3)] == [75, 76, 77]
    # A pack that has the current file reads that one.
    write_matte(tmp_path / P.MATTE, [np.zeros((16, 32), np.uint8)], fps=30)
    assert pack.file(P.MATTE) == tmp_path / P.MATTE
    assert pack.file(P.BASE_VIDEO) == tmp_path / P.BASE_VIDEO  # other names are untouched


def test_front_videos_are_used_only_where_the_pack_has_them(tmp_path: Path) -> None:
    """``TwinPack.front``: None for a pack trained before them (no ``meta["front"]``) or whose
    file is missing; the rendition's only beside a rendition; renders read them only when they
    hold every frame a render reads (``baseloop.uses_front``)."""
    from twinstudio.render.baseloop import frames_used, uses_front

    meta = {"kind": "video", "fps": 30, "width": 1920, "height": 1080, "n_frames": 300,
            "loop": {"start": 40, "end": 200, "bounce": False, "fade_frames": 6},
            "rendition": {"size": [1280, 720], "first": 10, "count": 221}}  # fmt: skip
    P.write_meta(tmp_path, meta)
    pack = P.TwinPack.open(tmp_path)
    assert pack.front() is None and not uses_front(pack, False)  # revision 7: none
    (tmp_path / P.BASE_FRONT).write_bytes(b"")
    P.write_meta(tmp_path, {**meta, "front": {"first": 10, "count": 221}})
    pack = P.TwinPack.open(tmp_path)
    front = pack.front()
    assert front is not None and (front.size, front.first, front.count) == ((1920, 1080), 10, 221)
    assert pack.front(small=True) is None  # its file is missing
    (tmp_path / P.BASE_SMALL).write_bytes(b"")
    (tmp_path / P.MATTE_SMALL).write_bytes(b"")
    (tmp_path / P.BASE_FRONT_SMALL).write_bytes(b"")
    small = pack.front(small=True)
    assert small is not None and small.size == (1280, 720)
    first, last = frames_used(pack)
    assert first >= 10 and last < 231 and uses_front(pack, True)
    P.write_meta(tmp_path, {**meta, "front": {"first": 10, "count": last - 10}})  # one short
    assert not uses_front(P.TwinPack.open(tmp_path), False)
    photo = {**meta, "kind": "photo", "front": {"first": 10, "count": 221}}
    P.write_meta(tmp_path, photo)
    assert not uses_front(P.TwinPack.open(tmp_path), False)


def test_object_arrays_are_refused(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        P.save_arrays(tmp_path / "x.npz", bad=np.array([{"a": 1}], dtype=object))


def test_newer_pack_is_refused(tmp_path: Path) -> None:
    (tmp_path / P.META).write_text(json.dumps({"version": P.PACK_VERSION + 1}))
    with pytest.raises(RenderError) as info:
        P.TwinPack.open(tmp_path)
    assert info.value.code == "twin_pack_too_new"


def test_missing_pack_is_not_ready(tmp_path: Path) -> None:
    with pytest.raises(RenderError) as info:
        P.TwinPack.open(tmp_path / "nothing")
    assert info.value.code == "twin_not_ready"


def test_mouth_crops_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    writer = MouthCropWriter()
    images = [np.full((20, 30, 3), rng.integers(0, 255, 3), np.uint8) for _ in range(4)]
    for img in images:
        writer.add(img)
    writer.save(tmp_path / P.MOUTHS)
    crops = MouthCrops(tmp_path / P.MOUTHS)
    assert len(crops) == 4
    for i, img in enumerate(images):
        assert np.abs(crops.get(i).astype(int) - img.astype(int)).max() <= 3


def test_mouth_crops_are_lossless_and_old_jpeg_packs_still_read(tmp_path: Path) -> None:
    import cv2

    rng = np.random.default_rng(3)
    images = [rng.integers(0, 255, (24, 32, 3), dtype=np.uint8) for _ in range(3)]  # all detail
    writer = MouthCropWriter()
    for img in images:
        writer.add(img)
    writer.save(tmp_path / P.MOUTHS)
    crops = MouthCrops(tmp_path / P.MOUTHS)
    assert crops.format == "webp-lossless"
    for i, img in enumerate(images):
        np.testing.assert_array_equal(crops.get(i), img)  # exact: no codec loss on the cut

    # A revision-2 pack: JPEG bytes, no ``format`` entry.
    chunks = [cv2.imencode(".jpg", img[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()
              for img in images]  # fmt: skip
    offsets = np.concatenate([[0], np.cumsum([len(c) for c in chunks])]).astype(np.int64)
    old = tmp_path / "old_mouths.npz"
    np.savez(old, data=np.frombuffer(b"".join(chunks), np.uint8), offsets=offsets)
    legacy = MouthCrops(old)
    assert legacy.format == "jpeg" and len(legacy) == 3
    for i, chunk in enumerate(chunks):
        as_before = cv2.imdecode(np.frombuffer(chunk, np.uint8), cv2.IMREAD_COLOR)[:, :, ::-1]
        np.testing.assert_array_equal(legacy.get(i), as_before)


def test_compose_affine_is_the_matrix_product() -> None:
    from twinstudio.twins.bank import apply_affine, compose_affine

    rng = np.random.default_rng(3)
    for _ in range(20):
        outer, inner = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
        full = np.vstack([outer, [0, 0, 1]]) @ np.vstack([inner, [0, 0, 1]])
        assert np.allclose(compose_affine(outer, inner), full[:2])
        pts = rng.normal(size=(5, 2))
        assert np.allclose(apply_affine(compose_affine(outer, inner), pts),
                           apply_affine(outer, apply_affine(inner, pts)))  # fmt: skip


def test_mouth_crops_are_read_in_place_not_loaded(tmp_path: Path) -> None:
    """The bank grows with the footage (1.3 GB for ten minutes at 1080p): cuts are spooled to
    a file while training and read one at a time from the archive while rendering."""
    rng = np.random.default_rng(4)
    images = [rng.integers(0, 255, (16 + i, 24, 3), dtype=np.uint8) for i in range(5)]
    writer = MouthCropWriter(spool_dir=tmp_path)
    for img in images:
        writer.add(img)
    assert list(tmp_path.iterdir()) == []  # the spool is anonymous: nothing left behind
    assert writer._spool.tell() > 0  # the bytes went to the spool, not to a list in memory
    writer.save(tmp_path / P.MOUTHS)
    with np.load(tmp_path / P.MOUTHS) as z:  # still a plain .npz
        assert z["offsets"].shape == (6,) and z["data"].size == z["offsets"][-1]
    crops = MouthCrops(tmp_path / P.MOUTHS)
    assert crops._data is None  # nothing of the data held: positioned reads
    for i in (3, 0, 4, 1, 2):
        np.testing.assert_array_equal(crops.get(i), images[i])
    crops.close()

    # An archive written compressed (by hand) has no place to read from: read whole.
    packed = tmp_path / "packed.npz"
    with np.load(tmp_path / P.MOUTHS) as z:
        np.savez_compressed(packed, **{k: z[k] for k in z.files})
    whole = MouthCrops(packed)
    assert whole._data is not None
    np.testing.assert_array_equal(whole.get(2), images[2])
