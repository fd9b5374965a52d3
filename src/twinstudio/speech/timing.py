"""Custom audio timed a piece at a time, in a process of its own, while the frames render.

A recording waits for all of its recognition before its first frame when it is timed whole
(:func:`.audio.load_audio`): 190 s of speech took 27 s to recognise and 13 s to align on one
core. Timed in pieces, a render can start on the first one while the rest are timed, as a script's
sentences are spoken beside its frames. Not in a thread, though: pocketsphinx holds the GIL while
it decodes (a Python loop in another thread ran at 0.6 % of its speed beside it), so it would
stall the render's own thread. :func:`timed_pieces` starts ``python -m twinstudio.speech.timing``
(a plain child process: a Celery prefork worker's processes may not start multiprocessing
children), hands it the audio and the pieces' spans on its stdin, and reads back one JSON line of
phone and word timings per piece as each is done. The child inherits the calling thread's CPU
priority: the render's speech thread runs at the lowest (``twinstudio.cpu``), so the timing takes
the cores' idle time, as the TTS does. Should the child fail, the pieces it did not time are timed
here instead (slower, never lost). That 190 s recording rendered at 1080p (2026-12-05): first
progress 35.6 → 6.5 s, the whole render 95.4 → 75.3 s; the child's peak memory, held beside the
render's, was 308 MB (pocketsphinx's decoders, one piece's at a time, and the recording). Its
decoders that only align or follow a grammar no longer load the word language model
(``audio.sphinx_decoder``): a 191 s recording in 12 pieces, peak 345 → 264 MB and 15.1 → 12.1
CPU s with its transcript, 327 → 312 MB without (CPU within noise: its recognition still needs
the model).

A recording with a transcript is timed in pieces too (:class:`PieceTimer`): each piece takes the
transcript's next words that it speaks, found by decoding it against a grammar of the words
that follow (``audio.spoken_prefix``), and is aligned to them. Until 2026-12-05 such a recording
was aligned whole before its first frame: the same 190 s with its script, at 1080p, first
progress 14.1-14.3 → 4.8 s, the whole render 69.0-70.1 → 61.0-62.1 s, the same 624 words timed
within 4 ms of the whole alignment (median; 65 ms at most).
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING

import numpy as np

from twinstudio.speech.types import Speech

if TYPE_CHECKING:
    from twinstudio.speech.timeline import Track

_LOGGER = logging.getLogger(__name__)

Span = tuple[int, int]


def timed_pieces(
    audio: np.ndarray, regions: list[Span], spans: list[Span], transcript: str | None = None
) -> Iterator[Speech]:
    """The pieces ``spans`` of ``audio`` (22050 Hz mono float32), each a :class:`Speech` timed
    from its own start, in order; ``regions``: the voice detector's spans over all of it;
    ``transcript``: what the whole recording says, shared out to the pieces as they are timed
    (:class:`PieceTimer`)."""
    from twinstudio.speech.audio import SAMPLE_RATE
    from twinstudio.speech.timeline import Track

    proc: subprocess.Popen[bytes] | None = None
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "twinstudio.speech.timing"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        _send(proc.stdin, audio, regions, spans, transcript)
    except OSError as exc:
        _LOGGER.warning("could not start the audio timing process (%s); timing here", exc)
    here: PieceTimer | None = None  # made only if the child fails
    consumed = 0  # transcript words the child's pieces took
    try:
        for i, (a, b) in enumerate(spans):
            line = proc.stdout.readline() if proc is not None and proc.stdout else b""
            if line:
                got = json.loads(line)
                phonemes = [(str(s), int(n)) for s, n in got["phonemes"]]
                words = [(str(w), int(s), int(e)) for w, s, e in got["words"]]
                consumed += int(got.get("consumed", 0))
                yield Track(audio[a:b], SAMPLE_RATE, phonemes, words).to_speech()
                continue
            if proc is not None:
                _LOGGER.warning("the audio timing process stopped (exit %s); timing here",
                                proc.poll())  # fmt: skip
                _stopped(proc)
                proc = None
            if here is None:
                here = PieceTimer(transcript, skip=consumed, voiced=_voiced(regions, a))
            track, _ = here.time(audio[a:b], _inside(regions, a, b), last=i == len(spans) - 1)
            yield track.to_speech()
    finally:
        if proc is not None:
            _stopped(proc)


class PieceTimer:
    """Times the pieces of one recording in order. Without a transcript each piece is recognised
    and aligned on its own; with one, each piece is given the transcript's next words that it
    speaks (``audio.spoken_prefix``, searched among the next ``WORDS_PER_S`` a second of it,
    plus ``SPARE_WORDS``) and aligned to them, and the last piece takes all that are left."""

    WORDS_PER_S = 5.0  # faster than people read aloud (~2.5-3.5 words a second)
    SPARE_WORDS = 20

    def __init__(self, transcript: str | None, skip: int = 0, voiced: int = 0) -> None:
        from twinstudio.speech.audio import alignable_words
        from twinstudio.speech.text import words_of

        self.words = alignable_words(transcript) if transcript else None
        # A transcript the recogniser cannot align (``audio.TRANSCRIPT_MIN_KNOWN``): the pieces
        # are recognised, and its words shared out by their voice (``voiced``: the samples of
        # voice in the pieces still to come) and spread over it, for captions.
        self.spread = words_of(transcript) if transcript and self.words is None else None
        self.voiced_left = voiced
        self.next = skip  # the first word not yet given to a piece

    def time(self, audio: np.ndarray, regions: list[Span], *, last: bool) -> tuple[Track, int]:
        """One piece's timings (``regions``: the voice's spans within it) and how many of the
        transcript's words it took."""
        from twinstudio.speech.audio import SAMPLE_RATE, align_given, spoken_prefix, spread_words

        if self.spread is not None:
            track = time_piece(audio, regions)
            voiced = sum(e - s for s, e in regions)
            left = len(self.spread) - self.next
            take = left if last else min(left, round(left * voiced / max(self.voiced_left, 1)))
            track.words = spread_words(self.spread[self.next : self.next + take], regions,
                                       len(audio))  # fmt: skip
            self.voiced_left -= voiced
            self.next += take
            return track, take
        if self.words is None:
            return time_piece(audio, regions), 0
        todo = self.words[self.next :]
        if not last:
            ahead = round(len(audio) / SAMPLE_RATE * self.WORDS_PER_S) + self.SPARE_WORDS
            todo = todo[: spoken_prefix(audio, [w for w, _ in todo[:ahead]])]
        self.next += len(todo)
        return align_given(audio, todo, regions), len(todo)


def time_piece(audio: np.ndarray, regions: list[Span]) -> Track:
    """One piece's timings without a transcript (``regions``: the voice's spans within it)."""
    from twinstudio.speech.audio import _timed

    return _timed(audio, None, regions)


def _voiced(regions: list[Span], a: int) -> int:
    """Samples of voice in ``regions`` from sample ``a`` on."""
    return sum(max(0, e - max(s, a)) for s, e in regions)


def _inside(regions: list[Span], a: int, b: int) -> list[Span]:
    return [(max(s, a) - a, min(e, b) - a) for s, e in regions if e > a and s < b]


def _send(
    pipe: IO[bytes] | None,
    audio: np.ndarray,
    regions: list[Span],
    spans: list[Span],
    transcript: str | None,
) -> None:
    """The job, on the child's stdin: one JSON line (samples, regions, spans, transcript), then
    the audio."""
    assert pipe is not None
    head = {"samples": len(audio), "regions": regions, "spans": spans, "transcript": transcript}
    try:
        pipe.write(json.dumps(head).encode() + b"\n")
        pipe.write(np.ascontiguousarray(audio, np.float32).tobytes())
        pipe.close()
    except BrokenPipeError:  # the child died at once: its pieces are timed here
        pass


def _stopped(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    if proc.stdout:
        proc.stdout.close()


def main() -> int:
    """The child: read the job from stdin, print one JSON line per piece as it is timed."""
    head = json.loads(sys.stdin.buffer.readline())
    n = int(head["samples"])
    audio = np.frombuffer(sys.stdin.buffer.read(4 * n), np.float32)
    if len(audio) != n:
        return 2
    regions = [(int(s), int(e)) for s, e in head["regions"]]
    spans = head["spans"]
    timer = PieceTimer(head.get("transcript"), voiced=_voiced(regions, 0))
    for i, (a, b) in enumerate(spans):
        track, consumed = timer.time(audio[a:b], _inside(regions, a, b), last=i == len(spans) - 1)
        line = {"phonemes": track.phonemes, "words": track.words, "consumed": consumed}
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
