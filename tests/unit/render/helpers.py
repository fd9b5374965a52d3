"""Helpers shared by the render tests."""

from __future__ import annotations

from twinstudio.speech.types import Timing


def timings(spec: list[tuple[str, int]]) -> list[Timing]:
    """Phonemes from ``(symbol, milliseconds)`` pairs, one after another from 0."""
    out, t = [], 0
    for sym, ms in spec:
        out.append(Timing(sym, t, t + ms))
        t += ms
    return out
