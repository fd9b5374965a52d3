"""The 720p rendition: the base loop (and its matte) kept a second time, at 720 px on the short side.

Why: a 720p video of 1080p footage shows the footage at 2/3 scale. Decoding the 1080p base and
shrinking every frame (and every matte) cost more than x264 itself in a 720p render: the H.264
decode of 2.25x the pixels, a 1080 → 720 resize of three planes and of the alpha in the decoding
threads, and FFV1 decoding a 1080p matte (3.2 ms a frame, the largest single cost of a 720p
render with background removal; ``perf``, 2026-12-01). With the rendition the renderer decodes
exactly the pixels it shows. It is also sharper: the frames are shrunk once, here, by area
averaging (swscale ``AREA``), where the renderer's per-frame resize was bilinear.

What is kept: frames ``first .. first + count - 1`` of the base video, i.e. the loop with a second
of margin either side (the loop-point crossfades read up to 0.2 s outside it), re-encoded like
the base video; the matte for the same frames, stored like the full one (``twins.matte``). Footage whose short side is
under ``MIN_SHORT_SIDE`` gets none: a 720p video of it is (nearly) at its own scale. The renderer
uses the rendition whenever the view it draws in is no larger than the rendition's part of the
crop (``render.framing``); otherwise the full base.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

from twinstudio.errors import RenderError

__all__ = ["RENDITION_SHORT_SIDE", "RenditionWriter", "rendition_size", "rendition_span",
           "shrink_matte"]  # fmt: skip

RENDITION_SHORT_SIDE = 720
# Footage at least this big on its short side gets a rendition (1.25x the rendition's size).
MIN_SHORT_SIDE = 900
# Frames kept either side of the loop, in seconds (crossfades reach 0.2 s past the loop points).
MARGIN_S = 1.0


def rendition_size(size: tuple[int, int]) -> tuple[int, int] | None:
    """The rendition's (w, h) for footage of ``size``: 720 px on the short side, both even; None
    for footage too small to need one."""
    w, h = size
    short = min(w, h)
    if short < MIN_SHORT_SIDE:
        return None
    k = RENDITION_SHORT_SIDE / short
    return max(2, round(w * k / 2) * 2), max(2, round(h * k / 2) * 2)


def rendition_span(loop: tuple[int, int], n_frames: int, fps: int) -> tuple[int, int]:
    """(first, count): the base frames the rendition keeps for a loop ``[start, end)``."""
    margin = max(1, round(MARGIN_S * fps))
    first = max(0, loop[0] - margin)
    last = min(n_frames, loop[1] + margin + 1)
    return first, max(0, last - first)


class RenditionWriter:
    """Writes the rendition of the base video while it is read (the training's pass over the base
    frames): give it every decoded frame in order with its index; it keeps those of the span."""

    def __init__(self, path: Path, size: tuple[int, int], fps: int, span: tuple[int, int]) -> None:
        from twinstudio.twins.video import VideoWriter

        self.size = size
        self.first, self.count = span
        self.written = 0
        # The base video's own settings (ultrafast decodes fastest; CRF 17 as the base).
        self._writer = VideoWriter(path, size, fps, preset="ultrafast")

    def add(self, index: int, frame: Any) -> None:
        """Frame ``index`` of the base video (an ``av.VideoFrame``, yuv420p)."""
        if self.first <= index < self.first + self.count:
            w, h = self.size
            small = frame.reformat(width=w, height=h, format="yuv420p", interpolation="AREA")
            self._writer.write(small)
            self.written += 1

    def close(self) -> int:
        self._writer.close()
        return self.written


def shrink_matte(matte: Path, out: Path, size: tuple[int, int], span: tuple[int, int],
                 fps: int) -> int:  # fmt: skip
    """The rendition of a matte: frames ``span`` of ``matte`` at ``size`` (area averaging),
    stored like the full matte. Returns the frames written."""
    import av

    from twinstudio.twins.matte import MATTE_FORMAT, matte_stream

    first, count = span
    w, h = size
    written = 0
    try:
        with av.open(str(matte)) as source, av.open(str(out), "w", format=MATTE_FORMAT) as sink:
            stream = source.streams.video[0]
            stream.thread_type = "AUTO"
            dest = matte_stream(sink, fps, size)
            for index, frame in enumerate(source.decode(stream)):
                if index < first:
                    continue
                if written == count:
                    break
                small = frame.reformat(width=w, height=h, format="gray", interpolation="AREA")
                small.pts = written  # frame k at k / fps: the renderer seeks by time
                small.time_base = Fraction(1, fps)
                for packet in dest.encode(small):
                    sink.mux(packet)
                written += 1
            for packet in dest.encode(None):
                sink.mux(packet)
    except av.FFmpegError as exc:
        out.unlink(missing_ok=True)
        raise RenderError("matte_failed", f"Shrinking the matte failed: {exc}") from exc
    return written
