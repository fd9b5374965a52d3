"""Per-person audio → mouth-opening model: ridge regression on log band energies, ±3 frames.

Fitted at training on the footage's own sound and mouth; its held-out R² goes into the quality
report (how well this person's audio predicts their mouth). The renderer can use it to drive the
mouth from custom audio that has no phoneme timings.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

N_BANDS = 16
CONTEXT = 3  # frames each side (±100 ms at 30 fps)
RIDGE_ALPHA = 300.0


def band_energies(audio: np.ndarray, sample_rate: int, fps: float, n_frames: int) -> np.ndarray:
    """(n_frames, N_BANDS) log energies of a 50 ms window centred on each video frame."""
    win = int(0.05 * sample_rate)
    nfft = 1 << (win - 1).bit_length()
    edges = np.geomspace(80, min(7600, sample_rate / 2 - 1), N_BANDS + 1)
    bins = np.fft.rfftfreq(nfft, 1 / sample_rate)
    band_of = np.digitize(bins, edges) - 1
    padded = np.pad(audio.astype(np.float32), (win, win))
    window = np.hanning(win).astype(np.float32)
    centres = (np.arange(n_frames) / fps * sample_rate).astype(int) + win
    idx = centres[:, None] - win // 2 + np.arange(win)[None, :]
    idx = np.clip(idx, 0, len(padded) - 1)
    spec = np.abs(np.fft.rfft(padded[idx] * window, n=nfft, axis=1)) ** 2
    feats = np.zeros((n_frames, N_BANDS), np.float32)
    for b in range(N_BANDS):
        sel = band_of == b
        if sel.any():
            feats[:, b] = spec[:, sel].sum(axis=1)
    return np.log(feats + 1e-8)


def with_context(feats: np.ndarray) -> np.ndarray:
    n = len(feats)
    padded = np.pad(feats, ((CONTEXT, CONTEXT), (0, 0)), mode="edge")
    cols = [padded[k : k + n] for k in range(2 * CONTEXT + 1)]
    return np.hstack([*cols, np.ones((n, 1), np.float32)])


def fit_audio_model(
    audio: np.ndarray, sample_rate: int, opening: np.ndarray, valid: np.ndarray, fps: float,
    out_path: Path,
) -> float | None:  # fmt: skip
    """Fit on the first 80 % of usable frames, report R² on the rest, save weights; None if too few."""
    n = len(opening)
    x = with_context(band_energies(audio, sample_rate, fps, n))
    idx = np.flatnonzero(valid)
    if len(idx) < 50:
        return None
    mean = x[idx].mean(axis=0)
    std = x[idx].std(axis=0) + 1e-6
    mean[-1], std[-1] = 0.0, 1.0
    xs = (x - mean) / std
    split = idx[: int(0.8 * len(idx))], idx[int(0.8 * len(idx)) :]

    def solve(rows: np.ndarray) -> np.ndarray:
        a = xs[rows]
        reg = RIDGE_ALPHA * np.eye(a.shape[1])
        return np.linalg.solve(a.T @ a + reg, a.T @ opening[rows])

    w = solve(split[0])
    y, pred = opening[split[1]], xs[split[1]] @ w
    ss = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float(((y - pred) ** 2).sum()) / ss if ss > 0 else 0.0
    w_all = solve(idx)
    np.savez(out_path, weights=w_all.astype(np.float32), mean=mean.astype(np.float32),
             std=std.astype(np.float32), r2=np.array(r2, np.float32))  # fmt: skip
    return r2


def predict_opening(model_path: Path, audio: np.ndarray, sample_rate: int, fps: float,
                    n_frames: int) -> np.ndarray:  # fmt: skip
    """Mouth opening per frame predicted from audio by a saved model."""
    with np.load(model_path, allow_pickle=False) as z:
        w, mean, std = z["weights"], z["mean"], z["std"]
    x = (with_context(band_energies(audio, sample_rate, fps, n_frames)) - mean) / std
    return np.clip(x @ w, 0.0, None).astype(np.float32)
