"""Native log: MediaPipe's start-up chatter kept off the user's terminal.

MediaPipe and TensorFlow Lite write a handful of C++ log lines straight to file descriptor 2 when
a model starts ("Created TensorFlow Lite XNNPACK delegate for CPU", "Feedback manager requires a
model with a single signature inference", …): 4-6 lines in every ``twinstudio render`` that
trains a twin, and in every worker's log. They mean nothing to a user, and ``GLOG_minloglevel`` /
``TF_CPP_MIN_LOG_LEVEL`` do not silence them (tried: the lines come from absl before its logging is
initialised, and from TFLite's own logger).

:func:`filtered_stderr` is a window around a model's creation and first inference, where those
lines are written. For its length fd 2 is a pipe; a thread passes every line through to the real
stderr except the known ones (:data:`NOISE`). Nothing else is dropped: another thread's output in
the window is passed on, in order, and a subprocess started in the window keeps its stderr going
through the pipe until it exits (the forwarding thread owns the real stderr's copy until then).
Windows may overlap (threads): the first one in installs the pipe and the last one out restores.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

__all__ = ["NOISE", "filtered_stderr"]

# Substrings of the lines dropped.
NOISE: tuple[bytes, ...] = (
    b"Created TensorFlow Lite XNNPACK delegate",
    b"All log messages before absl::InitializeLog() is called",
    b"inference_feedback_manager.cc",
    b"landmark_projection_calculator.cc",
)

_lock = threading.Lock()
_depth = 0
_saved: int | None = None  # the real stderr's copy while a window is open
_thread: threading.Thread | None = None


def _forward(read_fd: int, out_fd: int) -> None:
    """Pass the pipe's lines to ``out_fd`` until its last writer closes, minus :data:`NOISE`;
    then close both descriptors."""
    pending = b""
    try:
        while True:
            chunk = os.read(read_fd, 65536)
            if not chunk:
                break
            pending += chunk
            *lines, pending = pending.split(b"\n")
            kept = b"".join(line + b"\n" for line in lines if not _noise(line))
            if kept:
                _write_all(out_fd, kept)
        if pending and not _noise(pending):
            _write_all(out_fd, pending)
    finally:
        os.close(read_fd)
        os.close(out_fd)


def _noise(line: bytes) -> bool:
    return any(marker in line for marker in NOISE)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _open() -> None:
    global _saved, _thread
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()
    read_fd, write_fd = os.pipe()
    try:
        saved = os.dup(2)
    except OSError:
        os.close(read_fd)
        os.close(write_fd)
        raise
    os.dup2(write_fd, 2)
    os.close(write_fd)
    # The thread gets its own copy of the real stderr: it may outlive the window (a subprocess
    # started in it still holds the pipe).
    thread = threading.Thread(
        target=_forward, args=(read_fd, os.dup(saved)), name="stderr-filter", daemon=True
    )
    thread.start()
    _saved, _thread = saved, thread


def _close() -> None:
    global _saved, _thread
    saved, thread, _saved, _thread = _saved, _thread, None, None
    if saved is None:
        return
    if sys.stderr is not None:
        sys.stderr.flush()
    os.dup2(saved, 2)  # the pipe's last write end (when no subprocess holds it): the thread ends
    os.close(saved)
    if thread is not None:  # its last lines out before anything written after the window
        thread.join(timeout=2.0)


@contextmanager
def filtered_stderr() -> Iterator[None]:
    """A window in which fd 2 passes everything but MediaPipe's start-up lines (module doc).
    Where fd 2 cannot be redirected (closed, no pipes), it is a window that filters nothing."""
    global _depth
    with _lock:
        if _depth == 0:
            with suppress(OSError):  # no filter then
                _open()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                _close()
