"""speech.clarity: a room's echo slows the speech's fastest falls; dry speech falls fast."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.unit.speech.helpers import in_a_room, syllables
from twinstudio.render.motion import (
    AUDIO_WEIGHT,
    DRY_FALL_DB_S,
    ECHO_FALL_DB_S,
    read_sound,
)
from twinstudio.speech.clarity import fastest_fall_db_s

RATE = 22050


def test_dry_sound_falls_fast_and_an_echo_holds_it_up() -> None:
    dry = fastest_fall_db_s(syllables(4.0, RATE), RATE)
    echo = fastest_fall_db_s(syllables(4.0, RATE, rt60_s=0.5), RATE)
    small_room = fastest_fall_db_s(syllables(4.0, RATE, rt60_s=0.3), RATE)
    assert dry is not None and echo is not None and small_room is not None
    assert dry < DRY_FALL_DB_S  # faster than any the dev clips' dry speech was measured at
    assert echo > ECHO_FALL_DB_S  # a 0.5 s room: no fall faster than ~120-200 dB/s
    assert dry < small_room < echo  # a smaller room rings less


def test_the_measure_does_not_depend_on_level_or_rate() -> None:
    sound = syllables(4.0, RATE, rt60_s=0.5)
    loud = fastest_fall_db_s(sound, RATE)
    quiet = fastest_fall_db_s(sound * 0.01, RATE)
    assert loud is not None and quiet is not None
    assert abs(loud - quiet) < 1.0
    at_16k = fastest_fall_db_s(syllables(4.0, 16000, rt60_s=0.5), 16000)
    assert at_16k is not None and abs(at_16k - loud) < 0.25 * abs(loud)


def test_too_little_sound_is_not_judged() -> None:
    assert fastest_fall_db_s(np.zeros(RATE * 3, np.float32), RATE) is None
    assert fastest_fall_db_s(syllables(4.0, RATE)[: RATE // 10], RATE) is None
    assert fastest_fall_db_s(np.zeros(0, np.float32), RATE) is None


def test_a_dev_clips_sound_dry_and_in_a_room(footage: Path) -> None:
    from twinstudio.speech.audio import decode

    clip = footage / "clips" / "videoretalking_woman_blue_backdrop_7s.mp4"
    if not clip.exists():
        pytest.skip(f"{clip.name} not in the footage")
    sound = decode(clip)  # mono 22050 Hz
    echoing = in_a_room(sound, RATE, 0.5, np.random.default_rng(13)).astype(np.float32)
    dry, echo = fastest_fall_db_s(sound, RATE), fastest_fall_db_s(echoing, RATE)
    assert dry is not None and echo is not None
    assert dry < DRY_FALL_DB_S + 100 and echo > DRY_FALL_DB_S + 20, (dry, echo)
    # Recognised phones: the twin's audio model gets more of the opening in the echo.
    dry_reading = read_sound(sound, RATE, recognised=True)
    assert dry_reading.echo == 0.0 and dry_reading.share == AUDIO_WEIGHT
    assert read_sound(echoing, RATE, recognised=True).share > AUDIO_WEIGHT + 0.1


def test_the_level_is_stfts_band_power_computed_in_blocks() -> None:
    from scipy.signal import stft

    from twinstudio.speech.clarity import BAND_HZ, BLOCK_FRAMES, band_level_db

    sound = syllables(9.0, RATE, rt60_s=0.3)  # > BLOCK_FRAMES frames: several blocks
    level = band_level_db(sound, RATE)
    window, hop = round(0.032 * RATE), round(0.01 * RATE)
    freqs, _, spec = stft(sound.astype(np.float64), RATE, nperseg=window,
                          noverlap=window - hop, boundary=None)  # fmt: skip
    band = (freqs >= BAND_HZ[0]) & (freqs < BAND_HZ[1])
    expected = 10 * np.log10((np.abs(spec[band]) ** 2).sum(axis=0) + 1e-12)
    assert level is not None and len(level) == len(expected) > 2 * BLOCK_FRAMES
    assert np.abs(level - expected).max() < 1e-6
