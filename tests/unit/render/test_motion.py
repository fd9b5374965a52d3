"""Motion: phoneme timings → smooth mouth targets with closures and rests."""

from __future__ import annotations

import numpy as np

from twinstudio.render.motion import mouth_track, normalised_track, viseme
from twinstudio.speech.types import Timing

RANGES = {
    "open": {"p2": 0.01, "p50": 0.1, "p98": 0.3},
    "width": {"p2": 0.6, "p50": 0.75, "p98": 0.9},
    "jaw": {"p2": 1.0, "p50": 1.1, "p98": 1.3},
}


def _timings(spec: list[tuple[str, int]]) -> list[Timing]:
    out, t = [], 0
    for sym, ms in spec:
        out.append(Timing(sym, t, t + ms))
        t += ms
    return out


def test_lips_close_on_bilabials() -> None:
    ph = _timings([("", 200), ("a", 150), ("b", 40), ("a", 150), ("m", 60), ("ɑː", 200), ("", 200)])
    norm, closed, _ = normalised_track(ph, 30, 30.0)
    for p in ph:
        if p.symbol in ("b", "m"):
            c = int((p.start_ms + p.end_ms) / 2 / 1000 * 30)
            assert norm[c, 0] == 0.0 and closed[c]
    assert norm[:, 0].max() > 0.6  # the open vowels do open


def test_rest_in_silence_including_breaks() -> None:
    ph = _timings([("h", 80), ("ɛ", 120), ("l", 60), ("oʊ", 200), ("", 900), ("a", 200), ("", 400)])
    norm, _, speaking = normalised_track(ph, round(1.96 * 25), 25.0)
    pause = slice(int(0.6 * 25), int(1.2 * 25))  # the middle of the 900 ms break
    assert np.all(norm[pause, 0] < 0.03)
    assert not speaking[pause].any()
    assert norm[-3:, 0].max() < 0.05


def test_targets_are_smooth() -> None:
    rng = np.random.default_rng(0)
    vowels = ["a", "i", "u", "ə", "ɛ", "o"]
    cons = ["t", "s", "k", "n", "l", "ɹ"]
    spec = [
        (str(rng.choice(vowels if k % 2 else cons)), int(rng.integers(50, 160))) for k in range(60)
    ]
    ph = _timings(spec)
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
    ph = _timings([("", 100), ("ɑ", 300), ("", 100)])
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
    ph = _timings([("", 400)] + [("a", 120), ("p", 80), ("ə", 120), ("t", 80)] * 6 + [("", 600)])
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


def test_spread_matches_the_person_and_expressiveness_scales_it() -> None:
    ph = _timings([("", 200)] + [("ɑ", 150), ("m", 60), ("ɪ", 120), ("s", 80)] * 8 + [("", 200)])
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
    piper = _timings([("", 100), ("b", 100), ("a", 100), ("ɪ", 100), ("f", 100), ("uː", 100)])
    sphinx = _timings([("", 100), ("b", 100), ("aɪ", 200), ("f", 100), ("u", 100)])
    a = viseme_frames(piper, 30, 50.0, classes)
    b = viseme_frames(sphinx, 30, 50.0, classes)
    names = [classes[i] for i in a[::5]]
    assert names == ["sil", "PP", "aa", "ih", "FF", "ou"]
    assert [classes[i] for i in b[::5]] == ["sil", "PP", "aa", "aa", "FF", "ou"]
    assert viseme("aɪ")[0] > viseme("ɪ")[0]  # the single symbol opens like its first vowel
