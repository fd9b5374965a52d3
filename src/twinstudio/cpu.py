"""How a process shares its CPU cores between a render's frames and its speech.

A script's render has two kinds of work: speech (Piper's text-to-speech, ~6 CPU s for a minute
of speech) and frames (lip-sync, compositing, x264: ~20 CPU s for a minute of 720p). The frames
keep ~1.6 of 2 cores busy, not 2: the main thread, the encoder's thread and x264's threads wait on
one another. Speech made *first* therefore left that ~0.4 core idle for the whole render and added
its own 3.5-4 s in front of it. Speech made *beside* the frames at the same priority (as an
earlier version did) was no faster: Piper's threads took their share of the cores from the
frames' critical path.

So speech runs at the lowest CPU priority (:data:`SPEECH_NICE`) and the frames at the normal one:
the kernel gives the speech only what the frames leave idle, and all of it while the frames wait
for speech (``render.pipeline``). On Linux the nice value is per thread, and a thread starts with
its creator's, so :func:`background_thread_priority` lowers the calling thread (the render's speech
thread) and :func:`made_at_background_priority` builds an object (an onnxruntime session) in a
short-lived thread at that priority, so the threads *it* starts (its intra-op pool) run there
for good. Lowering a priority never needs privileges; raising it back would, so only threads
that exist for background work are lowered. Elsewhere than Linux both do nothing.

With the speech filling the cores' idle time, OpenCV's own thread pool no longer pays: its calls
in a render are small (a mouth's box, a 720p picture), and splitting them across a pool whose
threads must wait for a core held by x264 or the speech cost more than it saved. So while speech
is made beside the frames, OpenCV runs each call on the thread that makes it
(:func:`opencv_on_calling_threads`). The benchmark's script, alternating runs of each case
(2026-12-05): 720p 16:9 with background removal 26.7 / 26.4 CPU s and 14.26 / 13.94 s end to end
with it, against 28.6 / 27.3 CPU s and 15.02 / 14.34 s with the pool; 1080p 9:16 (whose upscale
the pool splits) 49.2 / 48.8 CPU s and 27.09 / 27.09 s against 51.0 / 50.0 and 28.02 / 27.48 s.
Without speech beside the frames (a render of given audio), the pool still takes idle cores and
is left on (a 1080p 9:16 render was 1-2 s slower without it when the speech was made first).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")

# The nice value of speech threads: the lowest priority (a nice-0 thread that wants the core
# gets ~98 % of it: CFS weights 1024 against 15).
SPEECH_NICE = 19


def background_thread_priority() -> bool:
    """Move the calling thread to :data:`SPEECH_NICE` (never back up: a thread already lower
    stays). True where it took effect."""
    if not hasattr(os, "setpriority") or not hasattr(threading, "get_native_id"):
        return False
    tid = threading.get_native_id()
    try:
        if os.getpriority(os.PRIO_PROCESS, tid) < SPEECH_NICE:
            os.setpriority(os.PRIO_PROCESS, tid, SPEECH_NICE)
    except OSError:
        return False
    return True


def made_at_background_priority(make: Callable[[], T]) -> T:
    """``make()``, run in a thread at :data:`SPEECH_NICE`, so that the threads it starts (which
    inherit their creator's priority) run at it too; its exception, if any, is raised here."""
    result: list[T] = []
    error: list[BaseException] = []

    def run() -> None:
        background_thread_priority()
        try:
            result.append(make())
        except BaseException as e:  # handed to the caller below
            error.append(e)

    thread = threading.Thread(target=run, name="background-init")
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


_opencv_lock = threading.Lock()
_opencv_users = 0  # blocks inside opencv_on_calling_threads, over all threads
_opencv_threads = 0  # OpenCV's thread count before the first of them


@contextlib.contextmanager
def opencv_on_calling_threads() -> Iterator[None]:
    """Within the block, OpenCV runs every call on the thread that makes it (no thread pool);
    the pool's size is restored when the last such block in the process ends (renders in
    several threads of one process overlap). OpenCV's setting is process-wide: another
    thread's OpenCV calls meanwhile run unsplit too, which changes their speed, never their
    result."""
    import cv2

    global _opencv_users, _opencv_threads
    with _opencv_lock:
        if _opencv_users == 0:
            _opencv_threads = cv2.getNumThreads()
            cv2.setNumThreads(1)
        _opencv_users += 1
    try:
        yield
    finally:
        with _opencv_lock:
            _opencv_users -= 1
            if _opencv_users == 0:
                cv2.setNumThreads(_opencv_threads)
