from __future__ import annotations

import numpy as np
import pytest

from twinstudio.speech.analysis import median_f0
from twinstudio.speech.effects import (
    apply_settings,
    normalize_loudness,
    pitch_shift,
    semitones,
    time_stretch,
)
from twinstudio.speech.types import Speech, Timing, VoiceSettings

from .helpers import voiced

SR = 22050


@pytest.mark.parametrize("factor", [0.6667, 1.0, 1.3, 2.0])
def test_time_stretch_exact_length_same_pitch(factor: float) -> None:
    tone = voiced(120, 1.0)
    out = time_stretch(tone, factor, SR)
    assert len(out) == round(len(tone) * factor)
    assert median_f0(out, SR) == pytest.approx(120, rel=0.05)


@pytest.mark.parametrize("pitch", [-50, -20, 20, 50])
def test_pitch_shift_moves_f0_keeps_length(pitch: float) -> None:
    tone = voiced(120, 1.0)
    out = pitch_shift(tone, semitones(pitch), SR)
    assert len(out) == len(tone)
    expected = 120 * 2 ** (semitones(pitch) / 12)
    assert median_f0(out, SR) == pytest.approx(expected, rel=0.05)


def test_pitch_mapping_is_monotonic_and_documented() -> None:
    assert semitones(-50) == -6 and semitones(0) == 0 and semitones(50) == 6
    assert semitones(10) < semitones(11)


def test_loudness_normalisation_evens_levels_without_clipping() -> None:
    quiet, loud = voiced(150, 0.5) * 0.01, voiced(150, 0.5)
    a, b = normalize_loudness(quiet), normalize_loudness(loud)
    assert np.sqrt(np.mean(a**2)) == pytest.approx(np.sqrt(np.mean(b**2)), rel=0.05)
    assert np.max(np.abs(b)) <= 0.97 + 1e-6


def test_volume_is_a_gain_after_normalisation() -> None:
    speech = Speech(voiced(150, 0.5) * 0.01, SR, [Timing("a", 0, 500)])
    full = apply_settings(speech, VoiceSettings(volume=1.0)).audio
    half = apply_settings(speech, VoiceSettings(volume=0.5)).audio
    assert np.max(np.abs(half)) == pytest.approx(np.max(np.abs(full)) / 2, rel=1e-4)


def test_speed_setting_rescales_timings_exactly() -> None:
    speech = Speech(voiced(150, 1.0), SR, [Timing("", 0, 300), Timing("a", 300, 1000)])
    fast = apply_settings(speech, VoiceSettings(speed=1.25))
    assert fast.duration_ms == 800
    assert [(p.start_ms, p.end_ms) for p in fast.phonemes] == [(0, 240), (240, 800)]
