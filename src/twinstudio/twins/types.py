"""What training returns: ``TwinInfo`` (plain data, JSON-friendly apart from paths)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def orientation_of(width: int, height: int) -> str:
    """ "portrait", "landscape" or "square" (within 2 %)."""
    if abs(width - height) <= 0.02 * max(width, height):
        return "square"
    return "portrait" if height > width else "landscape"


@dataclass(frozen=True)
class TwinInfo:
    """A trained twin, as the services store it on the look's row."""

    width: int
    height: int
    fps: int
    duration_s: float
    n_frames: int
    orientation: str  # portrait | landscape | square
    face_box: tuple[int, int, int, int]  # x0, y0, x1, y1 in pack pixels
    preview_image: Path
    preview_video: Path | None
    matting: bool
    quality: dict[str, Any] = field(default_factory=dict)
    kind: str = "video"  # video | photo
