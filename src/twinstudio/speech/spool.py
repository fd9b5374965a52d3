"""Speech pieces kept on disk between synthesis and rendering.

A streamed script's pieces (``synthesize_stream``'s sentence groups) are written into a job's
folder as they are made and read back one at a time, in order, each file deleted once read. So a
render can have *all* of its speech before its first frame, without holding it in memory: a
10-minute script is ~53 MB of float32 audio on disk, one piece in memory.

Why the renderer wants all of it first (``render.pipeline``): a TTS decoder's temporaries
(+50–90 MB while a Piper window decodes) then never coincide with the render's own steady-state
buffers, so a long video's peak memory is the same as a short one's.

Files per piece: ``NNNNN.f32`` (the audio, float32 mono) and ``NNNNN.json`` (rate, text and
timings). Nothing but this module reads them.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from twinstudio.speech.types import Speech, Timing


def _timings(rows: list[list[Any]]) -> list[Timing]:
    """Timings from their JSON rows ``[symbol, start_ms, end_ms]``."""
    return [Timing(str(s), int(a), int(b)) for s, a, b in rows]


class SpeechSpool:
    """Pieces of one timeline on disk: :meth:`add` them in order, then iterate once."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0
        self.samples = 0  # audio samples of every piece added
        self.sample_rate = 0  # the first piece's rate (0 while empty)

    def add(self, piece: Speech) -> None:
        """Write ``piece`` after the ones already added."""
        audio = np.ascontiguousarray(piece.audio, dtype=np.float32).reshape(-1)
        stem = self.folder / f"{self.count:05d}"
        audio.tofile(stem.with_suffix(".f32"))
        meta = {
            "sample_rate": piece.sample_rate,
            "text": piece.text,
            "phonemes": [[t.symbol, t.start_ms, t.end_ms] for t in piece.phonemes],
            "words": [[t.symbol, t.start_ms, t.end_ms] for t in piece.words],
        }
        stem.with_suffix(".json").write_text(json.dumps(meta), encoding="utf-8")
        if self.count == 0:
            self.sample_rate = piece.sample_rate
        self.count += 1
        self.samples += audio.size

    def __iter__(self) -> Iterator[Speech]:
        """The pieces in order, each one's files deleted as it is read."""
        for k in range(self.count):
            stem = self.folder / f"{k:05d}"
            meta = json.loads(stem.with_suffix(".json").read_text(encoding="utf-8"))
            audio = np.fromfile(stem.with_suffix(".f32"), dtype=np.float32)
            stem.with_suffix(".json").unlink()
            stem.with_suffix(".f32").unlink()
            yield Speech(
                audio,
                int(meta["sample_rate"]),
                _timings(meta["phonemes"]),
                _timings(meta["words"]),
                str(meta["text"]),
            )

    def remove(self) -> None:
        """Delete the folder and whatever is left in it."""
        shutil.rmtree(self.folder, ignore_errors=True)
