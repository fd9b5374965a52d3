"""Training's parts on synthetic data: labels, speech check, audio model, quality report, loop."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from twinstudio.errors import FootageError
from twinstudio.twins import labels as L
from twinstudio.twins.audio_model import fit_audio_model, predict_descriptors
from twinstudio.twins.loop import blink_frames, choose_loop
from twinstudio.twins.quality import quality_report
from twinstudio.twins.voice import check_speech, lacks_speech, levelled, refuse_without_speech


def test_every_phone_has_a_viseme_and_visemes_have_advice() -> None:
    assert set(L.PHONE_TO_VISEME) == set(L.PHONES)
    assert L.PHONE_VISEME[L.PHONES.index("P")] == L.VISEMES.index("PP")
    assert L.PHONE_VISEME[L.PHONES.index("AA")] == L.VISEMES.index("aa")
    assert L.PHONE_VISEME[0] == 0  # SIL is silence
    assert set(L.VISEME_EXAMPLES) == set(L.VISEMES) - {"sil"}


def test_no_audio_means_no_labels() -> None:
    labels = L.label_frames(None, 25, 40)
    assert labels.source == "none" and labels.viseme.shape == (40,) and not labels.viseme.any()


def test_viseme_counts_only_count_valid_frames() -> None:
    viseme = np.array([0, 1, 1, 10, 10, 10], np.int8)
    valid = np.array([True, True, False, True, True, True])
    counts = L.viseme_counts(viseme, valid)
    assert counts["PP"] == 1 and counts["aa"] == 3 and counts["sil"] == 1
    assert list(counts) == list(L.VISEMES)


def test_no_sound_track_and_silence_are_no_speech() -> None:
    for audio in (None, np.zeros(16000 * 6, np.float32)):
        heard = check_speech(audio)
        assert lacks_speech(heard)
        with pytest.raises(FootageError) as info:
            refuse_without_speech(heard)
        assert info.value.code == "no_speech"


def test_quiet_sound_is_raised_and_loud_sound_left_as_it_is() -> None:
    t = np.arange(16000 * 4) / 16000
    tone = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)  # about -14 LUFS
    same, gain = levelled(tone)
    assert gain == 0.0 and np.array_equal(same, tone)  # louder than -35 LUFS: not lowered
    same, gain = levelled(tone * np.float32(0.1))  # about -34 LUFS: as quiet as footage goes
    assert gain == 0.0
    clipped, gain = levelled(tone * np.float32(4.0))  # peaks past the ceiling: not lowered either
    assert gain == 0.0 and clipped is not None and float(np.abs(clipped).max()) > 1.0
    raised, gain = levelled(tone * np.float32(0.01))  # 40 dB lower: about -54 LUFS
    assert raised is not None and 18.5 < gain < 20.5  # to -35 LUFS
    assert abs(float(np.abs(raised).max()) - 0.3 * 0.01 * 10 ** (gain / 20)) < 1e-4
    unheard, gain = levelled(tone * np.float32(0.0005))  # about -80 LUFS: under BS.1770's gate
    assert gain == 0.0 and unheard is not None and float(np.abs(unheard).max()) < 2e-4
    assert levelled(None) == (None, 0.0)
    assert levelled(np.zeros(16000, np.float32))[1] == 0.0


def test_a_steady_chord_is_not_speech() -> None:
    t = np.arange(16000 * 6) / 16000
    chord = sum(0.2 * np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6))
    heard = check_speech(np.asarray(chord, np.float32))
    assert heard.engine in ("silero", "energy")
    if heard.engine == "silero":  # the energy fallback cannot tell music from speech
        assert lacks_speech(heard) and heard.speech_s < 1.0


def _synthetic_speaker(n: int, fps: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Audio whose loudness follows a random mouth opening (a crude talker), 16 kHz."""
    rng = np.random.default_rng(seed)
    opening = np.clip(np.convolve(rng.random(n), np.ones(5) / 5, "same") - 0.3, 0, None)
    per_sample = np.repeat(opening, 16000 // fps)
    t = np.arange(len(per_sample)) / 16000
    audio = per_sample * (np.sin(2 * np.pi * 180 * t) + 0.5 * rng.standard_normal(len(t)))
    desc = np.stack([opening, 1.0 + 0.1 * opening, 1.5 + 0.5 * opening, 0 * opening], axis=1)
    return audio.astype(np.float32), desc.astype(np.float32)


def test_audio_model_learns_a_mouth_that_follows_loudness(tmp_path: Path) -> None:
    fps, n = 25, 300
    audio, desc = _synthetic_speaker(n, fps)
    viseme = np.where(desc[:, 0] > 0.2, L.VISEMES.index("aa"), L.VISEMES.index("PP"))
    out = tmp_path / "audio_model.npz"
    fit = fit_audio_model(audio, desc, np.ones(n, bool), fps, out, viseme=viseme.astype(np.int8))
    assert fit is not None
    assert fit["r2"] > 0.5 and fit["r"] > 0.7
    assert fit["r2_with_visemes"] >= fit["r2"] - 0.05
    with np.load(out, allow_pickle=False) as z:  # safe format, first-format keys kept
        assert {"weights", "mean", "std", "r2", "audio_weights", "viseme_weights"} <= set(z.files)
    pred = predict_descriptors(out, audio, 16000, fps, n)
    assert pred.shape == (n, 3) and (pred[:, 0] >= 0).all()
    assert np.corrcoef(pred[:, 0], desc[:, 0])[0, 1] > 0.7
    # Visemes recognised in an echo: a share of the sound-only prediction, from one pass.
    context = predict_descriptors(out, audio, 16000, fps, n, viseme=viseme)
    assert np.abs(context - pred).max() > 1e-3  # the visemes change the prediction
    mixed = predict_descriptors(out, audio, 16000, fps, n, viseme=viseme, sound_only=0.25)
    assert np.allclose(mixed, 0.75 * context + 0.25 * pred, atol=1e-6)
    assert np.array_equal(predict_descriptors(out, audio, 16000, fps, n, viseme, 0.0), context)


def test_audio_model_keeps_its_honest_prediction_of_the_footage(tmp_path: Path) -> None:
    # Each usable frame's opening as predicted by a model fitted without its stretch of footage
    # (what the renderer judges the twin's pauses from): the very predictions behind the
    # reported r; frames without a face have none.
    from twinstudio.twins.audio_model import held_out_opening

    fps, n = 25, 300
    audio, desc = _synthetic_speaker(n, fps, seed=2)
    valid = np.ones(n, bool)
    valid[100:130] = False
    viseme = np.where(desc[:, 0] > 0.2, L.VISEMES.index("aa"), L.VISEMES.index("PP"))
    out = tmp_path / "audio_model.npz"
    fit = fit_audio_model(audio, desc, valid, fps, out, viseme=viseme.astype(np.int8))
    assert fit is not None
    held = held_out_opening(out)
    assert held is not None and held.shape == (n,)
    assert np.isnan(held[~valid]).all() and np.isfinite(held[valid]).all()
    r = np.corrcoef(held[valid], desc[valid, 0])[0, 1]
    assert abs(r - fit["r_with_visemes"]) < 1e-3 and r > 0.7
    # ... and not the final model's own, in-sample fit.
    fitted = predict_descriptors(out, audio, 16000, fps, n, viseme=viseme)[:, 0]
    assert np.abs(fitted[valid] - held[valid]).max() > 1e-3
    np.savez(tmp_path / "older.npz", weights=np.zeros(3, np.float32))
    assert held_out_opening(tmp_path / "older.npz") is None


def test_audio_model_needs_enough_frames(tmp_path: Path) -> None:
    audio, desc = _synthetic_speaker(30, 25)
    assert fit_audio_model(audio, desc, np.ones(30, bool), 25, tmp_path / "m.npz") is None


def _report(**overrides: object) -> dict[str, object]:
    args: dict[str, object] = dict(
        iod_px=100.0, face_height_frac=0.4, mouth_sharpness=100.0, face_luma=130.0,
        face_contrast=40.0, opening=np.linspace(0, 0.4, 500), valid_frac=1.0, audio_r2=0.3,
        duration_s=20.0, labels_source="transcript", head_speed=0.2, head_range=0.3,
        speech={"speech_fraction": 0.9, "noisy": False},
        visemes={v: 20 for v in L.VISEMES},
    )  # fmt: skip
    args.update(overrides)
    return quality_report(**args)  # type: ignore[arg-type]


def test_quality_report_has_every_section_and_is_json() -> None:
    import json

    report = _report()
    for key in ("face_size", "sharpness", "lighting", "mouth_coverage", "tracking", "motion",
                "speech", "audio_model_r2", "overall", "advice", "warnings"):  # fmt: skip
        assert key in report
    assert 0 <= report["overall"] <= 100  # type: ignore[operator]
    assert report["mouth_coverage"]["visemes_missing"] == []  # type: ignore[index]
    json.dumps(report)


def test_missing_visemes_become_advice_with_words_to_say() -> None:
    visemes = {v: 20 for v in L.VISEMES} | {"aa": 0, "ou": 1}
    report = _report(visemes=visemes, duration_s=25.0)
    mouth = report["mouth_coverage"]
    assert mouth["visemes_missing"][:2] == ["aa", "ou"]  # type: ignore[index]
    text = " ".join(report["advice"])  # type: ignore[arg-type]
    assert "Record 40 more seconds" in text and "wide-open vowels" in text and "'you'" in text
    assert report["overall"] < _report(duration_s=25.0)["overall"]  # type: ignore[operator]


def test_noisy_sound_is_a_warning_not_a_refusal() -> None:
    report = _report(speech={"speech_fraction": 0.2, "noisy": True})
    assert report["warnings"] == ["noisy_audio"]
    assert "music" in report["advice"][0]  # type: ignore[index]
    assert report["mouth_coverage"]["labels_reliable"] is False  # type: ignore[index]
    assert report["overall"] < _report()["overall"]  # type: ignore[operator]


def test_quiet_sound_raised_by_8_db_or_more_is_a_warning() -> None:
    """The news anchor 30 dB lower (-47 LUFS) is raised 12.2 dB: warned; a clip raised 5 dB
    (footage at -40 LUFS, a little quieter than the quietest dev clip) is not."""
    quiet = _report(speech={"speech_fraction": 0.8, "noisy": False, "gain_db": 12.2})
    assert quiet["warnings"] == ["quiet_audio"]
    assert any("raised by 12 dB" in a and "microphone" in a for a in quiet["advice"])  # type: ignore[union-attr]
    fine = _report(speech={"speech_fraction": 0.8, "noisy": False, "gain_db": 5.0})
    assert fine["warnings"] == [] and not any("microphone" in a for a in fine["advice"])  # type: ignore[union-attr]


def test_a_moving_head_is_advised_to_keep_still() -> None:
    report = _report(head_speed=2.0, head_range=2.0)
    assert report["motion"]["score"] == 0  # type: ignore[index]
    assert any("head moves" in a for a in report["advice"])  # type: ignore[union-attr]


def test_blinks_are_found_and_loop_points_avoid_them() -> None:
    n, fps = 200, 25
    openness = np.full(n, 0.25, np.float32)
    openness[[60, 61, 150, 151]] = 0.05
    blinks = blink_frames(openness, np.ones(n, bool))
    assert blinks[59:63].all() and blinks[149:153].all() and blinks.sum() == 8
    # A head that sits still: every loop point is equally good, so only the blinks decide.
    rng = np.random.default_rng(0)
    lm = np.tile(rng.random((1, 478, 2)).astype(np.float32) * 100, (n, 1, 1))
    lm[:, 33] = (0, 0)
    lm[:, 133] = (10, 0)
    lm[:, 362] = (30, 0)
    lm[:, 263] = (40, 0)
    for blink_at in (0, 1, 2):
        b = np.zeros(n, bool)
        b[[0, 1, 2][: blink_at + 1]] = True
        b[-8:] = True
        start, end = choose_loop(lm, np.ones(n, bool), fps, blinks=b)
        assert not b[start] and not b[end]


def test_loop_points_keep_blinks_out_of_the_crossfade() -> None:
    """The jump is crossfaded over ``CROSSFADE_S`` either side: a blink a few frames from a
    loop point would be dissolved over open eyes (two pairs of eyelids), so it is avoided too."""
    from twinstudio.twins.loop import CROSSFADE_S

    n, fps = 200, 25
    reach = max(2, round(CROSSFADE_S * fps))
    rng = np.random.default_rng(0)
    lm = np.tile(rng.random((1, 478, 2)).astype(np.float32) * 100, (n, 1, 1))
    lm[:, 33], lm[:, 133], lm[:, 362], lm[:, 263] = (0, 0), (10, 0), (30, 0), (40, 0)
    b = np.zeros(n, bool)
    b[[3, 196]] = True  # near the points a still head would loop between (0 and 199)
    start, end = choose_loop(lm, np.ones(n, bool), fps, blinks=b)
    assert not b[max(0, start - reach) : start + reach + 1].any()
    assert not b[max(0, end - reach) : end + reach + 1].any()
    assert end - start > n // 2  # still a long loop


def test_loop_points_match_the_brows_not_only_the_head() -> None:
    """A still head that raises its brows near the end: jumping from raised brows back to
    level ones would dissolve one over the other, so the loop ends before they rise."""
    n, fps = 200, 25
    rng = np.random.default_rng(2)
    lm = np.tile(rng.random((1, 478, 2)).astype(np.float32) * 100, (n, 1, 1))
    lm[:, 33], lm[:, 133], lm[:, 362], lm[:, 263] = (0, 0), (10, 0), (30, 0), (40, 0)
    brows = [70, 63, 105, 66, 107, 300, 293, 334, 296, 336]  # MediaPipe's brow points
    lm[170:, brows, 1] -= 6.0  # raised brows over the last 30 frames
    start, end = choose_loop(lm, np.ones(n, bool), fps)
    assert np.allclose(lm[end, brows], lm[start, brows])
    assert end - start > n // 2


def test_picture_jumps_find_fades_and_cuts_not_head_motion() -> None:
    from twinstudio.twins.loop import frame_thumbnail, picture_jumps

    rng = np.random.default_rng(5)
    change = np.abs(rng.normal(2.5, 1.0, 300)).astype(np.float32)  # a lively talking head
    change[0] = 0.0
    assert not picture_jumps(change).any()
    change[1:4] = [25.0, 30.0, 20.0]  # a fade-in from black over the first frames
    change[200] = 40.0  # a cut
    jumps = picture_jumps(change)
    assert jumps[1:4].all() and jumps[200] and jumps.sum() == 4
    still = np.full(200, 0.4, np.float32)  # a very still shot: the absolute floor decides
    still[2] = 3.0
    assert not picture_jumps(still).any()
    frame = np.zeros((1080, 1920, 3), np.uint8)
    assert frame_thumbnail(frame).shape == (36, 64)


def test_a_loop_never_spans_a_picture_jump() -> None:
    from twinstudio.twins.loop import picture_jumps

    n, fps = 240, 25
    lm = np.tile(np.random.default_rng(1).uniform(100, 300, (1, 478, 2)), (n, 1, 1))
    change = np.full(n, 0.5, np.float32)
    change[2] = change[3] = 8.0  # the footage fades in over its first frames
    start, end = choose_loop(lm.astype(np.float32), np.ones(n, bool) & ~picture_jumps(change), fps)
    assert start >= 4 and end <= n


def test_loop_points_keep_the_head_moving_the_same_way() -> None:
    """A head that sways from side to side passes every position twice a sway, once each way.
    Jumping between two frames where it passes the same place in opposite directions reverses
    the motion in one frame (a snap at every turn of the loop): the loop ends where the head
    moves as it does at the loop's start, though a longer loop exists the other way."""
    n, fps, period = 200, 25, 80
    rng = np.random.default_rng(3)
    lm = np.tile(rng.random((1, 478, 2)).astype(np.float32) * 100, (n, 1, 1))
    lm[:, 33], lm[:, 133], lm[:, 362], lm[:, 263] = (0, 0), (10, 0), (30, 0), (40, 0)
    sway = 20.0 * np.sin(2 * np.pi * np.arange(n) / period)  # half an inter-ocular distance
    lm[:, :, 0] += sway[:, None].astype(np.float32)
    start, end = choose_loop(lm, np.ones(n, bool), fps)
    before = sway[end - 1] - sway[end - 2]  # the motion into the jump
    after = sway[start + 1] - sway[start]  # and out of it
    assert before * after > 0
    step = abs(sway[start] - sway[end - 1])  # what the jump shows between two frames
    assert step <= 1.2 * np.abs(np.diff(sway)).max()
    assert end - start >= period  # still at least a whole sway


def test_a_head_that_drifts_all_along_gets_a_loop_that_bounces() -> None:
    """No frame near the end looks like one near the start when the head sinks the whole
    time: a jump back would sweep it up at every turn, so the loop plays back and forth, its
    turns where the head is stillest. A head that sways keeps its jump (and crossfade)."""
    from twinstudio.twins.loop import plan_loop

    n, fps = 200, 25
    rng = np.random.default_rng(4)
    lm = np.tile(rng.random((1, 478, 2)).astype(np.float32) * 100, (n, 1, 1))
    lm[:, 33], lm[:, 133], lm[:, 362], lm[:, 263] = (0, 0), (10, 0), (30, 0), (40, 0)
    sway = lm.copy()
    sway[:, :, 0] += (20.0 * np.sin(2 * np.pi * np.arange(n) / 80))[:, None].astype(np.float32)
    assert not plan_loop(sway, np.ones(n, bool), fps).bounce
    drift = lm.copy()
    speed = np.full(n, 0.4, np.float32)
    speed[[30, 180]] = 0.0  # two moments of rest, one near each end
    drift[:, :, 1] += np.cumsum(speed)[:, None]  # sinks by 80 px (two IODs) over the clip
    plan = plan_loop(drift, np.ones(n, bool), fps)
    assert plan.bounce and plan.as_meta() == {"start": plan.start, "end": plan.end, "bounce": True}
    assert plan.start in (29, 30) and plan.end - 1 in (179, 180)
    assert plan_loop(sway, np.ones(n, bool), fps).as_meta().keys() == {"start", "end"}


def test_long_sound_is_cut_into_utterances_at_its_quiet_moments() -> None:
    rng = np.random.default_rng(5)
    rate = L.RATE
    audio = (0.3 * rng.standard_normal(70 * rate)).astype(np.float32)
    quiet = (25.0, 25.4)  # the one pause within reach of the first cut
    audio[int(quiet[0] * rate) : int(quiet[1] * rate)] *= 0.001
    spans = L.utterances(audio, longest_s=30.0)
    assert spans[0][0] == 0 and spans[-1][1] == len(audio)
    assert all(a[1] == b[0] for a, b in pairwise(spans))  # no gap, no overlap
    assert all(0 < end - start <= 30 * rate for start, end in spans)
    assert all(start % 160 == 0 for start, _ in spans)  # on pocketsphinx's 10 ms frames
    assert quiet[0] * rate < spans[0][1] < quiet[1] * rate  # the cut lands in the pause
    assert L.utterances(audio[: 20 * rate]) == [(0, 20 * rate)]  # short sound: one utterance
