"""The encoder's audio: speech fed in pieces, resampled to the output rate block by block.

:class:`AudioFeed` is what :class:`render.encode.VideoEncoder` reads its audio from: the render
pipeline feeds each piece of speech as it comes, and the encoder's thread reads the samples that
belong up to each frame's end time, resampled to 48 kHz. Memory stays flat with the video's
length (see the class docstring for how, and what it measured).
"""

from __future__ import annotations

import math
import threading

import numpy as np
from scipy.signal import resample_poly

from twinstudio.errors import RenderError

__all__ = ["AudioFeed"]


class AudioFeed:
    """Audio at ``target`` Hz, fed in pieces at ``rate`` and resampled block by block as it
    arrives; thread-safe (the pipeline feeds, the encoder thread reads).

    Streamed speech arrives sentence group by sentence group, and a 10-minute speech resampled
    at once held ~115 MB more: here blocks of ~1 s are converted when they are read (so a 24 s
    piece is never converted, float64 temporaries and all, in one go: that transient once per
    piece set a long render's peak), each once the input reaches a margin past it (or the feed
    has ended), with that margin on each side, which gives the same samples as one
    ``resample_poly`` call over the whole audio (the filter is far shorter than the margin).
    Consumed input and output are dropped: memory stays flat.

    Fed arrays are kept as they are (not copied into one buffer: that held a piece twice, and
    the last one's rest, at every piece boundary), so a caller must not change one after
    feeding it; what is left of a piece once most of it is converted is copied out, so the
    whole piece is let go.
    """

    def __init__(self, rate: int, target: int) -> None:
        if rate <= 0:
            raise RenderError("invalid_audio", f"Audio sample rate {rate} is not positive.")
        g = math.gcd(int(target), int(rate))
        self._up, self._down = int(target) // g, max(1, int(rate) // g)
        self._same = rate == target
        self._block_in = self._down * max(1, round(rate / self._down))  # ~1 s of input
        self._pad_in = self._down * max(1, math.ceil(0.1 * rate / self._down))
        self._lock = threading.Lock()
        self._src: list[np.ndarray] = []  # input kept, in order: from absolute sample ``_src_at``
        self._src_at = 0
        self._src_end = 0  # input samples fed so far
        self._done_in = 0  # input samples converted so far (a whole number of blocks)
        self._out = np.zeros(0, np.float32)  # converted, not yet read: from ``_out_at`` on
        self._out_at = 0
        self._ended = False

    def feed(self, samples: np.ndarray) -> None:
        """Append mono samples at the feed's rate."""
        mono = np.asarray(samples, dtype=np.float32).reshape(-1)
        with self._lock:
            if self._ended:
                raise RenderError("audio_closed", "Audio fed after the audio track was ended.")
            if mono.size:
                self._src.append(mono)
            self._src_end += mono.size

    def end(self) -> None:
        """No more input: the rest can be converted."""
        with self._lock:
            self._ended = True

    @property
    def available(self) -> int:
        """Output samples (absolute count) that exist so far: those of the input's blocks that
        can be converted (see the class docstring), whether converted yet or not."""
        with self._lock:
            if self._same:
                return self._src_end
            if self._ended:
                return -(-self._src_end * self._up // self._down)
            return self._ready_in() * self._up // self._down  # block ends: multiples of ``down``

    def _ready_in(self) -> int:
        """Input samples (absolute count) whose blocks can be converted: all of them once the
        feed has ended, else the whole blocks with the margin fed past them."""
        if self._ended:
            return self._src_end
        blocks = max(0, (self._src_end - self._pad_in - self._done_in) // self._block_in)
        return self._done_in + blocks * self._block_in

    def _convert(self, until: int) -> None:
        """Convert input blocks until output sample ``until`` exists (or none is left)."""
        if self._same:
            self._out = np.concatenate([self._out, *self._src])
            self._src_at = self._done_in = self._src_end
            self._src = []
            return
        pieces = [self._out]
        have = self._out_at + self._out.size  # output samples that exist, converted
        ready = self._ready_in()
        while have < until and self._done_in < ready:
            s0 = self._done_in
            s1 = min(self._src_end, s0 + self._block_in)
            p0, p1 = max(0, s0 - self._pad_in), min(self._src_end, s1 + self._pad_in)
            res = resample_poly(self._input(p0, p1), self._up, self._down)
            lead = (s0 - p0) * self._up // self._down
            length = -(-(s1 - s0) * self._up // self._down)
            pieces.append(np.asarray(res[lead : lead + length], dtype=np.float32))
            have += pieces[-1].size
            self._done_in = s1
        self._out = np.concatenate(pieces) if len(pieces) > 1 else pieces[0]
        self._drop_input(max(self._src_at, self._done_in - self._pad_in))

    def _input(self, start: int, stop: int) -> np.ndarray:
        """Input samples ``start`` … ``stop - 1`` (absolute; all kept), across fed arrays."""
        parts, at = [], self._src_at
        for chunk in self._src:
            a, b = max(start, at), min(stop, at + chunk.size)
            if a < b:
                parts.append(chunk[a - at : b - at])
            at += chunk.size
        return parts[0] if len(parts) == 1 else np.concatenate(parts or [np.zeros(0, np.float32)])

    def _drop_input(self, keep_from: int) -> None:
        """Let go of the input before absolute sample ``keep_from``."""
        while self._src and self._src_at + self._src[0].size <= keep_from:
            self._src_at += self._src.pop(0).size
        if self._src and keep_from > self._src_at:
            rest = self._src[0][keep_from - self._src_at :]
            base = rest.base if isinstance(rest.base, np.ndarray) else rest  # what it holds
            self._src[0] = rest.copy() if 2 * rest.size < base.size else rest
            self._src_at = keep_from

    def read(self, start: int, stop: int) -> np.ndarray:
        """Converted output samples ``start`` … ``stop - 1`` that exist so far; reads go in
        order (earlier output is dropped once read past)."""
        with self._lock:
            self._convert(stop)
            start = max(start, self._out_at)
            got = self._out[start - self._out_at : max(0, stop - self._out_at)].copy()
            drop = start + got.size - self._out_at
            self._out = self._out[drop:]
            self._out_at += drop
            return got
