"""Reading and writing the pack's own video files (H.264, no audio) with PyAV, frame by frame.

Deliberately tiny and separate from ``render.encode`` (the product's output encoder): the pack's
base video only needs a faithful, seekable copy (a keyframe every second) at high quality.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar, overload

import numpy as np

from twinstudio.render import yuv

T = TypeVar("T")


class VideoWriter:
    """``with VideoWriter(path, (w, h), fps) as w: w.write(rgb)`` — H.264 yuv420p, CRF quality,
    tagged as the renderer's pictures are (``yuv.X264_COLOUR``: BT.601 matrix, limited range)."""

    def __init__(
        self,
        path: Path,
        size: tuple[int, int],
        fps: int,
        *,
        crf: int = 17,
        preset: str = "superfast",
    ) -> None:
        import av

        self.size = size
        self._container: Any = av.open(str(path), mode="w")
        stream = self._container.add_stream("libx264", rate=Fraction(fps))
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(crf), "preset": preset, "g": str(fps), "bf": "0",
                          "x264-params": yuv.X264_COLOUR}  # fmt: skip
        self._stream = stream
        self._time_base = Fraction(1, fps)
        self._n = 0

    def write(self, image: np.ndarray | Any) -> None:
        """Append one frame: an RGB uint8 array or an ``av.VideoFrame`` of the right size."""
        import av

        if isinstance(image, np.ndarray):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
        else:
            frame = image
        frame.pts = self._n
        frame.time_base = self._time_base
        self._n += 1
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def close(self) -> int:
        """Flush and close; returns the number of frames written."""
        if self._container is not None:
            for packet in self._stream.encode(None):
                self._container.mux(packet)
            self._container.close()
            self._container = None
        return self._n

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


@overload
def read_frames(
    path: Path, start: int = 0, fps: int | None = None, convert: None = None
) -> Iterator[np.ndarray]: ...


@overload
def read_frames(
    path: Path, start: int = 0, fps: int | None = None, *, convert: Callable[[Any], T]
) -> Iterator[T]: ...


def read_frames(
    path: Path,
    start: int = 0,
    fps: int | None = None,
    convert: Callable[[Any], Any] | None = None,
) -> Iterator[Any]:
    """RGB frames of a pack video from frame ``start`` on (seeks to the keyframe before it).

    ``fps`` is needed to seek (``start > 0``): frame k is shown at time k / fps. ``convert``
    turns each decoded ``av.VideoFrame`` into the array yielded (default: full-size RGB).
    """
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        if start > 0:
            if fps is None:
                raise ValueError("fps is required to seek")
            tb = stream.time_base or Fraction(1, 1000)
            container.seek(int(start / fps / tb), stream=stream, backward=True, any_frame=False)
        for frame in container.decode(stream):
            if (
                start > 0
                and frame.time is not None
                and round(float(frame.time) * (fps or 1)) < start
            ):
                continue
            yield frame.to_ndarray(format="rgb24") if convert is None else convert(frame)
