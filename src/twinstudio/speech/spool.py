"""Speech pieces kept on disk between synthesis and rendering.

A streamed script's pieces (``synthesize_stream``'s sentence groups) are written into a job's
folder as they are made and read back one at a time, in order, each file deleted once read. So a
render can have *all* of its speech before its first frame, without holding it in memory: a
10-minute script is ~53 MB of float32 audio on disk, one piece in memory.

Why the renderer wants all of it first (``render.pipeline``): a TTS decoder's temporaries
(+50–90 MB while a Piper window decodes) then never coincide with the render's own steady-state
buffers, so a long video's peak memory is the same as a short one's.

Files per piece: ``NNNNN.f32`` (the audio, float32 mono) and ``NNNNN.json`` (rate, text and
timings). ``words.jsonl`` has every piece's words in the whole timeline's time, one line per piece,
for :meth:`SpeechSpool.words` once the render is done: so the render does not build a list that
grows with the video while it runs (a 10-minute script's ~1,600 timed words, each a few small
Python objects made between two frames, pinned a megabyte or two of the interpreter's memory).
Nothing but this module reads these files.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from twinstudio.speech.types import Speech, Timing

WORDS = "words.jsonl"


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
        at = round(self.samples / self.sample_rate * 1000)  # this piece's start in the timeline
        with (self.folder / WORDS).open("a", encoding="utf-8") as f:
            f.write(json.dumps([[w.symbol, w.start_ms + at, w.end_ms + at] for w in piece.words]))
            f.write("\n")
        self.count += 1
        self.samples += audio.size

    def __iter__(self) -> Iterator[Speech]:
        """The pieces in order, each one's files deleted as it is read. The iterator keeps no
        reference to a piece it has given (the renderer lets each go before its frames)."""
        for k in range(self.count):
            yield self._read(k)

    def _read(self, k: int) -> Speech:
        stem = self.folder / f"{k:05d}"
        meta = json.loads(stem.with_suffix(".json").read_text(encoding="utf-8"))
        audio = np.fromfile(stem.with_suffix(".f32"), dtype=np.float32)
        stem.with_suffix(".json").unlink()
        stem.with_suffix(".f32").unlink()
        return Speech(
            audio,
            int(meta["sample_rate"]),
            _timings(meta["phonemes"]),
            _timings(meta["words"]),
            str(meta["text"]),
        )

    def words(self) -> list[Timing]:
        """Every piece's words, in the whole timeline's time (a piece starts where the audio of
        the ones before it ends, at the first piece's rate); readable before, during and after
        the iteration, until :meth:`remove`."""
        path = self.folder / WORDS
        if not path.exists():
            return []
        with path.open(encoding="utf-8") as f:
            return [w for line in f for w in _timings(json.loads(line))]

    def remove(self) -> None:
        """Delete the folder and whatever is left in it."""
        shutil.rmtree(self.folder, ignore_errors=True)
