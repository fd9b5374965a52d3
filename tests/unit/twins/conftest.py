"""Helpers for twin tests: tiny media generated with PyAV in a temp folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np

FOOTAGE = Path(__file__).resolve().parents[4] / "shared" / "footage"
if not FOOTAGE.is_dir():
    FOOTAGE = Path("/work/shared/footage")


def write_clip(path: Path, seconds: float, fps: int = 25, size: tuple[int, int] = (160, 120),
               colour: tuple[int, int, int] = (180, 170, 160)) -> Path:  # fmt: skip
    """A small H.264 clip of a flat wall with a little noise (no face)."""
    import av

    rng = np.random.default_rng(0)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for _ in range(round(seconds * fps)):
            img = np.full((size[1], size[0], 3), colour, np.uint8)
            img = np.clip(img + rng.integers(-3, 4, img.shape), 0, 255).astype(np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path
