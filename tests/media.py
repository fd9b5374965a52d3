"""Reading back what the renderer wrote, for tests' assertions."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def webm_rgba(path: Path) -> list[np.ndarray]:
    """Every frame of a VP9 WebM as RGBA uint8, its alpha included: decoded by libvpx itself,
    which reads the alpha that the WebM carries beside each frame (FFmpeg's own VP9 decoder
    drops it)."""
    import av

    decoder = av.CodecContext.create("libvpx-vp9", "r")
    with av.open(str(path)) as container:
        packets = container.demux(container.streams.video[0])
        return [f.to_ndarray(format="rgba") for p in packets if p.size for f in decoder.decode(p)]
