"""The clean plate: the backdrop as filmed, without the person, and how far it can be trusted.

Why: at the person's outline the camera mixes person and backdrop over a few pixels, and the
matte gives those pixels an alpha between 0 and 1. Blended over a new background as they are
(``α I + (1 − α) N``), such a pixel keeps its share of the *old* backdrop too, ``α (1 − α_true) B``:
a thin line of the old wall round hair, ears and shoulders (lavender round the blazer twin's face
on yellow). Knowing the backdrop ``B`` behind the pixel, the renderer takes it out
(``render.backdrop``): the person's own colour is ``F = (I − (1 − α) B) / α``, and
``α F + (1 − α) N`` is what a camera would have filmed in front of the new background. Measured
on real clips laid over known walls (``benchmarks/matte.py``).

How: training mattes every frame of the footage (``twins.matte``); each frame's pixels that are
surely background (``twins.matte.sure_background``, as its edge key takes them) add their colour to a running mean and mean square at
``PLATE_SIZE`` (long side; a wall is smooth, and a smaller plate averages away the encoder's
noise), counting only blocks that are wholly background. At the end:

- the mean is the plate; places seen in fewer than ``MIN_SEEN`` of the frames (always behind the
  person: round a shoulder that never moves, most of the pixels the outline crosses) are filled
  in from the seen places around them (``cv2.inpaint``, Telea);
- the *trust* (0..255) falls with the colour's spread over the frames (``STEADY``..``UNSTEADY``
  levels): a camera that moves, an exposure that drifts, a screen or a window behind the person
  make a plate the frame does not match, and there the renderer leaves the pixel alone. Filled
  places take the trust of the places they were filled from.

Stored as ``backdrop.png`` in the pack (RGBA: the plate and its trust), a few hundred kilobytes.
Packs without one render as before.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from twinstudio.twins.matte import sure_background

__all__ = ["MIN_SEEN", "PLATE_SIZE", "PlateBuilder", "read_plate", "write_plate"]

PLATE_SIZE = 480  # long side of the stored plate
WHOLE = 0.98  # a plate block counts when this share of its pixels is background
MIN_SEEN = 0.05  # share of the frames a place must be seen in (at least one frame)
STEADY = 3.0  # colour spread (levels, the largest channel's standard deviation) trusted whole
UNSTEADY = 9.0  # ... and not at all


class PlateBuilder:
    """Running mean and spread of the backdrop, fed one matted frame at a time (:meth:`add`);
    :meth:`plate` gives the result. ``size``: the frames' (width, height)."""

    def __init__(self, size: tuple[int, int]) -> None:
        width, height = size
        scale = min(1.0, PLATE_SIZE / max(width, height))
        self.small = (max(1, round(width * scale)), max(1, round(height * scale)))
        shape = (self.small[1], self.small[0])
        self._sum = np.zeros((*shape, 3), np.float64)
        self._sq = np.zeros((*shape, 3), np.float64)
        self._seen = np.zeros(shape, np.float64)
        self.frames = 0

    def add(self, rgb: np.ndarray, alpha: np.ndarray) -> None:
        """One frame (uint8 (H, W, 3)) and its matte (uint8 (H, W))."""
        sure = sure_background(alpha)
        share = cv2.resize(sure, self.small, interpolation=cv2.INTER_AREA).astype(np.float32)
        whole = share >= 255 * WHOLE
        colour = cv2.resize(cv2.copyTo(rgb, sure), self.small, interpolation=cv2.INTER_AREA)
        colour = colour.astype(np.float64) * (255.0 / np.maximum(share, 1.0))[..., None]
        colour[~whole] = 0.0
        self._sum += colour
        self._sq += colour * colour
        self._seen += whole
        self.frames += 1

    def plate(self) -> np.ndarray | None:
        """The plate and its trust, uint8 (h, w, 4) RGBA at ``small``; None when no place was
        seen often enough (the person fills the frame, or nothing was added)."""
        if self.frames == 0:
            return None
        seen = self._seen >= max(1.0, MIN_SEEN * self.frames)
        if not seen.any():
            return None
        count = np.maximum(self._seen, 1.0)[..., None]
        mean = self._sum / count
        spread = np.sqrt(np.maximum(self._sq / count - mean * mean, 0.0)).max(axis=2)
        trust = np.clip((UNSTEADY - spread) / (UNSTEADY - STEADY), 0.0, 1.0) * 255
        plate = np.dstack([np.clip(mean, 0, 255), trust]).round().astype(np.uint8)
        holes = (~seen).astype(np.uint8)
        if holes.any():
            radius = max(3, round(0.05 * max(self.small)))
            plate[..., :3] = cv2.inpaint(plate[..., :3], holes, radius, cv2.INPAINT_TELEA)
            plate[..., 3] = cv2.inpaint(plate[..., 3], holes, radius, cv2.INPAINT_TELEA)
        return plate

    def save(self, path: Path) -> bool:
        """Write :meth:`plate` to ``path`` (:func:`write_plate`) when there is one; says so."""
        found = self.plate()
        if found is not None:
            write_plate(path, found)
        return found is not None


def write_plate(path: Path, plate: np.ndarray) -> None:
    """Store a plate (uint8 (h, w, 4) RGBA) as PNG."""
    ok, data = cv2.imencode(".png", cv2.cvtColor(plate, cv2.COLOR_RGBA2BGRA))
    if not ok:  # pragma: no cover - PNG encoding of a uint8 image does not fail
        raise ValueError("could not encode the backdrop plate")
    Path(path).write_bytes(data.tobytes())


def read_plate(path: Path) -> np.ndarray | None:
    """A stored plate (uint8 (h, w, 4) RGBA), or None when the file is missing or unreadable
    (the renderer then leaves the matte's edge as it is)."""
    try:
        data = np.frombuffer(Path(path).read_bytes(), np.uint8)
    except OSError:
        return None
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if image is None or image.ndim != 3 or image.shape[2] != 4:
        return None
    return cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA)
