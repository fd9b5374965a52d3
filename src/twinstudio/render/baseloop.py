"""The base loop: which footage frame carries head and body at each output frame, streamed.

Training chose loop points ``start``/``end`` (``twins.loop``): output frame k shows footage frame
``start + k mod (end - start)``. Frames are decoded as they are needed; at each jump back the
reader seeks (the pack video has a keyframe every second), so memory stays one frame deep
whatever the length of the video. A render decodes the loop (and its matte) once: its first
turn also writes each placed frame to a temporary file, which later turns read back
(``render.framestore``; the same bytes, far less CPU than decoding again).

The jump itself is hidden by a short crossfade (``crossfades``): for ``CROSSFADE_S`` after each
jump back to ``start``, the frames that would have followed ``end`` in the footage fade out
over the loop's own frames, so head and body glide instead of snapping. When the footage ends
too soon after ``end``, the fade happens before the jump instead, towards the frames that
precede ``start``. The few partner frames are decoded once and kept in a frame store
(``render.framestore.KeptFrames``), off the process's memory.

A loop whose footage offers no jump that a crossfade can hide (the head drifts one way all
along) plays forward and backward instead (``bounce``, ``twins.loop.plan_loop``): no jump and no
fade; the backward runs are read from the frame store that the forward run filled.
"""

from __future__ import annotations

import contextlib
import itertools
import queue
import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from twinstudio.errors import RenderError
from twinstudio.render.framestore import FrameStore
from twinstudio.render.framing import View
from twinstudio.twins import pack as P
from twinstudio.twins.loop import CROSSFADE_S
from twinstudio.twins.matte import read_matte
from twinstudio.twins.pack import TwinPack
from twinstudio.twins.video import read_frames

T = TypeVar("T")


def schedule(pack: TwinPack, n_frames: int, offset: int = 0) -> np.ndarray:
    """Footage frame index for output frames ``offset`` … ``offset + n_frames - 1``."""
    start, end = _loop_points(pack)
    k = np.arange(offset, offset + n_frames)
    if _bounces(pack):
        period = 2 * (end - start - 1)
        phase = k % period
        return (start + np.minimum(phase, period - phase)).astype(np.int64)
    return (start + k % max(1, end - start)).astype(np.int64)


def loop_runs(pack: TwinPack, offset: int = 0) -> Iterator[tuple[int, int]]:
    """The endless schedule from output frame ``offset`` on, as (first footage frame, count)
    runs: a video of unknown length (streamed speech) decodes the loop run after run. A
    negative count is a run played backwards (a bouncing loop's: ``first``, ``first - 1``, …)."""
    start, end = _loop_points(pack)
    length = max(1, end - start)
    if not _bounces(pack):
        into = offset % length
        yield start + into, length - into
        while True:
            yield start, length
    half = length - 1  # start … end - 2 forward, then end - 1 … start + 1 backward
    into = offset % (2 * half)
    if into < half:
        yield start + into, half - into
    else:
        yield end - 1 - (into - half), -(2 * half - into)
        yield start, half
    while True:
        yield end - 1, -half
        yield start, half


def _loop_points(pack: TwinPack) -> tuple[int, int]:
    loop = pack.meta.get("loop") or {"start": 0, "end": int(pack.meta["n_frames"])}
    return int(loop["start"]), int(loop["end"])


def _bounces(pack: TwinPack) -> bool:
    """True when the loop plays forward and backward (``twins.loop.plan_loop``): no jump."""
    start, end = _loop_points(pack)
    return bool((pack.meta.get("loop") or {}).get("bounce")) and end - start >= 3


def crossfades(pack: TwinPack, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each output frame: the footage frame to fade with (-1: none) and its weight (0..1).

    ``indices`` is ``schedule(pack, n)``. Jumps are the places where ``indices`` goes back.
    """
    n = len(indices)
    partner = np.full(n, -1, np.int64)
    weight = np.zeros(n, np.float32)
    if _bounces(pack):
        return partner, weight  # no jump to hide
    start, end = _loop_points(pack)
    total = int(pack.meta["n_frames"])
    valid = pack.track["valid"] if "valid" in pack.track else np.ones(total, bool)
    c = max(2, round(CROSSFADE_S * pack.fps))
    if end - start < 4 * c:
        return partner, weight  # a very short loop: fading would blur most of it
    jumps = np.flatnonzero(np.diff(indices) < 0) + 1  # first output frame after each jump
    ahead = 0
    while ahead < c and end + ahead < total and valid[end + ahead]:
        ahead += 1
    for k in jumps.tolist():
        if ahead >= c // 2 + 1:  # fade after the jump: the footage's continuation fades out
            for i in range(min(ahead, n - k)):
                partner[k + i] = end + i
                weight[k + i] = (ahead - i) / (ahead + 1)
        else:  # fade before the jump, towards what precedes ``start``
            for i in range(c):
                t = k - c + i
                if t < 0:
                    continue
                partner[t] = max(start - c + i, 0) if start - c + i >= 0 else start
                weight[t] = (i + 1) / (c + 1)
    return partner, weight


def crossfade_window(pack: TwinPack, offset: int, n_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`crossfades` for output frames ``offset`` … ``offset + n_frames - 1`` of the endless
    schedule: computed on a window with a margin either side, so a fade that starts before the
    window, or a jump just after it, is cut exactly as in one long schedule."""
    margin = max(2, round(CROSSFADE_S * pack.fps)) + 2
    lo = max(0, offset - margin)
    partner, weight = crossfades(pack, schedule(pack, offset + n_frames + margin - lo, lo))
    return partner[offset - lo : offset - lo + n_frames], weight[
        offset - lo : offset - lo + n_frames
    ]


def frames_used(pack: TwinPack) -> tuple[int, int]:
    """The first and last footage frame a render of any length reads (loop and crossfades)."""
    start, end = _loop_points(pack)
    partners = crossfade_partners(pack)
    first, last = start, end - 1
    if len(partners):
        first, last = min(first, int(partners.min())), max(last, int(partners.max()))
    return first, last


def crossfade_partners(pack: TwinPack) -> np.ndarray:
    """Every footage frame :func:`crossfades` can name as a partner (a handful): the frames
    just after the loop's end and just before its start (none for a bouncing loop)."""
    if _bounces(pack):
        return np.zeros(0, np.int64)
    start, end = _loop_points(pack)
    total = int(pack.meta["n_frames"])
    c = max(2, round(CROSSFADE_S * pack.fps))
    after = range(end, min(total, end + c + 1))
    before = range(max(0, start - c - 1), start + 1)
    return np.array(sorted({*after, *before}), np.int64)


def _runs(indices: np.ndarray) -> Iterator[tuple[int, int]]:
    """Split a schedule into (first, count) runs of consecutive frames, counted negative where
    they go backwards (see :func:`loop_runs`)."""
    n = len(indices)
    steps = np.diff(indices)
    i = 0
    while i < n:
        j = i + 1
        step = int(steps[i]) if i < n - 1 and abs(int(steps[i])) == 1 else 1
        while j < n and step == int(steps[j - 1]):
            j += 1
        yield int(indices[i]), (j - i) * step
        i = j


def _as_runs(indices: np.ndarray | Iterable[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    if isinstance(indices, np.ndarray):
        return _runs(indices)
    return iter(indices)


def base_frames(
    pack: TwinPack,
    indices: np.ndarray | Iterable[tuple[int, int]],
    view: View | None = None,
    *,
    keep_loop: bool = False,
) -> Iterator[np.ndarray]:
    """Frames of the pack video in the order of ``indices`` (consecutive runs stream), or of
    (first, count) runs such as :func:`loop_runs`'s: I420 pictures placed in ``view`` when given
    (``View.place_decoded``: from the decoded planes, never converted), else RGB at full size.

    ``keep_loop``: the loop's frames are decoded once and read back on later turns
    (``render.framestore``); for the endless :func:`loop_runs` schedule."""
    if view is not None and view.front:
        path, shift = _front(pack, view.source)
    else:
        path, shift = _source(pack, P.BASE_VIDEO, view.source if view is not None else "base")

    def read(first: int) -> Iterator[np.ndarray]:
        if view is None:
            return read_frames(path, first - shift, pack.fps)
        return read_frames(path, first - shift, pack.fps, convert=view.place_decoded)

    # A fresh array for each held frame: frames are edited in place downstream.
    return _by_runs(_as_runs(indices), read, lambda last: last.copy(), path,
                    _loop_store(pack) if keep_loop else None)  # fmt: skip


def _loop_store(pack: TwinPack) -> FrameStore:
    start, end = _loop_points(pack)
    return FrameStore(end - start)


def _by_runs(
    runs: Iterator[tuple[int, int]],
    read: Callable[[int], Iterator[np.ndarray]],
    hold: Callable[[np.ndarray], np.ndarray],
    path: Path,
    store: FrameStore | None = None,
) -> Iterator[np.ndarray]:
    """``count`` items of ``read(first)`` for each (first, count) run; a file that ends early
    holds its last item (``hold(last)`` each time). A run that finds nothing at all, with
    nothing before it to hold, fails: the endless schedule would otherwise read the file again
    and again without ever getting a frame. With a ``store``, decoded items are kept in it
    (before they are handed on and edited) and a run it holds whole is read back from it."""
    last: np.ndarray | None = None
    try:
        for first, count in runs:
            if count < 0:
                for item in _backward(first, -count, read, hold, path, store):
                    last = item
                    yield item
                continue
            if store is not None and store.covers(first, count):
                for key in range(first, first + count):
                    last = store.get(key)
                    yield last
                continue
            got = 0
            for item in read(first):
                if store is not None:
                    store.put(first + got, item)
                last = item
                yield item
                got += 1
                if got == count:
                    break
            if last is None:
                raise _unreadable(path, first)
            while got < count:
                yield hold(last)
                got += 1
    finally:
        if store is not None:
            store.close()


# Frames decoded at a time for a backward run that the frame store does not hold (a loop too
# big to keep, or a render that starts half-way through a bouncing loop): each such group
# decodes from the keyframe before it, then plays reversed.
BACKWARD_GROUP = 6


def _backward(
    first: int,
    count: int,
    read: Callable[[int], Iterator[np.ndarray]],
    hold: Callable[[np.ndarray], np.ndarray],
    path: Path,
    store: FrameStore | None,
) -> Iterator[np.ndarray]:
    """Frames ``first``, ``first - 1``, … (``count`` of them): from the store where it holds
    them, else decoded forward a few at a time (:data:`BACKWARD_GROUP`), kept in the store when
    there is one, and handed on in reverse."""
    key, stop = first, first - count
    while key > stop:
        if store is not None and store.covers(key, 1):
            yield store.get(key)
            key -= 1
            continue
        lo = max(stop + 1, key - BACKWARD_GROUP + 1)
        group = list(itertools.islice(read(lo), key - lo + 1))
        if not group:
            raise _unreadable(path, lo)
        while len(group) < key - lo + 1:  # the file ended early: hold its last frame
            group.append(hold(group[-1]))
        if store is not None:
            for i, item in enumerate(group):
                store.put(lo + i, item)
        yield from reversed(group)
        key = lo - 1


def _unreadable(path: Path, first: int) -> RenderError:
    return RenderError(
        "unreadable_twin_video",
        f"{path.name} has no frame for footage frame {first}: the twin's files are "
        "damaged; train it again.",
    )


def _source(pack: TwinPack, name: str, source: str) -> tuple[Path, int]:
    """The file to read for ``name`` (the base video or the matte) and the footage frame its
    frame 0 shows: the pack's own, or its rendition's (``twins.rendition``)."""
    if source != "rendition":
        return pack.file(name), 0
    rendition = pack.rendition(with_matte=name == P.MATTE)
    if rendition is None:
        raise RenderError("rendition_missing", "This twin has no 720p rendition to read.")
    return pack.file(P.BASE_SMALL if name == P.BASE_VIDEO else P.MATTE_SMALL), rendition.first


def _front(pack: TwinPack, source: str) -> tuple[Path, int]:
    """The front video (``twins.front``) at the base's size or (``source`` "rendition") the
    rendition's, and the footage frame its frame 0 shows."""
    small = source == "rendition"
    front = pack.front(small=small)
    if front is None:
        raise RenderError("front_missing", "This twin has no front video to read; train it again.")
    return pack.file(P.BASE_FRONT_SMALL if small else P.BASE_FRONT), front.first


def uses_front(pack: TwinPack, rendition: bool) -> bool:
    """Whether a render that removes the background can read the pack's front videos
    (``twins.front``) at the base's size, or at the rendition's: they hold every frame it
    reads."""
    front = pack.front(small=rendition) if pack.kind == "video" else None
    return front is not None and front.covers(*frames_used(pack))


def matte_frames(
    pack: TwinPack,
    indices: np.ndarray | Iterable[tuple[int, int]],
    source: str = "base",
    *,
    place: Callable[[np.ndarray], np.ndarray] | None = None,
    keep_loop: bool = False,
) -> Iterator[np.ndarray]:
    """Alpha (H, W) uint8 for each index (or run, as :func:`base_frames`), from the pack's
    matte, or from its rendition's (``source`` "rendition"); each run seeks to its first frame.
    ``place``: applied to each alpha as it is decoded (``View.place``); ``keep_loop`` as for
    :func:`base_frames` (what is kept is the placed alpha)."""
    path, shift = _source(pack, P.MATTE, source)

    def read(first: int) -> Iterator[np.ndarray]:
        alphas = read_matte(path, first - shift, pack.fps)
        return alphas if place is None else map(place, alphas)

    return _by_runs(_as_runs(indices), read, lambda last: last, path,
                    _loop_store(pack) if keep_loop else None)  # fmt: skip


def prefetch(items: Iterator[T], depth: int = 3) -> Generator[T, None, None]:
    """Run ``items`` in a background thread, ``depth`` items ahead (decoding releases the GIL,
    so the next base frame decodes while this one is pasted). Memory: ``depth`` items. Errors
    raised by ``items`` are re-raised here; closing the result stops the thread."""
    q: queue.Queue[tuple[int, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        q.put((0, item), timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put((1, None))
        except BaseException as exc:  # handed to the consumer, which re-raises it
            q.put((2, exc))

    thread = threading.Thread(target=produce, name="prefetch", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = q.get()
            if kind == 1:
                return
            if kind == 2:
                raise value
            yield value
    finally:
        stop.set()
        with contextlib.suppress(queue.Empty):
            while True:  # unblock a producer waiting on a full queue
                q.get_nowait()
        thread.join(timeout=5)
