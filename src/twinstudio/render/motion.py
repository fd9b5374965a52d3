"""Motion: phoneme timings → one mouth-shape target per output frame.

Each phoneme maps to a *viseme*: a normalised opening (0 closed … 1 the person's widest), a
width (-1 rounded/pursed … 0 rest … +1 spread) and a *dominance* (how strongly it imposes itself on
its neighbours). Coarticulation follows Cohen & Massaro (1993): at time t the target is the
dominance-weighted mean of all nearby visemes, each dominance decaying exponentially away from its
phoneme; so a /t/ between two vowels takes their shape, while /p b m/ pull everything to closed.
Hard constraints are then reapplied after smoothing: lips *touch* during every /p b m/ (at least
one frame, even for a 30 ms /b/), teeth on lip for /f v/. Silences relax to the rest shape once
they last more than a moment (``""`` phonemes, including SSML ``<break>`` pauses).

Targets are finally mapped into the person's own descriptor space (``open``, ``width``, ``jaw`` in
IOD units, from the pack's percentile ranges), so that "1" means *their* widest opening.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from twinstudio.speech.types import Timing

# (open, width, dominance)
REST = (0.0, 0.0, 1.0)
_CONSONANTS: dict[str, tuple[float, float, float]] = {
    "p": (0.0, 0.0, 2.0), "b": (0.0, 0.0, 2.0), "m": (0.0, 0.0, 2.0),
    "f": (0.06, 0.15, 1.6), "v": (0.06, 0.15, 1.6),
    "θ": (0.18, 0.15, 1.5), "ð": (0.18, 0.15, 1.2),
    "t": (0.22, 0.15, 0.5), "d": (0.22, 0.15, 0.5), "n": (0.2, 0.1, 0.5),
    "l": (0.3, 0.1, 0.5), "ɾ": (0.25, 0.1, 0.4), "ʔ": (0.2, 0.0, 0.3),
    "s": (0.1, 0.35, 1.5), "z": (0.1, 0.35, 1.5),
    "ʃ": (0.18, -0.55, 2.0), "ʒ": (0.18, -0.55, 2.0), "tʃ": (0.18, -0.55, 2.0),
    "dʒ": (0.18, -0.55, 2.0),
    "k": (0.3, 0.0, 0.4), "ɡ": (0.3, 0.0, 0.4), "g": (0.3, 0.0, 0.4), "ŋ": (0.25, 0.0, 0.4),
    "x": (0.3, 0.0, 0.4), "h": (0.35, 0.0, 0.2),
    "ɹ": (0.2, -0.5, 1.2), "r": (0.2, -0.5, 1.2), "w": (0.1, -1.0, 1.6),
    "j": (0.15, 0.4, 0.8),
}  # fmt: skip
_VOWELS: dict[str, tuple[float, float, float]] = {
    "i": (0.22, 0.7, 1.0), "ɪ": (0.35, 0.5, 1.0), "ᵻ": (0.33, 0.4, 1.0), "y": (0.2, -0.8, 1.2),
    "e": (0.45, 0.5, 1.0), "ɛ": (0.55, 0.4, 1.0), "æ": (0.8, 0.5, 1.0),
    "a": (0.9, 0.3, 1.0), "ɑ": (0.95, 0.1, 1.0), "ɒ": (0.8, -0.4, 1.0), "ʌ": (0.6, 0.1, 1.0),
    "ə": (0.4, 0.0, 0.7), "ɐ": (0.45, 0.0, 0.7), "ɜ": (0.4, -0.3, 0.8), "ɚ": (0.35, -0.4, 0.8),
    "ɔ": (0.7, -0.6, 1.1), "o": (0.5, -0.8, 1.2), "ʊ": (0.35, -0.7, 1.1), "u": (0.28, -1.0, 1.4),
}  # fmt: skip
CLOSED = frozenset({"p", "b", "m"})
LABIODENTAL = frozenset({"f", "v"})
DECAY_S = 0.045  # dominance falls to 1/e this far outside its phoneme
SILENCE_REST_S = 0.12  # a pause longer than this lets the mouth close fully


def viseme(symbol: str) -> tuple[float, float, float]:
    """(open, width, dominance) of one IPA phoneme; unknown symbols get a neutral mid shape."""
    s = symbol.replace("ː", "").replace("ˑ", "").strip()
    if not s:
        return REST
    if s in _CONSONANTS:
        return _CONSONANTS[s]
    if s in _VOWELS:
        return _VOWELS[s]
    # Diphthongs and clusters: the first vowel dominates the shape, the second tints it.
    parts = [_VOWELS.get(c) or _CONSONANTS.get(c) for c in s]
    known = [p for p in parts if p is not None]
    if not known:
        return (0.35, 0.0, 0.6)
    first = known[0]
    if len(known) == 1:
        return first
    second = known[1]
    return (0.7 * first[0] + 0.3 * second[0], 0.7 * first[1] + 0.3 * second[1], first[2])


@dataclass(frozen=True)
class MouthTrack:
    """Per-frame targets. ``norm``: (T, 2) normalised open/width; ``desc``: (T, 3) open, width,
    jaw in the person's IOD units; ``closed``: frames where lips must touch; ``speaking``."""

    norm: np.ndarray
    desc: np.ndarray
    closed: np.ndarray
    speaking: np.ndarray

    def __len__(self) -> int:
        return len(self.norm)


def n_output_frames(duration_s: float, fps: float) -> int:
    return max(1, round(duration_s * fps))


def _phoneme_arrays(phonemes: Sequence[Timing]) -> tuple[np.ndarray, ...]:
    starts = np.array([p.start_ms for p in phonemes], np.float64) / 1000
    ends = np.array([p.end_ms for p in phonemes], np.float64) / 1000
    vis = np.array([viseme(p.symbol) for p in phonemes], np.float64).reshape(-1, 3)
    silent = np.array([not p.symbol.strip() for p in phonemes], bool)
    # Long silences dominate more (the mouth must settle); short ones barely (a breath).
    dur = ends - starts
    vis[silent, 2] = np.where(dur[silent] > SILENCE_REST_S, 2.0, 0.4)
    return starts, ends, vis, silent


def normalised_track(
    phonemes: Sequence[Timing], n_frames: int, fps: float, expressiveness: float = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(T, 2) open/width in viseme units, plus closed and speaking masks."""
    norm = np.zeros((n_frames, 2), np.float64)
    closed = np.zeros(n_frames, bool)
    speaking = np.zeros(n_frames, bool)
    if not phonemes or n_frames == 0:
        return norm.astype(np.float32), closed, speaking
    starts, ends, vis, silent = _phoneme_arrays(phonemes)
    sub = 4  # supersample 4x per frame then average: short phonemes are not aliased away
    chunk = 256  # frames per block: memory stays flat however long the speech
    for f0 in range(0, n_frames, chunk):
        f1 = min(n_frames, f0 + chunk)
        t = (np.arange(f0 * sub, f1 * sub) + 0.5) / (fps * sub)
        near = np.flatnonzero((ends > t[0] - 12 * DECAY_S) & (starts < t[-1] + 12 * DECAY_S))
        if len(near) == 0:
            continue
        before = np.clip(starts[near][None, :] - t[:, None], 0, None)
        after = np.clip(t[:, None] - ends[near][None, :], 0, None)
        dist = before + after  # 0 inside the phoneme
        dom = vis[near][None, :, 2] * np.exp(-dist / DECAY_S)
        w = dom / np.maximum(dom.sum(axis=1, keepdims=True), 1e-12)
        norm[f0:f1] = (w @ vis[near][:, :2]).reshape(f1 - f0, sub, 2).mean(axis=1)
        inside = (dist == 0).reshape(f1 - f0, sub, -1).any(axis=1)
        speaking[f0:f1] = inside[:, ~silent[near]].any(axis=1)
    norm = _smooth(norm, sigma_frames=0.8 * fps / 30)
    norm[:, 0] *= expressiveness
    norm[:, 1] *= min(1.5, 0.5 + 0.5 * expressiveness)
    # Hard constraints after smoothing: lips meet on p/b/m, rest on f/v.
    symbols = [p.symbol.replace("ː", "") for p in phonemes]
    centres = (starts + ends) / 2
    for k, s in enumerate(symbols):
        if s in CLOSED or s in LABIODENTAL:
            lo = int(np.floor(starts[k] * fps + 0.25))
            hi = int(np.ceil(ends[k] * fps - 0.25))
            frames = range(max(0, lo), min(n_frames, max(hi, lo + 1)))
            if len(frames) == 0:
                c = min(n_frames - 1, int(centres[k] * fps))
                frames = range(c, c + 1)
            for f in frames:
                if s in CLOSED:
                    norm[f, 0] = 0.0
                    closed[f] = True
                else:
                    norm[f, 0] = min(norm[f, 0], 0.08)
    norm[:, 0] = np.clip(norm[:, 0], 0.0, 1.2)
    norm[:, 1] = np.clip(norm[:, 1], -1.2, 1.2)
    return norm.astype(np.float32), closed, speaking


def _smooth(x: np.ndarray, sigma_frames: float) -> np.ndarray:
    if sigma_frames <= 0.1 or len(x) < 3:
        return x
    r = max(1, int(3 * sigma_frames))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma_frames) ** 2)
    k /= k.sum()
    padded = np.pad(x, ((r, r), (0, 0)), mode="edge")
    return np.stack([np.convolve(padded[:, c], k, mode="valid") for c in range(x.shape[1])], axis=1)


def to_descriptors(norm: np.ndarray, ranges: dict[str, dict[str, float]]) -> np.ndarray:
    """Map normalised open/width into the person's (open, width, jaw) IOD-unit descriptors."""
    o, wd, j = ranges["open"], ranges["width"], ranges["jaw"]
    opening = o["p2"] + norm[:, 0] * (o["p98"] - o["p2"])
    wide = np.where(
        norm[:, 1] >= 0,
        wd["p50"] + norm[:, 1] * (wd["p98"] - wd["p50"]),
        wd["p50"] + norm[:, 1] * (wd["p50"] - wd["p2"]),
    )
    jaw = j["p2"] + np.clip(norm[:, 0], 0, 1.2) * (j["p98"] - j["p2"])
    return np.stack([opening, wide, jaw], axis=1).astype(np.float32)


def mouth_track(
    phonemes: Sequence[Timing],
    n_frames: int,
    fps: float,
    ranges: dict[str, dict[str, float]],
    expressiveness: float = 1.0,
) -> MouthTrack:
    """The full motion step: per-frame targets in both normalised and descriptor units."""
    norm, closed, speaking = normalised_track(phonemes, n_frames, fps, expressiveness)
    return MouthTrack(norm, to_descriptors(norm, ranges), closed, speaking)
