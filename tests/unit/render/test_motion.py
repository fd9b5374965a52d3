"""Motion: phoneme timings → smooth mouth targets with closures and rests."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from twinstudio.render.motion import mouth_track, normalised_track, viseme
from twinstudio.speech.types import Timing
from twinstudio.twins.pack import TwinPack

from .helpers import timings

RANGES = {
    "open": {"p2": 0.01, "p50": 0.1, "p98": 0.3},
    "width": {"p2": 0.6, "p50": 0.75, "p98": 0.9},
    "jaw": {"p2": 1.0, "p50": 1.1, "p98": 1.3},
}


def test_lips_close_on_bilabials() -> None:
    ph = timings([("", 200), ("a", 150), ("b", 40), ("a", 150), ("m", 60), ("ɑː", 200), ("", 200)])
    norm, closed, _ = normalised_track(ph, 30, 30.0)
    for p in ph:
        if p.symbol in ("b", "m"):
            c = int((p.start_ms + p.end_ms) / 2 / 1000 * 30)
            assert norm[c, 0] == 0.0 and closed[c]
    assert norm[:, 0].max() > 0.6  # the open vowels do open


def test_rest_in_silence_including_breaks() -> None:
    ph = timings([("h", 80), ("ɛ", 120), ("l", 60), ("oʊ", 200), ("", 900), ("a", 200), ("", 400)])
    norm, _, speaking = normalised_track(ph, round(1.96 * 25), 25.0)
    pause = slice(int(0.8 * 25), int(1.2 * 25))  # the break (0.46–1.36 s) after its release
    assert np.all(norm[pause, 0] < 0.03)
    assert not speaking[pause].any()
    assert norm[-2:, 0].max() < 0.05


def test_targets_are_smooth() -> None:
    rng = np.random.default_rng(0)
    vowels = ["a", "i", "u", "ə", "ɛ", "o"]
    cons = ["t", "s", "k", "n", "l", "ɹ"]
    spec = [
        (str(rng.choice(vowels if k % 2 else cons)), int(rng.integers(50, 160))) for k in range(60)
    ]
    ph = timings(spec)
    n = round(ph[-1].end_ms / 1000 * 30)
    norm, _, _ = normalised_track(ph, n, 30.0)
    # No frame-to-frame jitter: second differences stay small (no p/b/m here to force closure).
    assert np.abs(np.diff(norm[:, 0], 2)).max() < 0.35
    assert np.abs(np.diff(norm[:, 0])).max() < 0.45


def test_rounding_and_spreading() -> None:
    assert viseme("u")[1] < -0.5 and viseme("w")[1] < -0.5
    assert viseme("iː")[1] > 0.4
    assert viseme("f")[0] < 0.1 and viseme("æ")[0] > 0.7


def test_expressiveness_scales_and_maps_to_person_range() -> None:
    ph = timings([("", 100), ("ɑ", 300), ("", 100)])
    calm = mouth_track(ph, 15, 30.0, RANGES, expressiveness=0.5)
    lively = mouth_track(ph, 15, 30.0, RANGES, expressiveness=1.5)
    assert lively.norm[:, 0].max() > calm.norm[:, 0].max()
    assert calm.desc[:, 0].min() >= RANGES["open"]["p2"] - 1e-6
    assert lively.desc[:, 0].max() > 0.2  # into the person's own wide range
    assert len(lively) == 15


def test_empty_phonemes_give_rest() -> None:
    track = mouth_track([], 10, 25.0, RANGES)
    assert np.all(track.norm == 0) and not track.speaking.any()


def test_audio_blend_follows_audio_but_keeps_closures_and_rests() -> None:
    from twinstudio.render.motion import blend_audio

    fps = 25.0
    ph = timings([("", 400)] + [("a", 120), ("p", 80), ("ə", 120), ("t", 80)] * 6 + [("", 600)])
    n = round(sum(p.end_ms - p.start_ms for p in ph) / 1000 * fps)
    norm, closed, speaking = normalised_track(ph, n, fps)
    audio = np.sin(np.arange(n) / 3.0) + 1.0  # some loudness contour
    out = blend_audio(norm, closed, speaking, audio, fps, weight=0.6)
    on = speaking & ~closed
    before = np.corrcoef(norm[on, 0], audio[on])[0, 1]
    after = np.corrcoef(out[on, 0], audio[on])[0, 1]
    assert after > before + 0.1
    assert np.all(out[closed, 0] == 0.0)  # lips still meet on /p/
    assert np.all(out[:5, 0] < 0.03) and np.all(out[-5:, 0] < 0.03)  # rest in the pauses
    assert np.abs(np.diff(out[:, 0], 2)).max() < 1.0  # no frame-to-frame jitter


def test_in_an_echo_the_audio_blend_reaches_into_the_phones_pauses() -> None:
    # Phones recognised in an echo are misheard, their pauses too: the prediction then shapes
    # the pauses as well (in proportion), scaled over every frame, and closures still shut.
    from twinstudio.render.motion import blend_audio

    fps = 25.0
    ph = timings([("", 400)] + [("a", 120), ("p", 80), ("ə", 120), ("", 1000)] * 4)
    n = round(sum(p.end_ms - p.start_ms for p in ph) / 1000 * fps)
    norm, closed, speaking = normalised_track(ph, n, fps)
    audio = np.sin(np.arange(n) / 2.0) + 1.0
    pauses = np.convolve(speaking, np.ones(9), mode="same") == 0  # well inside them
    assert pauses.sum() >= 40
    kept = blend_audio(norm, closed, speaking, audio, fps, weight=1.0)
    assert np.array_equal(kept, blend_audio(norm, closed, speaking, audio, fps, 1.0, 0.0))
    half = blend_audio(norm, closed, speaking, audio, fps, 1.0, over_pauses=0.5)
    full = blend_audio(norm, closed, speaking, audio, fps, 1.0, over_pauses=1.0)
    moved = [float(np.abs(out[pauses, 0] - norm[pauses, 0]).mean()) for out in (kept, half, full)]
    assert moved[0] < 0.01 < moved[1] < moved[2]  # the pauses rest as the phones say, or less
    for out in (half, full):
        assert np.corrcoef(out[pauses, 0], audio[pauses])[0, 1] > 0.9
        assert np.all(out[closed, 0] == 0.0)
    # One reach per frame: as one for all where it is the same; a pause it leaves out rests.
    every = np.ones(n)
    assert np.array_equal(blend_audio(norm, closed, speaking, audio, fps, 1.0, every), full)
    first = every.copy()
    first[n // 2 :] = 0.0
    some = blend_audio(norm, closed, speaking, audio, fps, 1.0, first)
    late = pauses & (np.arange(n) > n // 2 + 5)
    early = pauses & (np.arange(n) < n // 2 - 5)
    assert late.sum() >= 10 and early.sum() >= 10
    assert np.abs(some[late, 0] - norm[late, 0]).mean() < 0.002
    assert np.abs(some[early, 0] - norm[early, 0]).mean() > 0.05
    # With no speech heard at all, only an echo lets the sound shape the mouth.
    silent = np.zeros(n, bool)
    assert np.array_equal(blend_audio(norm, closed, silent, audio, fps, 1.0), norm)
    assert not np.array_equal(blend_audio(norm, closed, silent, audio, fps, 1.0, 1.0), norm)


def test_spread_matches_the_person_and_expressiveness_scales_it() -> None:
    ph = timings([("", 200)] + [("ɑ", 150), ("m", 60), ("ɪ", 120), ("s", 80)] * 8 + [("", 200)])
    n = round(sum(p.end_ms - p.start_ms for p in ph) / 1000 * 25)
    plain = mouth_track(ph, n, 25.0, RANGES)
    wide = mouth_track(ph, n, 25.0, RANGES, open_std=0.12)
    calm = mouth_track(ph, n, 25.0, RANGES, open_std=0.12, expressiveness=0.5)
    assert wide.desc[:, 0].std() > 1.3 * plain.desc[:, 0].std()
    assert calm.desc[:, 0].std() < 0.7 * wide.desc[:, 0].std()
    assert wide.desc[wide.closed, 0].max() <= RANGES["open"]["p2"] + 1e-6  # closures stay shut


def test_visemes_accept_split_and_whole_diphthongs() -> None:
    from twinstudio.render.motion import viseme_frames

    classes = (
        "sil",
        "PP",
        "FF",
        "TH",
        "DD",
        "kk",
        "CH",
        "SS",
        "nn",
        "RR",
        "aa",
        "E",
        "ih",
        "oh",
        "ou",
    )
    piper = timings([("", 100), ("b", 100), ("a", 100), ("ɪ", 100), ("f", 100), ("uː", 100)])
    sphinx = timings([("", 100), ("b", 100), ("aɪ", 200), ("f", 100), ("u", 100)])
    a = viseme_frames(piper, 30, 50.0, classes)
    b = viseme_frames(sphinx, 30, 50.0, classes)
    names = [classes[i] for i in a[::5]]
    assert names == ["sil", "PP", "aa", "ih", "FF", "ou"]
    assert [classes[i] for i in b[::5]] == ["sil", "PP", "aa", "aa", "FF", "ou"]
    assert viseme("aɪ")[0] > viseme("ɪ")[0]  # the single symbol opens like its first vowel


def _footage(lead_s: float, seconds: float = 12.0, fps: int = 25, noise: float = 0.05,
             seed: int = 0) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Per-frame phone labels (index into PHONES) of random speech, and a filmed opening that
    follows them ``lead_s`` early, with noise."""
    from twinstudio.speech.audio import ARPABET_TO_IPA
    from twinstudio.twins.labels import PHONES

    rng = np.random.default_rng(seed)
    n = int(seconds * fps)
    labels = np.zeros(n, np.int64)
    f = 5
    while f < n - 5:
        run = int(rng.integers(1, 5))
        labels[f : f + run] = 0 if rng.random() < 0.1 else int(rng.integers(1, len(PHONES)))
        f += run
    bounds = np.concatenate([[0], np.flatnonzero(np.diff(labels)) + 1, [n]])
    ph = [Timing("" if labels[a] == 0 else ARPABET_TO_IPA[PHONES[labels[a]]],
                 round(a / fps * 1000), round(b / fps * 1000))
          for a, b in itertools.pairwise(bounds.tolist())]  # fmt: skip
    opening = normalised_track(ph, n, float(fps), lead_s=lead_s)[0][:, 0]
    return labels, opening + noise * rng.standard_normal(n)


def test_lead_shifts_shapes_earlier() -> None:
    ph = timings([("", 400), ("ɑ", 200), ("", 400)])
    late = normalised_track(ph, 25, 25.0, lead_s=0.0)[0][:, 0]
    early = normalised_track(ph, 25, 25.0, lead_s=0.12)[0][:, 0]

    def opens(x: np.ndarray) -> int:
        return int(np.flatnonzero(x > 0.5)[0])

    assert abs((opens(late) - opens(early)) - 3) <= 1  # 0.12 s at 25 fps


def test_lead_is_measured_on_the_footage() -> None:
    from twinstudio.render.habits import lead_from_footage

    for true_lead in (0.04, 0.14):
        labels, opening = _footage(true_lead)
        lead = lead_from_footage(labels, opening, np.ones(len(labels), bool), 25.0)
        assert lead is not None and abs(lead - true_lead) < 0.025


def test_lead_is_not_guessed_from_unrelated_footage() -> None:
    from twinstudio.render.habits import lead_from_footage

    labels, _ = _footage(0.04)
    noise = np.random.default_rng(5).standard_normal(len(labels))
    assert lead_from_footage(labels, noise, np.ones(len(labels), bool), 25.0) is None
    silent = np.zeros_like(labels)
    assert lead_from_footage(silent, noise, np.ones(len(labels), bool), 25.0) is None


def test_twin_lead_falls_back_and_ignores_sub_frame_differences(tmp_path: Path) -> None:
    from twinstudio.render.habits import footage_lead_s
    from twinstudio.render.motion import ANTICIPATION_S
    from twinstudio.twins import pack as P

    def pack_with(lead_s: float, name: str) -> P.TwinPack:
        d = tmp_path / name
        d.mkdir()
        labels, opening = _footage(lead_s, noise=0.02)
        desc = np.zeros((len(labels), 4), np.float32)
        desc[:, 0] = opening
        P.write_meta(d, {"kind": "video", "fps": 25})
        P.save_arrays(d / P.TRACK, desc=desc, valid=np.ones(len(labels), bool))
        P.save_arrays(d / P.LABELS, phone=labels.astype(np.int8))
        return P.TwinPack.open(d)

    assert abs(footage_lead_s(pack_with(0.15, "early")) - 0.15) < 0.025
    assert footage_lead_s(pack_with(ANTICIPATION_S + 0.02, "usual")) == ANTICIPATION_S
    no_labels = tmp_path / "old"
    no_labels.mkdir()
    P.write_meta(no_labels, {"kind": "video", "fps": 25})
    assert footage_lead_s(P.TwinPack.open(no_labels)) == ANTICIPATION_S


def _pauses_pack(tmp_path: Path, name: str, mouth_moves_in_pauses: bool) -> TwinPack:
    """A twin whose footage has 0.6 s pauses every 2 s: its mouth rests in them, or breathes
    open and shut there; its audio model's held-out prediction follows the mouth where it
    speaks and, in the pauses, follows it if it moves, else wanders on its own."""
    from twinstudio.twins import pack as P

    labels, opening = _footage(0.04, noise=0.02, seed=3)
    n = len(labels)
    pauses = np.zeros(n, bool)
    for start in range(20, n - 20, 50):
        pauses[start : start + 15] = True
    labels[pauses] = 0
    rng = np.random.default_rng(4)
    wave = 0.3 + 0.3 * np.sin(np.arange(n) / 1.5)
    filmed = np.where(pauses, wave if mouth_moves_in_pauses else 0.0, opening)
    wander = 0.3 + 0.3 * np.sin(np.arange(n) / 2.3 + 1.0)
    held = np.where(pauses & (not mouth_moves_in_pauses), wander, filmed)
    held = held + 0.02 * rng.standard_normal(n)
    d = tmp_path / name
    d.mkdir()
    desc = np.zeros((n, 4), np.float32)
    desc[:, 0] = filmed
    band = {"p2": 0.0, "p50": 0.3, "p98": 1.0}
    P.write_meta(d, {"kind": "video", "fps": 25, "ranges": {"open": band, "width": band,
                                                             "jaw": band}})  # fmt: skip
    P.save_arrays(d / P.TRACK, desc=desc, valid=np.ones(n, bool))
    P.save_arrays(d / P.LABELS, phone=labels.astype(np.int8))
    np.savez(d / P.AUDIO_MODEL, held_out_open=held.astype(np.float32))
    return TwinPack.open(d)


def test_a_twin_whose_mouth_moves_in_the_recognisers_pauses_lets_them_give_way(
    tmp_path: Path,
) -> None:
    # Whether a twin's recognised pauses give way to its audio model is judged on its own
    # footage; only recognised phones' pauses ever give way.
    from tests.unit.speech.helpers import syllables
    from twinstudio.render.habits import pauses_from_footage
    from twinstudio.render.motion import read_sound
    from twinstudio.twins import pack as P

    moving = _pauses_pack(tmp_path, "moving", mouth_moves_in_pauses=True)
    resting = _pauses_pack(tmp_path, "resting", mouth_moves_in_pauses=False)
    assert pauses_from_footage(moving) == 1.0
    assert pauses_from_footage(resting) == 0.0
    rate = 22050
    dry = syllables(4.0, rate)
    assert read_sound(dry, rate, recognised=True, pack=moving).over_pauses == 1.0
    assert read_sound(dry, rate, recognised=True, pack=resting).over_pauses == 0.0
    assert read_sound(dry, rate, recognised=False, pack=moving).over_pauses == 0.0
    assert read_sound(dry, rate, recognised=True).over_pauses == 0.0
    # An echo still lets a resting twin's pauses give way.
    room = read_sound(syllables(4.0, rate, rt60_s=1.2), rate, recognised=True, pack=resting)
    assert room.over_pauses > 0.5
    # A pack trained before the held-out prediction was kept, or without labels: kept.
    older = tmp_path / "older"
    older.mkdir()
    for name in (P.META, P.TRACK, P.LABELS):
        (older / name).write_bytes((moving.path / name).read_bytes())
    np.savez(older / P.AUDIO_MODEL, weights=np.zeros(3, np.float32))
    assert pauses_from_footage(P.TwinPack.open(older)) == 0.0
    (older / P.LABELS).unlink()
    assert pauses_from_footage(P.TwinPack.open(older)) == 0.0


def test_a_breath_between_phrases_half_closes_and_a_pause_shuts() -> None:
    """Lips close fully in a real pause and before and after the speech, but a brief breath
    between two phrases only pulls them part way (people keep them apart, or open to breathe)."""
    fps = 25.0

    def lowest_in_gap(gap_ms: int) -> tuple[float, np.ndarray]:
        ph = timings([("", 300), ("ɑ", 300), ("", gap_ms), ("ɑ", 300), ("", 300)])
        n = round((1200 + gap_ms) / 1000 * fps)
        norm = normalised_track(ph, n, fps)[0][:, 0]
        lo, hi = round(0.6 * fps), round((0.6 + gap_ms / 1000) * fps)
        return float(norm[lo:hi].min()), norm

    breath, norm = lowest_in_gap(300)
    pause, _ = lowest_in_gap(600)
    assert breath > 0.1  # half closed, not shut
    assert pause < 0.03
    assert norm[:3].max() < 0.03 and norm[-1] < 0.03  # rests before and at the end


def test_the_mouth_holds_its_last_shape_past_the_sound_then_settles() -> None:
    """Shapes lead the sound into speech, not out of it: before a pause the last vowel's shape
    holds until its sound has ended and ``RELEASE_S`` more, then the mouth shuts; a short final
    silence (TTS ends on ~0.15 s) still leaves the last frames closed."""
    from twinstudio.render.motion import RELEASE_S

    fps = 25.0
    ph = timings([("", 300), ("ɑ", 400), ("", 800), ("ɑ", 400), ("", 150)])
    n = round(2.05 * fps)
    norm = normalised_track(ph, n, fps, lead_s=0.1)[0][:, 0]
    sound_end = round(0.7 * fps)  # the first vowel's sound ends at 0.7 s
    assert norm[sound_end - 1] > 0.8  # still open on the last frame of its sound
    assert norm[round((0.7 + RELEASE_S) * fps) - 1] > 0.5  # and through the release
    assert norm[round((0.7 + RELEASE_S + 0.15) * fps)] < 0.05  # then shut in the pause
    assert norm[round(0.3 * fps) - 2] > 0.1  # into speech the shape still leads the sound
    assert norm[-1] < 0.05  # the video ends closed


def test_a_closure_holds_past_its_shifted_end_by_the_usual_lead_at_most() -> None:
    """The lip touches the teeth on /f/ (as lips meet on /p b m/) from its shifted start and
    parts when the sound does for the usual lead; a twin that leads by more moves the release
    earlier too: with a 0.12 s lead a 40 ms /f/ once held the lips shut through the next vowel."""
    fps = 30.0
    ph = timings([("", 300), ("ɑ", 200), ("f", 40), ("ɔ", 80), ("ɹ", 60), ("", 500)])
    n = round(1.18 * fps)  # the /f/ sounds 0.50–0.54 s: frame 15 (0.500–0.533 s)
    usual = normalised_track(ph, n, fps, lead_s=0.04)[0][:, 0]
    early = normalised_track(ph, n, fps, lead_s=0.12)[0][:, 0]
    window = slice(9, 21)  # 0.3–0.7 s: the vowels and the /f/ between them
    assert usual[15] <= 0.08  # the usual lead: shut until the sound ends
    assert (early[11:14] <= 0.08).all()  # 0.12 s: shut from its shifted start (0.38 s)...
    assert early[14] > 0.3 and usual[16] > 0.3  # ...and the /ɔ/ shows 40 ms after its shifted end
    assert (early[window] <= 0.08).sum() <= (usual[window] <= 0.08).sum() + 1  # not held longer


def test_a_vowel_between_two_closures_shows_on_every_frame_it_holds_the_middle_of() -> None:
    """A frame shows a closure when the lips are shut for at least half of it. Closing every
    frame the closure touched by a quarter left "be" in "be mean" (lips part 0.356–0.427 s here:
    /b/'s sound ends, /m/'s shape leads its sound by 40 ms) one open frame of two at 25 fps."""
    fps = 25.0
    ph = timings([("", 310), ("b", 46), ("iː", 111), ("m", 87), ("iː", 174), ("n", 69), ("", 400)])
    norm, closed, _ = normalised_track(ph, round(1.2 * fps), fps)
    shut = np.flatnonzero(closed)
    first_end = shut[np.flatnonzero(np.diff(shut) > 1)[0]]  # the /b/'s last shut frame
    second_start = shut[shut > first_end + 1][0]  # the /m/'s first
    between = norm[first_end + 1 : second_start, 0]
    assert len(between) == 2 and (between > 0.05).all(), norm[6:14, 0]
    # Both closures still shut the lips: frames 0.280-0.320 s and 0.440-0.480 s.
    assert closed[7] and closed[11]


def test_speech_that_starts_at_once_still_opens_on_a_resting_mouth() -> None:
    """TTS starts talking ~60 ms in; a twin that leads its sound by 120 ms would show the first
    vowel on the first frame and lose the /m/ before it. The first half second of speech leads
    less instead: the first frame rests, the first closure gets its frames, the vowel after it
    opens, and from then on shapes lead by the full lead."""
    fps = 30.0
    ph = timings([("", 58), ("m", 46), ("ɑ", 163), ("m", 93), ("e", 400), ("", 600), ("ɑ", 200),
                  ("", 400)])  # fmt: skip
    n = round(sum(t.end_ms - t.start_ms for t in ph) / 1000 * fps)
    norm, closed, _ = normalised_track(ph, n, fps, lead_s=0.12)
    opening = norm[:, 0]
    assert opening[0] < 0.15  # at rest (or already shut)
    assert closed[1:3].all()  # "m…"
    assert (opening[3:6] > 0.25).all()  # "…ɑ…", three frames open
    assert closed[6]  # "…m"
    # Well after the start the full lead applies: the last vowel (sound 1.36–1.56 s) opens
    # 0.12 s early, as it did before.
    unled = normalised_track(ph, n, fps, lead_s=0.0)[0][:, 0]

    def last_vowel_opens(x: np.ndarray) -> int:
        return int(np.flatnonzero(x[30:] > 0.5)[0])

    assert last_vowel_opens(opening) == last_vowel_opens(unled) - round(0.12 * fps)


def test_the_audio_models_share_rises_with_the_echo() -> None:
    from tests.unit.speech.helpers import syllables
    from twinstudio.render.motion import (
        AUDIO_WEIGHT,
        ECHO_AUDIO_WEIGHT,
        SYNTHETIC_AUDIO_WEIGHT,
        SoundReading,
        audio_share,
        read_sound,
    )

    def echo_level(audio: np.ndarray | None, rate: int) -> float:
        return read_sound(audio, rate, recognised=True).echo

    rate = 22050
    dry, echo = syllables(4.0, rate), syllables(4.0, rate, rt60_s=0.5)
    assert echo_level(dry, rate) == 0.0 and echo_level(echo, rate) == 1.0
    assert 0.0 <= echo_level(syllables(4.0, rate, rt60_s=0.3), rate) <= 1.0
    assert echo_level(echo[: rate // 10], rate) == 0.0  # too short to judge
    assert echo_level(None, rate) == 0.0
    assert audio_share(1.0, synthetic=True) == SYNTHETIC_AUDIO_WEIGHT
    assert audio_share(0.0) == AUDIO_WEIGHT  # dry, or aligned to its transcript
    assert audio_share(1.0) == ECHO_AUDIO_WEIGHT > AUDIO_WEIGHT
    assert AUDIO_WEIGHT < audio_share(0.5) < ECHO_AUDIO_WEIGHT
    # The renderer's and the benchmark's one reading: only recognised phones are judged, and
    # their pauses give way only in a heavier echo than their context does.
    room = read_sound(echo, rate, recognised=True)
    assert room.echo == 1.0 and room.share == ECHO_AUDIO_WEIGHT and room.over_pauses > 0.0
    heavy = read_sound(syllables(4.0, rate, rt60_s=1.2), rate, recognised=True)
    assert heavy.echo == 1.0 and heavy.over_pauses > room.over_pauses
    light = read_sound(syllables(4.0, rate, rt60_s=0.3), rate, recognised=True)
    assert light.echo > 0.0 and light.over_pauses == 0.0
    assert read_sound(echo, rate, recognised=False) == SoundReading(0.0, 0.0, AUDIO_WEIGHT)
    assert read_sound(dry, rate, recognised=True) == SoundReading(0.0, 0.0, AUDIO_WEIGHT)
    assert read_sound(echo, rate, recognised=True, synthetic=True).share == SYNTHETIC_AUDIO_WEIGHT


def test_in_an_echo_the_audio_model_drops_the_context_of_misheard_phones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The model's viseme context comes from the recognised phones; in an echo they are misheard,
    # so its prediction from the sound alone is mixed in, in proportion to the echo.
    from twinstudio.render import motion
    from twinstudio.speech.types import Speech
    from twinstudio.twins import audio_model

    n, calls = 50, []

    def predict(path: Path, audio: np.ndarray, rate: int, fps: float, frames: int,
                viseme: np.ndarray | None = None, sound_only: float = 0.0) -> np.ndarray:  # fmt: skip
        calls.append(viseme is not None)  # with context 0.2, from the sound alone 0.6
        value = (1 - sound_only) * 0.2 + sound_only * 0.6 if viseme is not None else 0.6
        return np.full((frames, 3), value, np.float32)

    class Pack:
        fps, meta = 25.0, {"labels": {}}

        def has(self, name: str) -> bool:
            return True

        def file(self, name: str) -> Path:
            return Path("audio_model.npz")

    monkeypatch.setattr(audio_model, "predict_descriptors", predict)
    speech = Speech(np.zeros(22050 * 2, np.float32), 22050, timings([("h", 100), ("ə", 200)]))
    dry = motion._audio_opening(Pack(), speech, n)  # type: ignore[arg-type]
    assert dry is not None and np.allclose(dry, 0.2) and calls == [True]  # one prediction
    mixed = motion._audio_opening(Pack(), speech, n, echo=0.25)  # type: ignore[arg-type]
    assert mixed is not None and np.allclose(mixed, 0.75 * 0.2 + 0.25 * 0.6)
    echoing = motion._audio_opening(Pack(), speech, n, echo=1.0)  # type: ignore[arg-type]
    assert echoing is not None and np.allclose(echoing, 0.6)
