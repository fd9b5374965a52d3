"""Per-person audio → mouth model: ridge regression on MFCCs in a ±100 ms window + viseme context.

Fitted at training on the footage's own sound and mouth shapes; its held-out R² (and Pearson r)
goes into the quality report: how well this person's sound predicts their mouth. The renderer can
use it to drive the mouth from custom audio (``predict_descriptors``).

Features per video frame (all at 16 kHz):
* 13 MFCCs (25 ms window, 10 ms hop, 26 mel bands, 80–7600 Hz) and the frame's log energy,
  sampled at 7 offsets −100 … +100 ms around the frame (the mouth moves up to ~100 ms before the
  sound it makes, and holds after it) → 98 numbers;
* viseme context (when the footage was labelled, see ``twins.labels``): the viseme one-hot
  averaged over the frame ±2 → 15 numbers, plus the same averaged over ±6 frames → 15 more.
Targets are the mouth descriptors ``open``, ``width``, ``jaw`` (IOD units, see ``twins.bank``).
Two models are fitted: audio only (usable on any sound) and audio + visemes (when the renderer
has phoneme timings too). The regularisation is picked by time-blocked cross-validation; the
reported R² and r are of every usable frame predicted by a model fitted without its stretch of
footage (``FOLDS`` stretches), and those predictions of the opening are kept too
(``held_out_opening``: the renderer judges from them how this person's mouth follows the sound,
``render.habits.pauses_from_footage``). Weights are refitted on all usable frames before saving.

Saved as ``audio_model.npz`` (no pickle). Keys from the first pack format are kept with their
meaning (``weights``/``mean``/``std``: audio → opening; ``r2``); new keys are listed in
``twins.pack``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from twinstudio.twins.labels import VISEMES

RATE = 16000
N_MELS = 26
N_MFCC = 13
WIN_S = 0.025
HOP_S = 0.01
MFCC_ROWS = 100  # hops (1 s of audio) transformed at once
OFFSETS_MS = (-100, -67, -33, 0, 33, 67, 100)
VISEME_NEAR = 2  # frames each side
VISEME_FAR = 6
ALPHAS = (100.0, 1000.0, 3000.0, 10000.0, 30000.0, 100000.0)
FOLDS = 5
FEATURE_KIND = "mfcc13e_pm100"
N_AUDIO_FEATURES = (N_MFCC + 1) * len(OFFSETS_MS)


def _mel_filterbank(n_fft: int) -> np.ndarray:
    def mel(f: np.ndarray | float) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)

    def hz(m: np.ndarray) -> np.ndarray:
        return 700.0 * (10 ** (m / 2595.0) - 1.0)

    points = hz(np.linspace(mel(80.0), mel(7600.0), N_MELS + 2))
    bins = np.fft.rfftfreq(n_fft, 1 / RATE)
    fb = np.zeros((N_MELS, len(bins)), np.float32)
    for m in range(N_MELS):
        lo, mid, hi = points[m], points[m + 1], points[m + 2]
        up = (bins - lo) / (mid - lo)
        down = (hi - bins) / (hi - mid)
        fb[m] = np.clip(np.minimum(up, down), 0.0, None)
    return fb


def mfcc(audio: np.ndarray) -> np.ndarray:
    """(n_hops, N_MFCC + 1): MFCCs and log energy every 10 ms of 16 kHz ``audio``."""
    from scipy.fft import dct

    win, hop = int(WIN_S * RATE), int(HOP_S * RATE)
    n_fft = 512
    x = np.pad(np.asarray(audio, np.float32), (win // 2, win))
    n = max(1, (len(x) - win) // hop + 1)
    windows = np.lib.stride_tricks.sliding_window_view(x, win)[::hop][:n]  # a view: no copy
    hamming = np.hamming(win).astype(np.float32)
    bank = _mel_filterbank(n_fft).T
    out = np.empty((n, N_MFCC + 1), np.float32)
    # MFCC_ROWS hops at a time: each row is its own FFT, so the result is the same, and the
    # float64 spectra (~6 kB a hop) never exist for more than a second of audio.
    for a in range(0, n, MFCC_ROWS):
        frames = windows[a : a + MFCC_ROWS] * hamming
        power = np.abs(np.fft.rfft(frames, n=n_fft, axis=1)) ** 2
        log_mel = np.log(power @ bank + 1e-8)
        out[a : a + len(frames), :N_MFCC] = dct(log_mel, type=2, axis=1, norm="ortho")[:, :N_MFCC]
        out[a : a + len(frames), N_MFCC] = np.log(power.sum(axis=1) + 1e-8)
    return out


def audio_features(audio: np.ndarray, fps: float, n_frames: int) -> np.ndarray:
    """(n_frames, N_AUDIO_FEATURES): MFCC + energy at ±100 ms offsets around each frame."""
    hops = mfcc(audio)
    t = np.arange(n_frames) / fps
    cols = []
    for off in OFFSETS_MS:
        at = np.clip(np.round((t + off / 1000.0) / HOP_S).astype(int), 0, len(hops) - 1)
        cols.append(hops[at])
    return np.hstack(cols)


def viseme_features(viseme: np.ndarray) -> np.ndarray:
    """(T, 2 × len(VISEMES)): viseme one-hot averaged over ±2 and ±6 frames."""
    onehot = np.eye(len(VISEMES), dtype=np.float32)[viseme.astype(np.int64)]
    out = []
    for k in (VISEME_NEAR, VISEME_FAR):
        kernel = np.ones(2 * k + 1, np.float32) / (2 * k + 1)
        padded = np.pad(onehot, ((k, k), (0, 0)), mode="edge")
        out.append(np.stack([np.convolve(padded[:, j], kernel, "valid")
                             for j in range(onehot.shape[1])], axis=1))  # fmt: skip
    return np.hstack(out)


def _r2(y: np.ndarray, pred: np.ndarray) -> float:
    ss = float(((y - y.mean()) ** 2).sum())
    return 1.0 - float(((y - pred) ** 2).sum()) / ss if ss > 0 else 0.0


def _pearson(y: np.ndarray, pred: np.ndarray) -> float:
    if y.std() == 0 or pred.std() == 0:
        return 0.0
    return float(np.corrcoef(y, pred)[0, 1])


def _standardise(x: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mean = x[rows].mean(axis=0)
    std = x[rows].std(axis=0) + 1e-6
    return (x - mean) / std, mean, std


def _ridge_path(x: np.ndarray, y: np.ndarray, alphas: tuple[float, ...]) -> list[np.ndarray]:
    """Ridge weights for every penalty, with an unpenalised intercept (last row of each).

    One SVD of the centred data serves all penalties (a solve per penalty oversubscribes the
    BLAS threads on a loaded 2-core machine and took seconds).
    """
    mx, my = x.mean(axis=0), y.mean(axis=0)
    u, sv, vt = np.linalg.svd(x - mx, full_matrices=False)
    uty = u.T @ (y - my)
    out = []
    for alpha in alphas:
        w = vt.T @ ((sv / (sv**2 + alpha))[:, None] * uty)
        out.append(np.vstack([w, (my - mx @ w)[None, :]]))
    return out


def _pick_alpha(x: np.ndarray, y: np.ndarray, folds: int = 4) -> float:
    """The ridge penalty with the least time-blocked cross-validation error."""
    scale = y.var(axis=0) + 1e-9
    err = np.zeros(len(ALPHAS))
    for block in np.array_split(np.arange(len(x)), folds):
        rest = np.setdiff1d(np.arange(len(x)), block)
        for k, w in enumerate(_ridge_path(x[rest], y[rest], ALPHAS)):
            pred = x[block] @ w[:-1] + w[-1]
            err[k] += float(((pred - y[block]) ** 2 / scale).sum())
    return ALPHAS[int(np.argmin(err))]


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    alpha = _pick_alpha(x, y)
    return _ridge_path(x, y, (alpha,))[0], alpha


def _held_out(
    x: np.ndarray, y: np.ndarray, idx: np.ndarray
) -> tuple[list[float], list[float], np.ndarray]:
    """Blocked cross-validation: every usable frame predicted by a model fitted without its
    stretch of footage (``FOLDS`` contiguous stretches, penalty chosen inside each fit), then
    R² and Pearson r of those predictions per target, and the predictions (len(idx), targets).
    On a clip of a few seconds one held-out stretch is too short to say anything (one
    closed-mouth second gives R² of −50); all of them together are the honest figure."""
    pred = np.zeros((len(idx), y.shape[1]))
    for block in np.array_split(np.arange(len(idx)), FOLDS):
        train = np.setdiff1d(np.arange(len(idx)), block)
        xs, _, _ = _standardise(x, idx[train])
        w, _ = _fit(xs[idx[train]], y[idx[train]])
        pred[block] = xs[idx[block]] @ w[:-1] + w[-1]
    pred[:, 0] = np.clip(pred[:, 0], 0.0, None)
    yy = y[idx]
    r2 = [_r2(yy[:, k], pred[:, k]) for k in range(y.shape[1])]
    r = [_pearson(yy[:, k], pred[:, k]) for k in range(y.shape[1])]
    return r2, r, pred


def _final(x: np.ndarray, y: np.ndarray, idx: np.ndarray) -> dict[str, np.ndarray]:
    """Fitted on every usable frame. ``weights`` (n_features + 1, 3): the last row is the
    intercept, so ``prediction = ((x - mean) / std) @ weights[:-1] + weights[-1]``."""
    xs, mean, std = _standardise(x, idx)
    w, alpha = _fit(xs[idx], y[idx])
    return {"weights": w.astype(np.float32), "mean": mean.astype(np.float32),
            "std": std.astype(np.float32), "alpha": np.array(alpha, np.float32)}  # fmt: skip


def fit_audio_model(
    audio: np.ndarray, desc: np.ndarray, valid: np.ndarray, fps: float, out_path: Path,
    viseme: np.ndarray | None = None,
) -> dict[str, Any] | None:  # fmt: skip
    """Fit, evaluate and save; returns the figures for the quality report (None: too few frames).

    ``desc`` (T, ≥3) descriptors (open, width, jaw, ...), ``valid`` (T,) usable frames,
    ``viseme`` (T,) labels or None.
    """
    n = len(desc)
    idx = np.flatnonzero(valid[:n])
    if len(idx) < 60:
        return None
    y = desc[:, :3].astype(np.float64)
    xa = audio_features(audio, fps, n).astype(np.float64)
    r2, r, held_pred = _held_out(xa, y, idx)
    result: dict[str, Any] = {
        "r2": round(r2[0], 3),
        "r": round(r[0], 3),
        "r2_width": round(r2[1], 3),
        "features": FEATURE_KIND,
        "held_out": f"{FOLDS}-fold blocked",
        "frames": len(idx),
    }
    audio_fit = _final(xa, y, idx)
    arrays = {f"audio_{k}": v for k, v in audio_fit.items()}
    if viseme is not None and np.any(viseme[:n] > 0):
        xv = np.hstack([xa, viseme_features(viseme[:n])])
        r2v, rv, held_pred = _held_out(xv, y, idx)
        result.update(r2_with_visemes=round(r2v[0], 3), r_with_visemes=round(rv[0], 3))
        arrays.update({f"viseme_{k}": v for k, v in _final(xv, y, idx).items()})
    np.savez(
        out_path,
        # first-format keys: audio → opening (``predict_opening``)
        weights=audio_fit["weights"][:, 0],
        mean=audio_fit["mean"],
        std=audio_fit["std"],
        r2=np.array(r2[0], np.float32),
        feature_kind=np.array(FEATURE_KIND),
        targets=np.array(["open", "width", "jaw"]),
        fps=np.array(fps, np.float32),
        held_out_open=_per_frame(held_pred[:, 0], idx, n),
        **arrays,
    )
    return result


def _per_frame(values: np.ndarray, idx: np.ndarray, n: int) -> np.ndarray:
    """(n,) float32: ``values`` at frames ``idx``, NaN elsewhere."""
    out = np.full(n, np.nan, np.float32)
    out[idx] = values
    return out


def held_out_opening(model_path: Path) -> np.ndarray | None:
    """(T,) each footage frame's opening as predicted by a model fitted without that frame's
    stretch (the blocked cross-validation's; with viseme context when the footage was
    labelled), NaN on unusable frames; None for a model saved before it was kept."""
    with np.load(model_path, allow_pickle=False) as z:
        return z["held_out_open"] if "held_out_open" in z.files else None


def _load(model_path: Path) -> dict[str, np.ndarray]:
    with np.load(model_path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def predict_descriptors(
    model_path: Path, audio: np.ndarray, sample_rate: int, fps: float, n_frames: int,
    viseme: np.ndarray | None = None, sound_only: float = 0.0,
) -> np.ndarray:  # fmt: skip
    """(n_frames, 3) predicted open, width, jaw from ``audio`` (+ per-frame visemes if given).

    ``sound_only`` (0–1): with visemes, this share of the prediction is the audio-only model's,
    from the same features (``render.motion``: the visemes' phones were recognised in an echo).
    """
    m = _load(model_path)
    if sample_rate != RATE:
        from scipy.signal import resample_poly

        audio = resample_poly(audio, RATE, sample_rate).astype(np.float32)
    x = audio_features(audio, fps, n_frames)
    if viseme is None or "viseme_weights" not in m:
        return _predicted(x, m, "audio")
    with_context = _predicted(np.hstack([x, viseme_features(viseme[:n_frames])]), m, "viseme")
    if sound_only <= 0:
        return with_context
    return (1 - sound_only) * with_context + sound_only * _predicted(x, m, "audio")


def _predicted(x: np.ndarray, m: dict[str, np.ndarray], model: str) -> np.ndarray:
    """The ``model`` ("audio" or "viseme") weights' prediction from features ``x``."""
    w, mean, std = m[f"{model}_weights"], m[f"{model}_mean"], m[f"{model}_std"]
    pred = ((x - mean) / std) @ w[:-1] + w[-1]
    pred[:, 0] = np.clip(pred[:, 0], 0.0, None)
    return pred.astype(np.float32)


def predict_opening(model_path: Path, audio: np.ndarray, sample_rate: int, fps: float,
                    n_frames: int) -> np.ndarray:  # fmt: skip
    """Mouth opening per frame predicted from audio by a saved model."""
    return predict_descriptors(model_path, audio, sample_rate, fps, n_frames)[:, 0]
