"""Small signal measurements shared by engines, custom audio, tests and benchmarks."""

from __future__ import annotations

import numpy as np


def speech_regions(
    audio: np.ndarray, sample_rate: int, min_pause_ms: int = 120, relative: float = 0.05
) -> list[tuple[int, int]]:
    """``[start, end)`` sample spans of sound separated by pauses of at least ``min_pause_ms``.

    Energy in 10 ms frames against a threshold relative to the loud frames (``relative`` × the
    95th-percentile RMS, 5 % by default), so it works the same for quiet and loud recordings.
    """
    hop = max(1, sample_rate // 100)
    n = len(audio) // hop
    if n == 0:
        return []
    energy = np.sqrt(np.mean(np.asarray(audio[: n * hop], np.float64).reshape(n, hop) ** 2, axis=1))
    threshold = max(1e-4, relative * float(np.percentile(energy, 95)))
    regions: list[tuple[int, int]] = []
    quiet_run = 0
    for i, is_loud in enumerate(energy > threshold):
        if is_loud:
            if regions and quiet_run * 10 < min_pause_ms:
                regions[-1] = (regions[-1][0], (i + 1) * hop)
            else:
                regions.append((i * hop, (i + 1) * hop))
            quiet_run = 0
        else:
            quiet_run += 1
    return regions


def utterances(
    audio: np.ndarray, sample_rate: int, longest_s: float, search_s: float = 8.0,
    quiet_window_s: float = 0.2,
) -> list[tuple[int, int]]:  # fmt: skip
    """``audio`` cut into ``[start, end)`` spans of at most ``longest_s``, each cut at the
    quietest moment (the least energy over ``quiet_window_s`` around it) of the span's last
    ``search_s`` seconds, on a 10 ms boundary. Sound no longer than ``longest_s`` is one span."""
    hop = max(1, sample_rate // 100)
    longest = max(hop, round(longest_s * sample_rate) // hop * hop)
    spans, pos = [], 0
    while len(audio) - pos > longest:
        lo = pos + max(hop, longest - round(search_s * sample_rate)) // hop * hop
        hi = pos + longest
        half = round(quiet_window_s * sample_rate / 2)
        a, b = max(0, lo - half), min(len(audio), hi + half)
        energy = np.concatenate([[0.0], np.cumsum(np.square(audio[a:b].astype(np.float64)))])
        at = np.arange(lo, hi, hop)  # candidate cuts, and the sound around each
        around = energy[np.minimum(at + half, b) - a] - energy[np.maximum(at - half, a) - a]
        cut = int(at[np.argmin(around)])
        spans.append((pos, cut))
        pos = cut
    spans.append((pos, len(audio)))
    return spans


def median_f0(
    audio: np.ndarray, sample_rate: int, fmin: float = 50.0, fmax: float = 400.0
) -> float:
    """Median fundamental frequency (Hz) over voiced 50 ms frames, by normalised autocorrelation.

    Crude but monotonic and dependency-free: used to check that ``pitch`` moves f0 the right way.
    Returns ``0.0`` when no frame is voiced.
    """
    x = np.asarray(audio, dtype=np.float64)
    frame, hop = int(0.050 * sample_rate), int(0.010 * sample_rate)
    lag_min, lag_max = int(sample_rate / fmax), int(sample_rate / fmin)
    loud = 0.1 * float(np.max(np.abs(x))) if len(x) else 0.0
    f0s: list[float] = []
    for start in range(0, len(x) - frame, hop):
        window = x[start : start + frame]
        if np.sqrt(np.mean(window**2)) < 0.3 * loud:
            continue
        window = window - window.mean()
        spectrum = np.fft.rfft(window, 2 * frame)
        corr = np.fft.irfft(np.abs(spectrum) ** 2)[: lag_max + 1]
        if corr[0] <= 0:
            continue
        # Unbiased: a finite window's autocorrelation shrinks with the lag, favouring octaves up.
        corr = corr / corr[0] * frame / (frame - np.arange(lag_max + 1))
        band = corr[lag_min : lag_max + 1]
        best = float(band.max())
        # The shortest lag nearly as good as the best: multiples of the period score alike.
        lag = lag_min + int(np.argmax(band >= 0.9 * best))
        if best > 0.5:  # clearly periodic: voiced
            f0s.append(sample_rate / lag)
    return float(np.median(f0s)) if f0s else 0.0
