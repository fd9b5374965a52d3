"""Frames for the renderer's tests, and reading back what it wrote."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np


def moving_square(
    n: int, size: tuple[int, int] = (256, 144), channels: int = 3
) -> Iterator[np.ndarray]:
    """``n`` frames (RGB, or RGBA with ``channels=4``) of a yellow square moving across a dark
    red field, 6 px a frame; with alpha, only the square is opaque."""
    width, height = size
    for i in range(n):
        frame = np.zeros((height, width, channels), np.uint8)
        frame[:, :, 0] = 40
        x = (i * 6) % (width - 40)
        frame[40:100, x : x + 40, :3] = (230, 200, 30)
        if channels == 4:
            frame[40:100, x : x + 40, 3] = 255
        yield frame


def webm_rgba(path: Path) -> list[np.ndarray]:
    """Every frame of a VP9 WebM as RGBA uint8, its alpha included: decoded by libvpx itself,
    which reads the alpha that the WebM carries beside each frame (FFmpeg's own VP9 decoder
    drops it)."""
    import av

    decoder = av.CodecContext.create("libvpx-vp9", "r")
    with av.open(str(path)) as container:
        packets = container.demux(container.streams.video[0])
        return [f.to_ndarray(format="rgba") for p in packets if p.size for f in decoder.decode(p)]
