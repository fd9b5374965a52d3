"""What a twin's own footage says about how its mouth goes with its sound.

The motion step (``render.motion``) builds the same track for everyone from phone timings and
the twin's audio model. Three things differ from person to person, and each is read here from
the twin's footage, whose frames were labelled with phones at training (``labels.npz``) and
whose audio model kept its cross-validated prediction of every frame (``audio_model.npz``):

- *How widely the mouth swings* (``filmed_open_std``): the track's swings are widened to it.
- *How far the mouth leads the sound* (``footage_lead_s``). The usual lead is
  ``motion.ANTICIPATION_S`` (40 ms), but some footage shows the mouth a good 100 ms ahead of
  what its sound's phone timings say. The phone track built with no lead is correlated with the
  filmed opening at lags of ±0.24 s, and the peak is the twin's lead. It is used only when the
  footage is clear (peak r ≥ 0.3, above the chance level of the same search on misaligned
  tracks, not at the edge of the search) and it differs from the usual lead by more than a
  frame, the resolution of the measurement; it is clipped to 0–200 ms. Elsewhere the usual lead
  stands.
- *Whether the mouth rests where the recogniser hears a pause* (``pauses_from_footage``). Some
  people keep talking shapes or breathe open there: the footage's own track is made with the
  pauses kept and with the audio model's prediction over them, and the one that followed the
  filmed mouth better says how far recognised phones' pauses give way in renders.

Each reading is cached per pack folder (keyed by the file it is read from and its mtime), so a
render pays for it once.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from twinstudio.render.motion import ANTICIPATION_S, AUDIO_WEIGHT, mouth_track, normalised_track
from twinstudio.speech.types import Timing

if TYPE_CHECKING:
    from twinstudio.twins.pack import TwinPack

_LOGGER = logging.getLogger(__name__)


def filmed_open_std(pack: TwinPack) -> float | None:
    """Std of the person's inner-lip opening over the tracked footage frames (IOD units)."""
    tr = pack.track
    if "desc" not in tr or "valid" not in tr:
        return None
    opening = tr["desc"][tr["valid"].astype(bool), 0]
    return float(opening.std()) if len(opening) >= 10 else None


# The twin's own lead: how far its mouth moves ahead of the phone timings of its own footage.
LEAD_RANGE_S = (0.0, 0.2)  # physiologically plausible leads (a measured one is clipped to it)
LEAD_MIN_R = 0.3  # the phone track must explain the opening at least this well at the peak
LEAD_SEARCH_S = 0.24  # lags searched either side (wider than the range: edge peaks are refused)
_LEAD_NULLS = 40  # circular shifts for the chance level
_LEAD_CACHE: dict[tuple[str, float], float] = {}


def lead_from_footage(
    phone_labels: np.ndarray, opening: np.ndarray, valid: np.ndarray, fps: float
) -> float | None:
    """The lead (s) that best aligns a phone-driven track with the filmed opening, or None.

    ``phone_labels`` (T,) index into ``twins.labels.PHONES`` per frame (0 = silence),
    ``opening`` (T,) the filmed inner-lip opening, ``valid`` (T,) frames with a face. The
    phone track is built with no lead at all, then r with the opening is scored at every lag
    over the same frames; the peak (refined between frames by a parabola) is the lead. None
    when the footage cannot say: the peak is weak (r < ``LEAD_MIN_R``), not above chance (the
    95th percentile of the same search against the opening circularly shifted out of
    alignment), or at the edge of the search (still rising: the true peak is elsewhere). A
    clear lead outside ``LEAD_RANGE_S`` is clipped to it.
    """
    n = min(len(phone_labels), len(opening), len(valid))
    max_lag = max(1, round(LEAD_SEARCH_S * fps))
    if n < 8 * max_lag or not np.any(phone_labels[:n] > 0):
        return None
    timings = _label_timings(phone_labels[:n], fps)
    track = normalised_track(timings, n, fps, lead_s=0.0)[0][:, 0].astype(np.float64)
    real = np.where(valid[:n].astype(bool), opening[:n], np.nan).astype(np.float64)

    def curve(x: np.ndarray) -> np.ndarray:
        core = real[max_lag : n - max_lag]
        return np.array([_nan_corr(core, x[max_lag + lag : n - max_lag + lag])
                         for lag in range(-max_lag, max_lag + 1)])  # fmt: skip

    c = curve(track)
    if not np.isfinite(c).any():
        return None
    k = int(np.nanargmax(c))
    peak = float(c[k])
    if peak < LEAD_MIN_R or k in (0, len(c) - 1) or not np.isfinite(c[[k - 1, k + 1]]).all():
        return None
    shifts = np.linspace(2 * max_lag, n - 2 * max_lag, _LEAD_NULLS).astype(int)
    nulls = [np.nanmax(curve(np.roll(track, int(sh)))) for sh in shifts]
    if peak <= float(np.nanpercentile(nulls, 95)):
        return None
    y0, y1, y2 = c[k - 1], c[k], c[k + 1]
    den = y0 - 2 * y1 + y2
    frac = 0.5 * (y0 - y2) / den if den < 0 else 0.0
    lead = (k - max_lag + float(np.clip(frac, -0.5, 0.5))) / fps
    # > 0: the track (no lead) is late against the mouth, i.e. the mouth leads the sound.
    return float(np.clip(lead, *LEAD_RANGE_S))


def _nan_corr(a: np.ndarray, b: np.ndarray) -> float:
    m = ~(np.isnan(a) | np.isnan(b))
    if m.sum() < 10:
        return float("nan")
    a, b = a[m], b[m]
    if a.std() < 1e-9 or b.std() < 1e-9:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def footage_lead_s(pack: TwinPack) -> float:
    """The lead to use for ``pack``: measured on its own footage (``lead_from_footage``) when
    the footage is clear about it and it differs from ``ANTICIPATION_S`` by more than a frame,
    else ``ANTICIPATION_S``. Cached per pack folder."""
    from twinstudio.twins import pack as P

    if not pack.has(P.LABELS):
        return ANTICIPATION_S
    return _per_pack(_LEAD_CACHE, pack, P.LABELS, _footage_lead)


def _footage_lead(pack: TwinPack) -> float:
    from twinstudio.twins import pack as P

    tr = pack.track
    lead = None
    if "desc" in tr and "valid" in tr:
        try:
            phone = P.load_arrays(pack.file(P.LABELS))["phone"]
            lead = lead_from_footage(phone, tr["desc"][:, 0], tr["valid"], pack.fps)
        except (KeyError, ValueError, OSError) as exc:
            _LOGGER.warning("twin labels not usable for the lead (%s)", exc)
    # Within a frame of the usual lead the footage says nothing more precise (the peak of a few
    # seconds' correlation moves by about a frame between stretches of one clip).
    if lead is None or abs(lead - ANTICIPATION_S) <= 1.0 / pack.fps:
        return ANTICIPATION_S
    return lead


def _per_pack(
    cache: dict[tuple[str, float], float],
    pack: TwinPack,
    name: str,
    read: Callable[[TwinPack], float],
) -> float:
    """``read(pack)``, kept in ``cache`` by the pack's folder and the mtime of its file ``name``
    (the one it is read from: a pack trained again reads afresh)."""
    key = (str(pack.path.resolve()), pack.file(name).stat().st_mtime)
    if key not in cache:
        cache[key] = read(pack)
    return cache[key]


def _label_timings(phone_labels: np.ndarray, fps: float) -> list[Timing]:
    """The footage's per-frame phone labels (index into ``twins.labels.PHONES``, 0 = silence)
    as phoneme timings, one per run of a label (IPA; silence ``""``)."""
    from twinstudio.speech.audio import ARPABET_TO_IPA
    from twinstudio.twins.labels import PHONES

    labels = np.asarray(phone_labels, np.int64)
    bounds = np.concatenate([[0], np.flatnonzero(np.diff(labels)) + 1, [len(labels)]])
    return [
        Timing("" if labels[a] == 0 else ARPABET_TO_IPA.get(PHONES[labels[a]], "ə"),
               round(a / fps * 1000), round(b / fps * 1000))
        for a, b in itertools.pairwise(bounds.tolist())
    ]  # fmt: skip


# How far a twin's recognised phones' pauses give way (``pauses_from_footage``): the footage's
# own track, its phones recognised at training and the audio model's cross-validated
# prediction blended in, is made with the pauses kept and with the prediction over every frame;
# ``over_pauses`` rises from 0 to 1 as the second's r with the filmed opening gains 0 …
# PAUSES_FOOTAGE_GAIN over the first's. On the dev clips (twins of their first or last 70 %,
# the rest held back; 2026-12-07) the footage's gain agreed in sign with the held-back part's in
# 9 of the 11 parts where that moved by more than 0.03 (the suit −0.33, both blazers −0.07 in
# both, ed_markey +0.06 / −0.06 in its two windows); katie_hill and radio34 change their habit
# between windows, the footage cannot tell. Target-track r, last / first 30 % held back:
# pauses kept 0.563 / 0.318, over every frame 0.538 / 0.318; gain scale 0.01 0.573 / 0.322,
# **0.02 0.571 / 0.322**, 0.05 0.567 / 0.322, 0.1 0.565 / 0.322; in or out at 0 0.577 / 0.322.
# Rendered on twins trained afresh with it (and motion.HEARD_RANGE_DB's cut): r 0.538 / 0.350 →
# 0.545 / 0.354 (pcavs, ed_markey, the blue backdrop and mimictalk given way, 0.18–1.0 of it;
# every other part as before); a fan's noise 0.328 / 0.210 → 0.336 / 0.220; the 0.5 s room's
# echo 0.394 → 0.409 (rooms of 0.3 / 0.8 s 0.386 → 0.405 / 0.274 → 0.293); a telephone's band
# 0.267 → 0.264 and a quiet microphone 0.561 → 0.560 (the last 30 %; benchmarks/HISTORY.md,
# 2026-12-07 21:35 and 2026-12-08 00:06).
PAUSES_FOOTAGE_GAIN = 0.02
_PAUSES_CACHE: dict[tuple[str, float], float] = {}


def pauses_from_footage(pack: TwinPack) -> float:
    """How far (0–1) the recognised phones' pauses give way to the twin's audio model
    (``motion.blend_audio``'s ``over_pauses``), judged on its own footage: whether its mouth
    followed the model's prediction there better than it rested where the recogniser heard a
    pause (see PAUSES_FOOTAGE_GAIN). 0 for a pack without labels or its model's held-out prediction
    (trained before pack revision 9). Cached per pack folder."""
    from twinstudio.twins import pack as P

    if not (pack.has(P.LABELS) and pack.has(P.AUDIO_MODEL)):
        return 0.0
    return _per_pack(_PAUSES_CACHE, pack, P.AUDIO_MODEL, _footage_pauses_gain)


def _footage_pauses_gain(pack: TwinPack) -> float:
    from twinstudio.twins import pack as P
    from twinstudio.twins.audio_model import held_out_opening

    tr = pack.track
    try:
        held = held_out_opening(pack.file(P.AUDIO_MODEL))
        phone = P.load_arrays(pack.file(P.LABELS))["phone"]
    except (KeyError, ValueError, OSError) as exc:
        _LOGGER.warning("twin labels or audio model not usable for the pauses (%s)", exc)
        return 0.0
    if held is None or "desc" not in tr or "valid" not in tr:
        return 0.0
    n = min(len(held), len(phone), len(tr["desc"]))
    if n < 30 or not np.isfinite(held[:n]).any() or not np.any(phone[:n] > 0):
        return 0.0
    pred = np.nan_to_num(held[:n].astype(np.float64), nan=float(np.nanmean(held[:n])))
    real = np.where(tr["valid"][:n].astype(bool), tr["desc"][:n, 0], np.nan).astype(np.float64)
    timings = _label_timings(phone[:n], pack.fps)
    args = (pack.meta["ranges"], 1.0, pred, AUDIO_WEIGHT, filmed_open_std(pack),
            footage_lead_s(pack))  # fmt: skip
    kept, over = (_nan_corr(real, mouth_track(timings, n, pack.fps, *args, over_pauses=op)
                            .desc[:, 0].astype(np.float64)) for op in (0.0, 1.0))  # fmt: skip
    if not (np.isfinite(kept) and np.isfinite(over)):
        return 0.0
    return float(np.clip((over - kept) / PAUSES_FOOTAGE_GAIN, 0.0, 1.0))
