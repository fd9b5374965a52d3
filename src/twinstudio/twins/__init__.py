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
    computes the person's alpha matte for background removal. ``transcript``: what the person
    says in the footage (optional); its words are force-aligned to label every frame of the
    mouth bank by phoneme/viseme (without it, phones are recognised, less reliably).
    Raises ``FootageError`` (code + advice) for footage no twin can be made from; on any failure
    ``pack_dir`` is left as it was found (removed when training created it).
    """
    source, pack_dir = Path(source), Path(pack_dir)
    if kind not in ("video", "photo"):
        raise InvalidParameter(f"unknown twin kind {kind!r} (video | photo)", param="kind")
    existed = pack_dir.exists()
    before = set(pack_dir.iterdir()) if existed and pack_dir.is_dir() else set()
    try:
        if kind == "video":
            from twinstudio.twins.train import train_video

            return train_video(source, pack_dir, matting=matting, transcript=transcript,
                               progress=progress)  # fmt: skip
        from twinstudio.twins.photo import train_photo

        return train_photo(source, pack_dir, matting=matting, progress=progress)
    except BaseException:
        _clean_up(pack_dir, existed, before)
        raise


def _clean_up(pack_dir: Path, existed: bool, before: set[Path]) -> None:
    """Remove what a failed training wrote: the folder it made, or the files it added."""
    import shutil

    if not existed:
        shutil.rmtree(pack_dir, ignore_errors=True)
        return
    if pack_dir.is_dir():
        for entry in set(pack_dir.iterdir()) - before:
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
