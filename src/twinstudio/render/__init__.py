"""Rendering: a twin pack and speech in, a finished video out.

``render_video`` is the entry point; heavy modules (OpenCV, PyAV, MediaPipe) load only when it
runs, so importing this package is cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from twinstudio.render.types import RenderOptions, RenderResult

if TYPE_CHECKING:
    from twinstudio.speech.types import Speech

__all__ = ["RenderOptions", "RenderResult", "render_video"]


def render_video(
    pack_dir: Path,
    speech: Speech | Iterable[Speech],
    options: RenderOptions,
    workdir: Path,
    progress: Callable[[float], None] | None = None,
    *,
    text_length: int | None = None,
    duration_s: float | None = None,
) -> RenderResult:
    """Render ``speech`` (whole, or streamed pieces) with the twin in ``pack_dir``; see
    ``render.pipeline.render_video``."""
    from twinstudio.render.pipeline import render_video as _render

    return _render(pack_dir, speech, options, workdir, progress, text_length=text_length,
                   duration_s=duration_s)  # fmt: skip
