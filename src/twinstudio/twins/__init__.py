"""Twins: footage (or a photo) in, a twin pack out.

``train_twin`` is the one entry point; the heavy modules (MediaPipe, OpenCV, PyAV) are imported
only when it runs, so importing this package stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from twinstudio.errors import InvalidParameter
from twinstudio.twins.types import TwinInfo

__all__ = ["TwinInfo", "train_twin"]


def train_twin(
    source: Path,
    pack_dir: Path,
    *,
    kind: str = "video",
    matting: bool = False,
    transcript: str | None = None,
    progress: Callable[[float], None] | None = None,
) -> TwinInfo:
    """Train a twin from ``source`` into the folder ``pack_dir`` and describe it.

    ``kind="video"``: talking-to-camera footage (5 s to 10 min); ``kind="photo"``: one still
    portrait (lower quality: the mouth is synthesised, not taken from footage). ``matting`` also
    computes the person's alpha matte for background removal. ``transcript`` is accepted for the
    API's sake and not needed: mouth shapes are learnt from the pictures themselves.
    Raises ``FootageError`` (code + advice) for footage no twin can be made from.
    """
    del transcript  # reserved: a future aligner could label the bank by phoneme
    source, pack_dir = Path(source), Path(pack_dir)
    if kind == "video":
        from twinstudio.twins.train import train_video

        return train_video(source, pack_dir, matting=matting, progress=progress)
    if kind == "photo":
        from twinstudio.twins.photo import train_photo

        return train_photo(source, pack_dir, matting=matting, progress=progress)
    raise InvalidParameter(f"unknown twin kind {kind!r} (video | photo)", param="kind")
