"""Decode the base loop once per render: frames kept in a temporary file, read back on each turn.

A render shows the same few seconds of footage over and over (``render.baseloop``): a minute of
video at 30 fps turns a 97-frame loop ~20 times, and every turn used to decode the loop again,
plus the frames from the keyframe before the loop's start up to it. Decoding is not cheap on
two cores: H.264 with frame threads took 3.4 CPU-s of a minute of 720p video (11 % of the
render's CPU, ``perf``, 2026-12-02) and the PNG matte another 2 CPU-s, while reading a frame
already decoded is one copy from the page cache.

So the first turn writes each frame, as it is decoded and placed in the view, to an unnamed
temporary file (``tempfile.TemporaryFile``: unlinked at once, so even a killed worker leaves
nothing behind), and later turns read them back. The frames read back are the very bytes the
decoder gave, so the video is identical, byte for byte. Memory does not change: the file lives
in the kernel's page cache (reclaimable, not part of the process's RSS) and each read fills a
fresh array, as decoding did. The file holds the loop's frames only: ~130 MB for a 97-frame
loop at 720p, ~300 MB at 1080p. A loop larger than :data:`MAX_BYTES` (4k, or a very long
loop) is not kept and is decoded every turn, as is everything after a write fails (a full
disk): the store only ever saves work, it never fails a render.

:class:`ArrayStore` does the same for arrays of any shape: the mouth bank's decoded cuts, each of
its own size, so that each is decoded once per render (``render.lipsync.sample``).
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Iterable
from typing import IO

import numpy as np

_LOGGER = logging.getLogger(__name__)

# The most a render keeps on disk per stream (base frames, matte): a 1080p loop of ~10 s.
MAX_BYTES = 1 << 30


def _write_at(file: IO[bytes], array: np.ndarray, offset: int) -> None:
    """Write ``array``'s bytes to ``file`` at ``offset`` (all of them, or raise ``OSError``)."""
    data = np.ascontiguousarray(array).data.cast("B")
    done = 0
    while done < len(data):  # a regular file takes it all at once, but be sure
        wrote = os.pwrite(file.fileno(), data[done:], offset + done)
        if wrote <= 0:
            raise OSError("the temporary file takes no more bytes")
        done += wrote


def _read_at(file: IO[bytes], shape: tuple[int, ...], dtype: np.dtype, offset: int) -> np.ndarray:
    """A fresh array of ``shape`` and ``dtype`` read from ``file`` at ``offset``."""
    out = np.empty(shape, dtype)
    got = os.preadv(file.fileno(), [out.data.cast("B")], offset)
    if got != out.nbytes:
        raise OSError(f"temporary store: read {got} of {out.nbytes} bytes")
    return out


class FrameStore:
    """Fixed-size frames by key (a footage frame number), kept in an unnamed temporary file.

    ``capacity``: how many frames will be put at most (the loop's length); the first frame
    put fixes the shape and dtype, and the store turns itself off when ``capacity`` such frames
    would exceed ``max_bytes``.
    """

    def __init__(self, capacity: int, max_bytes: int = MAX_BYTES) -> None:
        self.capacity = max(0, int(capacity))
        self.max_bytes = max_bytes
        self._file: IO[bytes] | None = None
        self._slots: dict[int, int] = {}
        self._shape: tuple[int, ...] = ()
        self._dtype = np.dtype(np.uint8)
        self._nbytes = 0
        self.enabled = self.capacity > 0

    def __len__(self) -> int:
        return len(self._slots)

    def covers(self, first: int, count: int) -> bool:
        """True when frames ``first`` … ``first + count − 1`` are all kept."""
        return self.enabled and all(k in self._slots for k in range(first, first + count))

    def put(self, key: int, frame: np.ndarray) -> None:
        """Keep ``frame`` (a copy of its bytes) under ``key``, unless it is kept already, the
        store is full or off, or ``frame`` differs in shape or dtype from the first one."""
        if not self.enabled or key in self._slots:
            return
        if self._file is None:
            if frame.nbytes * self.capacity > self.max_bytes:
                self.enabled = False
                return
            self._shape, self._dtype, self._nbytes = frame.shape, frame.dtype, frame.nbytes
            try:  # kept open for the render's length; close() (or the collector) drops it
                self._file = tempfile.TemporaryFile(prefix="twinstudio-loop-", buffering=0)  # noqa: SIM115
            except OSError as exc:  # no writable temporary folder
                self._off(exc)
                return
        if frame.shape != self._shape or frame.dtype != self._dtype:
            return
        if len(self._slots) >= self.capacity:
            return
        slot = len(self._slots)
        try:
            _write_at(self._file, frame, slot * self._nbytes)
        except OSError as exc:  # a full disk: decode every turn instead
            self._off(exc)
            return
        self._slots[key] = slot

    def _off(self, exc: OSError) -> None:
        _LOGGER.warning("Frame store off (%s); the loop will be decoded on every turn.", exc)
        self.close()

    def get(self, key: int) -> np.ndarray:
        """A fresh array holding frame ``key`` (which :meth:`covers` said is kept)."""
        assert self._file is not None
        return _read_at(self._file, self._shape, self._dtype, self._slots[key] * self._nbytes)

    def close(self) -> None:
        """Drop every frame (the file disappears); the store stays off."""
        self.enabled = False
        self._slots.clear()
        if self._file is not None:
            self._file.close()
            self._file = None


class ArrayStore:
    """Arrays of any shape by key, each written once to an unnamed temporary file and read back
    as a fresh array (a ``FrameStore`` whose entries need not share a shape: the mouth bank's
    cuts, each its own size). Bounded by ``max_bytes``; past it, or after a failed write, it
    keeps nothing more and the caller makes the array again."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._file: IO[bytes] | None = None
        self._where: dict[int, tuple[int, tuple[int, ...], np.dtype]] = {}
        self._end = 0
        self.enabled = True

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, key: int) -> bool:
        return key in self._where

    def put(self, key: int, array: np.ndarray) -> None:
        """Keep a copy of ``array``'s bytes under ``key`` (unless kept already, full or off)."""
        if not self.enabled or key in self._where or self._end + array.nbytes > self.max_bytes:
            return
        try:
            if self._file is None:  # kept open for the render's length; close() drops it
                self._file = tempfile.TemporaryFile(prefix="twinstudio-cuts-", buffering=0)  # noqa: SIM115
            _write_at(self._file, array, self._end)
        except OSError as exc:  # no temporary folder, a full disk: make them afresh instead
            _LOGGER.warning("Array store off (%s); its arrays will be made again.", exc)
            self.close()
            return
        self._where[key] = (self._end, array.shape, array.dtype)
        self._end += array.nbytes

    def get(self, key: int) -> np.ndarray:
        """A fresh array holding what was put under ``key`` (``KeyError`` when not kept)."""
        offset, shape, dtype = self._where[key]
        assert self._file is not None  # something is kept, so the file is open
        return _read_at(self._file, shape, dtype, offset)

    def close(self) -> None:
        """Drop every array (the file disappears); the store stays off."""
        self.enabled = False
        self._where.clear()
        if self._file is not None:
            self._file.close()
            self._file = None


class KeptFrames:
    """A few frames by key, made once and read many times: kept in a :class:`FrameStore`, or in
    memory where the store cannot keep them (no writable temporary folder, over its limit).

    For frames a render holds for its whole length but reads only now and then, such as the
    footage frames that loop-point crossfades fade with: 15 of them are 45 MB of the process's
    memory at 1080p, against a page-cache copy here.
    """

    def __init__(self, make: Callable[[], Iterable[tuple[int, np.ndarray]]], capacity: int) -> None:
        """``make()`` gives the (key, frame) pairs; it is called again, and its frames held in
        memory, when the store turns off part-way (a full disk), taking what it had with it."""
        self._store = FrameStore(capacity)
        self._held: dict[int, np.ndarray] = {}
        for key, frame in make():
            self._store.put(key, frame)
            if not self._store.enabled:
                break
            if not self._store.covers(key, 1):  # another shape than the first, or past capacity
                self._held[key] = frame
        if not self._store.enabled:
            self._held = dict(make())

    def __contains__(self, key: int) -> bool:
        return key in self._held or self._store.covers(key, 1)

    def get(self, key: int) -> np.ndarray:
        """Frame ``key`` (a fresh array when read from the store); ``KeyError`` when not kept."""
        if key in self._held:
            return self._held[key]
        if not self._store.covers(key, 1):
            raise KeyError(key)
        return self._store.get(key)

    def close(self) -> None:
        """Drop every frame."""
        self._store.close()
        self._held.clear()
