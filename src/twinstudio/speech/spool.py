"""Speech pieces kept on disk between synthesis and rendering.

A streamed script's pieces (``synthesize_stream``'s sentence groups) are written into a job's
folder as they are made and read back one at a time, in order, each file deleted once read. So
the speech can run ahead of the frames by any length without being held in memory: a 10-minute
script is ~53 MB of float32 audio on disk, one piece in memory.

The renderer has them made *while* it draws frames (``render.pipeline``): :meth:`SpeechSpool.fill`
runs the synthesis in a thread at the background CPU priority (``twinstudio.cpu``), and iterating
waits for each piece that is not made yet. A piece is written whole before it can be read.

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
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from twinstudio.cpu import background_thread_priority
from twinstudio.speech.types import Speech, Timing

WORDS = "words.jsonl"


def _timings(rows: list[list[Any]]) -> list[Timing]:
    """Timings from their JSON rows ``[symbol, start_ms, end_ms]``."""
    return [Timing(str(s), int(a), int(b)) for s, a, b in rows]


class SpeechSpool:
    """Pieces of one timeline on disk: :meth:`add` them in order (or have :meth:`fill` add them
    in a background thread), and iterate once."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0
        self.samples = 0  # audio samples of every piece added
        self.sample_rate = 0  # the first piece's rate (0 while empty)
        self.chars = 0  # characters of the pieces' text, with a space between two pieces
        self._changed = threading.Condition()
        self._filling = False  # a fill thread may still add pieces
        self._stop = False  # the fill thread is asked to stop after its current piece
        self._error: BaseException | None = None  # what ended the fill thread, if not the end
        self._thread: threading.Thread | None = None

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
        rate = self.sample_rate or piece.sample_rate
        at = round(self.samples / rate * 1000)  # this piece's start in the timeline
        with (self.folder / WORDS).open("a", encoding="utf-8") as f:
            f.write(json.dumps([[w.symbol, w.start_ms + at, w.end_ms + at] for w in piece.words]))
            f.write("\n")
        with self._changed:  # the piece is whole on disk: a reader may take it now
            self.sample_rate = rate
            self.chars += len(piece.text) + (1 if self.count else 0)
            self.count += 1
            self.samples += audio.size
            self._changed.notify_all()

    def fill(self, pieces: Iterable[Speech]) -> None:
        """Start adding ``pieces`` in order, in a thread named ``speech`` at the background CPU
        priority. Iterating then waits for pieces not made yet; an error raised while making
        one is raised by the iteration once the pieces before it are read (and by
        :meth:`wait_for_first`). :meth:`remove` stops the thread."""
        self._filling = True
        self._thread = threading.Thread(target=self._fill, args=(pieces,), name="speech",
                                        daemon=True)  # fmt: skip
        self._thread.start()

    def _fill(self, pieces: Iterable[Speech]) -> None:
        background_thread_priority()
        error: BaseException | None = None
        source = iter(pieces)
        try:
            for piece in source:
                self.add(piece)
                del piece
                if self._stop:
                    break
        except BaseException as e:  # handed to the reader
            error = e
        finally:
            close = getattr(source, "close", None)
            if close is not None:  # a generator left early cleans up here, in its own thread
                try:
                    close()
                except Exception as e:
                    error = error or e
            with self._changed:
                self._error, self._filling = error, False
                self._changed.notify_all()

    @property
    def done(self) -> bool:
        """True once every piece is in (no fill running, or its thread has ended)."""
        return not self._filling

    def wait_for_first(self) -> None:
        """Block until the first piece is in, or the fill has ended without one (then raise
        what ended it, if anything)."""
        with self._changed:
            while self.count == 0 and self._filling:
                self._changed.wait()
            if self.count == 0 and self._error is not None:
                raise self._error

    def __iter__(self) -> Iterator[Speech]:
        """The pieces in order, each one's files deleted as it is read, waiting for those a fill
        has not made yet. The iterator keeps no reference to a piece it has given (the renderer
        lets each go before its frames)."""
        k = 0
        while True:
            with self._changed:
                while k >= self.count and self._filling:
                    self._changed.wait()
                if k >= self.count:
                    if self._error is not None:
                        raise self._error
                    return
            yield self._read(k)
            k += 1

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
        """Stop a fill (after the piece it is making), then delete the folder and whatever is
        left in it."""
        self._stop = True
        if self._thread is not None:
            self._thread.join()
        shutil.rmtree(self.folder, ignore_errors=True)
