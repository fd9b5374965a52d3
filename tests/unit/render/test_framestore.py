"""The frame store: a loop's frames decoded once, read back byte for byte."""

from __future__ import annotations

import numpy as np
import pytest

from twinstudio.render.framestore import ArrayStore, FrameStore, KeptFrames


def _frame(value: int, shape: tuple[int, ...] = (6, 8)) -> np.ndarray:
    return (np.arange(np.prod(shape)).reshape(shape) + value).astype(np.uint8)


def test_frames_come_back_exactly_and_as_fresh_arrays() -> None:
    store = FrameStore(capacity=4)
    for key in (10, 11, 12):
        store.put(key, _frame(key))
    assert store.covers(10, 3) and not store.covers(10, 4) and not store.covers(9, 1)
    got = store.get(11)
    assert np.array_equal(got, _frame(11)) and got.dtype == np.uint8
    got[...] = 0  # edited downstream: the kept frame is untouched
    assert np.array_equal(store.get(11), _frame(11))
    store.close()
    assert not store.covers(10, 1)


def test_a_frame_is_kept_once_and_the_first_copy_wins() -> None:
    store = FrameStore(capacity=2)
    store.put(1, _frame(1))
    store.put(1, _frame(99))
    assert len(store) == 1 and np.array_equal(store.get(1), _frame(1))


def test_views_are_kept_as_their_values() -> None:
    """A placed alpha is often a crop view of a bigger array: its values are what is kept."""
    big = _frame(3, (10, 12))
    store = FrameStore(capacity=1)
    store.put(0, big[2:8, 4:12])
    assert np.array_equal(store.get(0), big[2:8, 4:12])


def test_capacity_shape_and_size_limits() -> None:
    store = FrameStore(capacity=2)
    store.put(0, _frame(0))
    store.put(1, _frame(1, (4, 4)))  # another shape: not kept
    store.put(2, _frame(2))
    store.put(3, _frame(3))  # past the capacity: not kept
    assert store.covers(0, 1) and store.covers(2, 1)
    assert not store.covers(1, 1) and not store.covers(3, 1)

    too_big = FrameStore(capacity=100, max_bytes=1000)  # 100 frames of 48 bytes > 1000
    too_big.put(0, _frame(0))
    assert not too_big.enabled and not too_big.covers(0, 1)
    assert not FrameStore(capacity=0).enabled


def test_a_failed_write_turns_the_store_off(monkeypatch: pytest.MonkeyPatch) -> None:
    import twinstudio.render.framestore as fs

    def full_disk(*_args: object) -> int:
        raise OSError(28, "No space left on device")

    store = FrameStore(capacity=2)
    store.put(0, _frame(0))
    monkeypatch.setattr(fs.os, "pwrite", full_disk)
    store.put(1, _frame(1))
    assert not store.enabled and not store.covers(0, 1)


def test_no_writable_temporary_folder_turns_the_store_off(monkeypatch: pytest.MonkeyPatch) -> None:
    import twinstudio.render.framestore as fs

    def read_only(*_args: object, **_kwargs: object) -> object:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(fs.tempfile, "TemporaryFile", read_only)
    store = FrameStore(capacity=2)
    store.put(0, _frame(0))  # no error: the render goes on decoding
    assert not store.enabled and not store.covers(0, 1)


def test_kept_frames_live_in_the_store_and_come_back_exactly() -> None:
    made: list[int] = []

    def make() -> list[tuple[int, np.ndarray]]:
        made.append(1)
        return [(key, _frame(key)) for key in (4, 7)]

    kept = KeptFrames(make, capacity=2)
    assert made == [1] and 4 in kept and 7 in kept and 5 not in kept
    assert not kept._held  # in the store, not in the process's memory
    assert np.array_equal(kept.get(7), _frame(7))
    with pytest.raises(KeyError):
        kept.get(5)
    kept.close()
    assert 4 not in kept


def test_kept_frames_are_held_in_memory_when_the_store_fails_part_way(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A full disk at the second frame drops the first one from the store too: every frame is
    made again and held, so none is lost."""
    import twinstudio.render.framestore as fs

    writes = {"n": 0}
    real_pwrite = fs.os.pwrite

    def fail_second(fd: int, data: object, offset: int) -> int:
        writes["n"] += 1
        if writes["n"] == 2:
            raise OSError(28, "No space left on device")
        return real_pwrite(fd, data, offset)  # type: ignore[arg-type]

    monkeypatch.setattr(fs.os, "pwrite", fail_second)
    made: list[int] = []

    def make() -> list[tuple[int, np.ndarray]]:
        made.append(1)
        return [(key, _frame(key)) for key in (1, 2, 3)]

    kept = KeptFrames(make, capacity=3)
    assert made == [1, 1]
    for key in (1, 2, 3):
        assert key in kept and np.array_equal(kept.get(key), _frame(key))


def test_arrays_of_any_shape_come_back_exactly_within_the_byte_bound() -> None:
    """Cuts of different sizes (and dtypes) read back exactly, as fresh arrays; one that would
    take the store past ``max_bytes`` is not kept (the caller decodes it again)."""
    rng = np.random.default_rng(3)
    arrays = {k: rng.integers(0, 256, (30 + 3 * k, 20 + k), dtype=np.uint8) for k in range(5)}
    arrays[5] = rng.random((7, 3)).astype(np.float32)
    store = ArrayStore(max_bytes=sum(a.nbytes for a in arrays.values()))
    for k, a in arrays.items():
        store.put(k, a)
    store.put(0, np.zeros((30, 20), np.uint8))  # kept once: the first copy wins
    assert len(store) == 6
    for k, a in arrays.items():
        got = store.get(k)
        assert got.dtype == a.dtype and np.array_equal(got, a)
        got[...] = 0  # a fresh array: the store's copy is untouched
        assert np.array_equal(store.get(k), a)
    store.put(6, np.zeros(1, np.uint8))  # one byte past the bound
    assert 6 not in store and store.enabled
    with pytest.raises(KeyError):
        store.get(6)
    store.close()
    assert len(store) == 0 and 0 not in store


def test_a_failed_write_turns_the_array_store_off(monkeypatch: pytest.MonkeyPatch) -> None:
    import twinstudio.render.framestore as fs

    def full_disk(*_args: object) -> int:
        raise OSError(28, "No space left on device")

    store = ArrayStore()
    store.put(0, np.ones((4, 6), np.uint8))
    monkeypatch.setattr(fs.os, "pwrite", full_disk)
    store.put(1, np.ones((8, 2), np.uint8))  # no error: the render goes on decoding
    assert not store.enabled and 0 not in store and 1 not in store
