"""Motion: phoneme timings → one mouth-shape target per output frame.

Each phoneme maps to a *viseme* (``render.visemes``, which also places other languages' sounds):
a normalised opening (0 closed … 1 the person's widest), a width (-1 rounded/pursed … 0 rest …
+1 spread) and a *dominance* (how strongly it imposes itself on its neighbours). Coarticulation
follows Cohen & Massaro (1993): at time t the target is the dominance-weighted mean of all nearby
visemes, each dominance decaying exponentially away from its phoneme; so a /t/ between two vowels
takes their shape, while /p b m/ pull everything to closed. Hard constraints are then reapplied
after smoothing: lips *touch* during every /p b m/ (at least one frame, even for a 30 ms /b/),
teeth on lip for /f v/ (lips nearly meeting for /β ɸ/). Silences relax to the rest shape: fully
once they last ``SILENCE_REST_S`` (``""`` phonemes, including SSML ``<break>`` pauses) or open or
close the speech, only part way in a brief breath between phrases. Shapes lead the sound into
speech but not out of it: before such a pause the last shape holds ``RELEASE_S`` past the end of
its sound, then the mouth settles.

Targets are finally mapped into the person's own descriptor space (``open``, ``width``, ``jaw`` in
IOD units, from the pack's percentile ranges), so that "1" means *their* widest opening.

When the twin has its own audio-to-mouth model (``audio_model.npz``, fitted on the footage), its
prediction from the audio being rendered is blended into the opening (``blend_audio``): phonemes
give the articulation (closures, rounding, timing of each sound), the person's model gives how
wide *this* person opens on *this* stretch of sound (stress, loudness). The prediction is used for
its shape only (standardised over the speech, rescaled to the phoneme track's spread), because a
TTS voice is louder or quieter than the footage the model learnt from. Its share is
``AUDIO_WEIGHT`` for recorded speech (perhaps the person's own) and half that for a TTS voice
(``SYNTHETIC_AUDIO_WEIGHT``), another speaker's, on which the model predicts less. When the
phones were recognised from a recording (custom audio without its transcript) that echoes, the
recogniser mishears them: the model's share rises to ``ECHO_AUDIO_WEIGHT`` (``audio_share``;
the echo is measured by ``speech.clarity``), its viseme context, read from those phones,
gives way to its prediction from the sound alone; in a heavier echo the phones' pauses give
way too, the prediction shaping them as well (``blend_audio``'s ``over_pauses``), for the
recogniser hears silence in the echo's tail and speech in its pauses. Closures still shut the
lips. Some people's mouths follow their sound where the recogniser hears a pause whatever the
room (they keep talking shapes or breathe open): ``habits.pauses_from_footage`` asks the twin's
own footage whether the model's prediction over the pauses would have followed its mouth
better, and lets them give way as far for recognised phones in any sound. Pauses give way only
where there is sound (``heard_frames``): from digital silence the model predicts nothing.
``read_sound`` makes these readings, once per piece. Both Piper's split
diphthongs ("a", "ɪ") and pocketsphinx's single symbols ("aɪ") are understood.

How far mouth shapes lead the sound (``ANTICIPATION_S``, 40 ms) differs between people and
recordings: a twin's own footage may say otherwise (``habits.footage_lead_s``), as it says how
widely its mouth swings and whether it rests in the recogniser's pauses (``render.habits``).
A closure (/p b m/, /f v/) starts with its shifted shape and holds past its shifted end by at
most the usual lead (``closure_hold_s``): what a twin leads by beyond that is its footage's own
timing, and moves the release as it moves every other shape. Speech that starts from silence
within its lead of the video's start (TTS talks ~60 ms in), or of a streamed piece's (each
piece's track is made alone), cannot be led in full: the first ``LEAD_IN_S`` of it leads less,
from the end of the first frame up to the full lead, so the video opens on a resting mouth and
each piece's first word keeps its first sound.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from twinstudio.render.visemes import CLOSED, NEARLY_CLOSED, lip_symbol, viseme, viseme_class
from twinstudio.speech.types import Speech, Timing

if TYPE_CHECKING:
    from twinstudio.twins.pack import TwinPack

_LOGGER = logging.getLogger(__name__)

DECAY_S = 0.045  # dominance falls to 1/e this far outside its phoneme
# A pause longer than this pulls the mouth shut with the weight of a lip closure; a shorter one
# (a breath between two phrases) pulls weakly, so the mouth only half closes in a 0.3 s gap and
# still shuts in one of 0.45 s or more. At 0.12 s every breath closed the lips, where people keep
# them apart or open them to breathe (katie_hill opens to twice her speaking opening in a 0.33 s
# gap): self-reconstruction on the 10 dev clips, with the held-back part both at the end and at
# the start of each clip (train on the other 70 %), selected-path r 0.497 / 0.255 → 0.508 / 0.288
# (0.3 s: 0.496 / 0.270; 0.6 s: 0.514 / 0.284), offsets unchanged (2026-12-03).
SILENCE_REST_S = 0.45
ANTICIPATION_S = 0.04  # mouth shapes lead the sound by this much (measured: r and A/V lag)
# The mouth leads the sound into speech, not out of it: it holds its last shape this long after
# the last sound before a pause, then settles. In the dev clips' footage (36 ends of speech
# before a silence of 0.25 s or more, both 70 % training parts), no mouth began to close before
# its sound ended; where it closed within 0.5 s (11 times), it was half shut a median 0.2 s after
# the sound (0.04–0.41 s); elsewhere it stayed open to breathe. Leading the pause too had shut
# every mouth 40–110 ms *before* the phrase's last sound ended. Self-reconstruction, held back at
# the end / the start of each clip: selected-path r 0.504 / 0.291 → 0.528 / 0.289, and
# man_suit_window's A/V offset −6 → −1 (it holds its mouth open after its last word); release
# 0 s: 0.510 / 0.288, 0.1 s: 0.525 / 0.289, 0.3 s: 0.525 / 0.289 (2026-12-03).
RELEASE_S = 0.2
SETTLE_S = 0.15  # a pause keeps at least this much of itself, after its release, to settle in
# Speech that starts from silence too soon for its lead (``_led``) catches up with it over this
# much of its start. A blazer twin (lead 120 ms) opened Piper's "Mom may…" (/m/ at 58 ms) on the
# vowel: the /m/ fell before the first frame, which showed teeth. Over 0.25 s the catch-up left
# that vowel one open frame of three at 25 fps; over 0.5 s it keeps all three. Self-
# reconstruction does not move: r 0.523 / 0.345 on the same packs (2026-12-07); of its 20 held-
# back sounds 17 start on a sound at 0 ms, and 3 on silence 0.36–0.66 s long (room to lead).
LEAD_IN_S = 0.5


# How long a closure holds past its shifted end. It held until its sound ended (the lead's
# length), so with the blazer twins' measured leads (115–129 ms) a 34 ms /f/ kept the lips shut
# for five frames at 30 fps and swallowed the vowel after it ("for" in "thanks for joining" had
# no open frame; "-bers for the" was shut for 0.4 s, found by looking at a TTS render). Capped
# at the usual lead, twins leading by 40 ms or less are unchanged. Self-reconstruction on packs
# trained afresh (2026-12-07, both 30 % windows), target-track r end / start: held to the sound
# 0.549 / 0.298, the cap 20 / 30 / 40 / 50 / 67 ms 0.549 / 0.293, 0.551 / 0.307, **0.554 /
# 0.309**, 0.554 / 0.306, 0.551 / 0.306; released at the shifted end for everyone 0.548 / 0.297.
# Rendered: r 0.520 → 0.524 and 0.320 → 0.326, only the four blazer packs moving (+0.01 … +0.05).
def closure_hold_s(lead_s: float) -> float:
    """Seconds a /p b m/ or /f v/ closure holds past its shifted end: the lead, at most
    ``ANTICIPATION_S``."""
    return min(lead_s, ANTICIPATION_S)


@dataclass(frozen=True)
class MouthTrack:
    """Per-frame targets. ``norm``: (T, 2) normalised open/width; ``desc``: (T, 3) open, width,
    jaw in the person's IOD units; ``closed``: frames where lips must touch; ``speaking``."""

    norm: np.ndarray
    desc: np.ndarray
    closed: np.ndarray
    speaking: np.ndarray

    def __len__(self) -> int:
        return len(self.norm)


def n_output_frames(duration_s: float, fps: float) -> int:
    return max(1, round(duration_s * fps))


def _led(times: np.ndarray, lead_s: float, onset_s: float | None, frame_s: float) -> np.ndarray:
    """Phoneme boundaries ``times`` (s) moved ``lead_s`` earlier; but where speech starts from
    silence so soon that its first shape would lead into the video's first frame, the first
    ``LEAD_IN_S`` of speech leads less: its first shape starts as that frame ends (or with its
    sound, if sooner), and the lead grows linearly to its full length over the ramp."""
    led = times - lead_s
    if onset_s is None:
        return led
    first = min(onset_s, frame_s)
    if onset_s - lead_s >= first:
        return led
    span = max(LEAD_IN_S, lead_s + frame_s)  # the ramp never runs backwards
    ramp = (times >= onset_s) & (times < onset_s + span)
    frac = (times[ramp] - onset_s) / span
    led[ramp] = first + frac * (onset_s + span - lead_s - first)
    return led


def _phoneme_arrays(
    phonemes: Sequence[Timing], lead_s: float, frame_s: float
) -> tuple[np.ndarray, ...]:
    # The lips move a little before the sound they make (the acoustic onset of /p/ is the lips
    # *opening*; vowels' shapes are set during the preceding consonant): shift shapes earlier.
    sound_starts = np.array([p.start_ms for p in phonemes], np.float64) / 1000
    vis = np.array([viseme(p.symbol) for p in phonemes], np.float64).reshape(-1, 3)
    silent = np.array([not p.symbol.strip() for p in phonemes], bool)
    voiced = np.flatnonzero(~silent)
    onset = float(sound_starts[voiced[0]]) if len(voiced) and silent[0] else None
    starts = _led(sound_starts, lead_s, onset, frame_s)
    ends = _led(np.array([p.end_ms for p in phonemes], np.float64) / 1000, lead_s, onset, frame_s)
    # Long silences dominate more (the mouth must settle); short ones barely (a breath). Before
    # the first sound and after the last the mouth rests, however short the silence.
    dur = ends - starts
    settle = dur > SILENCE_REST_S
    settle[[0, -1]] = True
    vis[silent, 2] = np.where(settle[silent], 2.0, 0.4)
    # A pause that settles the mouth starts RELEASE_S after the sound ends, not lead_s before it;
    # the last sound's shape holds until then. A short one (TTS ends on 0.15 s of silence) keeps
    # SETTLE_S of itself to shut the mouth in, so a video never ends on a half-open one.
    after_sound = np.flatnonzero(silent[1:] & settle[1:] & ~silent[:-1]) + 1
    if len(after_sound):
        release = np.clip(dur[after_sound] - SETTLE_S, 0.0, RELEASE_S)
        sound_end = sound_starts[after_sound]  # the pause's own start, before the lead
        starts[after_sound] = np.minimum(sound_end + release, ends[after_sound])
        ends[after_sound - 1] = np.maximum(ends[after_sound - 1], starts[after_sound])
    if silent[-1]:  # after the last sound the mouth rests to the end, whatever the lead
        ends[-1] += lead_s + 1.0
    return starts, ends, vis, silent


def normalised_track(
    phonemes: Sequence[Timing], n_frames: int, fps: float, expressiveness: float = 1.0,
    lead_s: float = ANTICIPATION_S,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """(T, 2) open/width in viseme units, plus closed and speaking masks. ``lead_s``: how far
    mouth shapes lead the sound (``ANTICIPATION_S``, or the twin's own,
    ``habits.footage_lead_s``)."""
    norm = np.zeros((n_frames, 2), np.float64)
    closed = np.zeros(n_frames, bool)
    speaking = np.zeros(n_frames, bool)
    if not phonemes or n_frames == 0:
        return norm.astype(np.float32), closed, speaking
    starts, ends, vis, silent = _phoneme_arrays(phonemes, lead_s, 1.0 / fps)
    sub = 4  # supersample 4x per frame then average: short phonemes are not aliased away
    # Frames per block: memory stays flat however long the speech. 64 rather than 256: each
    # block's (samples × nearby phonemes) arrays then stay in the cache, and a 729-frame piece's
    # transient fell from 8.4 to 0.8 MB and its time from 0.22 to 0.01 s (2026-12-02; the
    # output moves by < 2e-6, from the e^-12 tails of phonemes that fall out of reach).
    chunk = 64
    for f0 in range(0, n_frames, chunk):
        f1 = min(n_frames, f0 + chunk)
        t = (np.arange(f0 * sub, f1 * sub) + 0.5) / (fps * sub)
        near = np.flatnonzero((ends > t[0] - 12 * DECAY_S) & (starts < t[-1] + 12 * DECAY_S))
        if len(near) == 0:
            continue
        before = np.clip(starts[near][None, :] - t[:, None], 0, None)
        after = np.clip(t[:, None] - ends[near][None, :], 0, None)
        dist = before + after  # 0 inside the phoneme
        dom = vis[near][None, :, 2] * np.exp(-dist / DECAY_S)
        w = dom / np.maximum(dom.sum(axis=1, keepdims=True), 1e-12)
        norm[f0:f1] = (w @ vis[near][:, :2]).reshape(f1 - f0, sub, 2).mean(axis=1)
        inside = (dist == 0).reshape(f1 - f0, sub, -1).any(axis=1)
        speaking[f0:f1] = inside[:, ~silent[near]].any(axis=1)
    norm = _smooth(norm, sigma_frames=0.8 * fps / 30)
    norm[:, 0] *= expressiveness
    norm[:, 1] *= min(1.5, 0.5 + 0.5 * expressiveness)
    # Hard constraints after smoothing: lips meet on p/b/m, nearly meet on f/v (and β/ɸ), on
    # every frame whose middle the closure holds (a 30 ms one still gets its frame). Frames the
    # closure touched by a quarter were shut before, which left a vowel between two closures one
    # open frame of two ("be" in "be mean": lips apart 71 ms). Self-reconstruction on the same
    # packs (2026-12-07), rendered r end / start 0.522 / 0.345 → 0.523 / 0.345, selected-path r
    # 0.529 / 0.335 → 0.530 / 0.337; only three clips moved, each up (blue backdrop +0.007 at
    # the end, ed_markey +0.004 at the start) but for the blazer portrait (−0.001).
    symbols = [lip_symbol(p.symbol) for p in phonemes]
    centres = (starts + ends) / 2
    for k, s in enumerate(symbols):
        if s in CLOSED or s in NEARLY_CLOSED:
            lo = int(np.ceil(starts[k] * fps - 0.5))
            hi = int(np.floor((ends[k] + closure_hold_s(lead_s)) * fps - 0.5)) + 1
            frames = range(max(0, lo), min(n_frames, max(hi, lo + 1)))
            if len(frames) == 0:
                c = min(n_frames - 1, int(centres[k] * fps))
                frames = range(c, c + 1)
            for f in frames:
                if s in CLOSED:
                    norm[f, 0] = 0.0
                    closed[f] = True
                else:
                    norm[f, 0] = min(norm[f, 0], 0.08)
    norm[:, 0] = np.clip(norm[:, 0], 0.0, 1.2)
    norm[:, 1] = np.clip(norm[:, 1], -1.2, 1.2)
    return norm.astype(np.float32), closed, speaking


def _smooth(x: np.ndarray, sigma_frames: float) -> np.ndarray:
    if sigma_frames <= 0.1 or len(x) < 3:
        return x
    r = max(1, int(3 * sigma_frames))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma_frames) ** 2)
    k /= k.sum()
    padded = np.pad(x, ((r, r), (0, 0)), mode="edge")
    return np.stack([np.convolve(padded[:, c], k, mode="valid") for c in range(x.shape[1])], axis=1)


def to_descriptors(norm: np.ndarray, ranges: dict[str, dict[str, float]]) -> np.ndarray:
    """Map normalised open/width into the person's (open, width, jaw) IOD-unit descriptors."""
    o, wd, j = ranges["open"], ranges["width"], ranges["jaw"]
    opening = o["p2"] + norm[:, 0] * (o["p98"] - o["p2"])
    wide = np.where(
        norm[:, 1] >= 0,
        wd["p50"] + norm[:, 1] * (wd["p98"] - wd["p50"]),
        wd["p50"] + norm[:, 1] * (wd["p50"] - wd["p2"]),
    )
    jaw = j["p2"] + np.clip(norm[:, 0], 0, 1.2) * (j["p98"] - j["p2"])
    return np.stack([opening, wide, jaw], axis=1).astype(np.float32)


# Audio-model prediction in blocks of this length (+ 1 s margins), so that its features (MFCC
# frames every 10 ms, FFTs in float64) never exist for a whole piece of speech: a 24 s piece
# took a 37.5 MB transient in 30 s blocks, 11 MB in 5 s ones, with the same output (±1e-8);
# that transient, once per piece, set the peak of a long render. Since ``audio_model.mfcc``
# transforms a second of audio at a time, a 729-frame piece's transient is 2.4 MB (9.3 MB
# before; 2026-12-02, tracemalloc). Each piece's transients meet the render's steady buffers at
# a different moment; the higher they reach, the likelier a long render (30 pieces) beats a
# short one's peak (4 pieces).
PREDICT_BLOCK_S = 5.0
AUDIO_WEIGHT = 0.6  # share of the person's audio model in the opening while speaking
# The same for a synthetic voice (TTS; ``RenderOptions.synthetic_voice``). The model learnt how
# *this* person's voice goes with their mouth; a TTS voice is another speaker's. Simulated on
# the dev clips' packs (2026-12-06; seven clips' twins held back at the end, six at the start):
# each clip's own held-back sound and recognised phones, blended with *other* twins' models,
# against its real opening: track r 0.384 / 0.315 (last / first 30 %) with phones alone,
# 0.398 / 0.323 at a share of 0.15, 0.403 / 0.322 at 0.3, 0.393 / 0.313 at 0.45, 0.366 / 0.297
# at 0.6; with the clip's own model at 0.6, 0.499 / 0.344. 0.3 beat 0.6 on 11 of 13 halves.
SYNTHETIC_AUDIO_WEIGHT = 0.3
# The same for phones recognised from a recording that echoes (``speech.clarity``). Measured on
# the dev clips with an untreated room's echo added (``benchmarks/recode.py room``, RT60 0.5 s;
# 2026-12-07, each clip's twin trained on its echoing first 70 %, target track r against the
# real opening of the last 30 %): 0.129 with recognised phones alone, 0.333 at the usual share
# of 0.6, 0.388 at 0.8, 0.414 at 1.0. The same sound aligned to its known words instead (the
# words recognised in the dry sound, as a transcript): 0.425 alone, 0.509 at 0.6, 0.470 at 1.0;
# so a transcript keeps the usual share. Dry sound at 1.0 would lose: 0.553 at 0.6, 0.499 at 1.0.
# Other rooms, every clip at one share (0.6 / 1.0): RT60 0.3 s 0.426 / 0.465, RT60 0.8 s
# 0.190 / 0.168 (there nothing reads the sound well: the model's own prediction 0.359, the
# recognised phones' pauses and closures drag the track down). So the blend also reaches into
# the phones' pauses in a heavier echo (``over_pauses``, PAUSES_…_FALL_DB_S below). Not the
# closures too: over every frame, closures left to the model, 0.8 s 0.365 against 0.383.
ECHO_AUDIO_WEIGHT = 1.0
# The echo level (``read_sound``'s ``echo``) rises from 0 to 1 as the speech's fastest fall slows from
# DRY_FALL_DB_S to ECHO_FALL_DB_S: the dev clips' held-back speech falls at 240–532 dB/s dry,
# 132–222 dB/s in the 0.5 s room (110–194 in the 0.8 s one; 155–273 in the 0.3 s one); their
# telephone-band copies at 241–545 (more of the model did not help there: track r 0.277 at 0.6,
# 0.229 at 1.0), with a fan's noise at 101–354 (0.269 → 0.279).
DRY_FALL_DB_S, ECHO_FALL_DB_S = -240.0, -180.0


# The recogniser's pauses give way to the audio model only in a heavier echo: ``over_pauses``
# rises from 0 at PAUSES_DRY_FALL_DB_S to 1 at PAUSES_ECHO_FALL_DB_S. The phones' pauses are
# right for some people and not others whatever the echo: with the prediction over every frame
# the blue-backdrop, ed_markey and katie_hill tracks gain even in the lightest room (they keep
# talking shapes or breathe open where the recogniser heard silence), the suit's and both
# blazers' lose in every room (their mouths do rest in the pauses). Tracks in the rooms of
# RT60 0.3 / 0.5 / 0.8 s and the fan's noise (packs trained afresh at efc05f6, 2026-12-07):
# pauses kept 0.436 / 0.407 / 0.204 / 0.272; following the echo level (−240 … −180 dB/s)
# 0.419 / 0.409 / 0.376 / 0.257; −200 … −130 dB/s **0.438 / 0.415 / 0.354 / 0.258**; −180 …
# −130 0.443 / 0.412 / 0.347 / 0.258.
PAUSES_DRY_FALL_DB_S, PAUSES_ECHO_FALL_DB_S = -200.0, -130.0


@dataclass(frozen=True)
class SoundReading:
    """How the renderer reads a piece's sound (``read_sound``): ``echo`` 0 (dry, or too short
    to judge) … 1 (a room's echo; DRY_FALL_DB_S … ECHO_FALL_DB_S of the fastest fall, the audio
    model's share and its sound-only prediction follow it), ``over_pauses`` 0–1 (how far the
    model shapes the phones' pauses, ``blend_audio``) and ``share`` (``audio_share``)."""

    echo: float = 0.0
    over_pauses: float = 0.0
    share: float = AUDIO_WEIGHT


def _ramp(fall: float | None, dry: float, echoing: float) -> float:
    if fall is None:
        return 0.0
    return float(np.clip((fall - dry) / (echoing - dry), 0.0, 1.0))


def audio_share(echo: float = 0.0, *, synthetic: bool = False) -> float:
    """The twin's audio model's share in the opening: ``SYNTHETIC_AUDIO_WEIGHT`` for a TTS voice;
    for a recording ``AUDIO_WEIGHT``, rising to ``ECHO_AUDIO_WEIGHT`` with the ``echo`` level of
    sound whose phones were recognised (0 for a recording aligned to its transcript)."""
    if synthetic:
        return SYNTHETIC_AUDIO_WEIGHT
    return AUDIO_WEIGHT + float(np.clip(echo, 0.0, 1.0)) * (ECHO_AUDIO_WEIGHT - AUDIO_WEIGHT)


def read_sound(
    audio: np.ndarray | None,
    sample_rate: int,
    *,
    recognised: bool,
    synthetic: bool = False,
    pack: TwinPack | None = None,
) -> SoundReading:
    """How to blend the twin's audio model for speech about to be rendered: its echo is judged
    (once) only where its phones were ``recognised`` (custom audio without its transcript);
    ``synthetic``: a TTS voice; ``pack``: the twin, whose own footage may let the recognised
    phones' pauses give way whatever the echo (``habits.pauses_from_footage``). The renderer and
    the benchmark both read sound with it."""
    if not recognised or audio is None:
        return SoundReading(share=audio_share(synthetic=synthetic))
    from twinstudio.render.habits import pauses_from_footage
    from twinstudio.speech.clarity import fastest_fall_db_s

    fall = fastest_fall_db_s(audio, sample_rate)
    echo = _ramp(fall, DRY_FALL_DB_S, ECHO_FALL_DB_S)
    pauses = _ramp(fall, PAUSES_DRY_FALL_DB_S, PAUSES_ECHO_FALL_DB_S)
    if pack is not None:
        pauses = max(pauses, pauses_from_footage(pack))
    return SoundReading(echo, pauses, audio_share(echo, synthetic=synthetic))


def blend_audio(
    norm: np.ndarray,
    closed: np.ndarray,
    speaking: np.ndarray,
    audio_open: np.ndarray,
    fps: float,
    weight: float = AUDIO_WEIGHT,
    over_pauses: float | np.ndarray = 0.0,
) -> np.ndarray:
    """Blend an audio-predicted opening (any units, one per frame) into ``norm[:, 0]``.

    Only while speaking (the weight fades in and out over ~100 ms, so pauses still rest), and
    never on frames where the lips must meet. ``over_pauses`` (0–1, one for all frames or one
    per frame): how far the blend also reaches into the phones' pauses, whose timing is not
    trusted (recognised in an echo): at 1 the prediction shapes every frame but the closures,
    scaled over all of them.
    """
    out = norm.copy()
    n = min(len(norm), len(audio_open))
    reach = np.clip(np.asarray(over_pauses, np.float64), 0.0, 1.0)
    reach = np.broadcast_to(reach, (n,)) if reach.ndim == 0 else reach[:n]
    on = speaking[:n]
    if n < 3 or weight <= 0 or (not reach.any() and on.sum() < 3):
        return out
    pred = _smooth(np.asarray(audio_open[:n], np.float64)[:, None], 0.7 * fps / 30)[:, 0]
    counted = np.where(on, 1.0, reach)  # each frame's weight in the two tracks' statistics
    p_mu, p_sd = _weighted_stats(pred, counted)
    t_mu, t_sd = _weighted_stats(norm[:n, 0].astype(np.float64), counted)
    if p_sd < 1e-9:
        return out
    scaled = t_mu + (pred - p_mu) / p_sd * max(t_sd, 1e-3)
    w = _smooth(on.astype(np.float64)[:, None], 0.1 * fps)[:, 0]
    w = ((1 - reach) * w + reach) * weight
    w[closed[:n]] = 0.0
    out[:n, 0] = np.clip((1 - w) * norm[:n, 0] + w * scaled, 0.0, 1.2)
    return out.astype(np.float32)


def _weighted_stats(x: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation of ``x`` with each value counted ``weights`` times."""
    mu = float(np.average(x, weights=weights))
    return mu, float(np.sqrt(np.average((x - mu) ** 2, weights=weights)))


def mouth_track(
    phonemes: Sequence[Timing],
    n_frames: int,
    fps: float,
    ranges: dict[str, dict[str, float]],
    expressiveness: float = 1.0,
    audio_open: np.ndarray | None = None,
    audio_weight: float = AUDIO_WEIGHT,
    open_std: float | None = None,
    lead_s: float = ANTICIPATION_S,
    over_pauses: float | np.ndarray = 0.0,
) -> MouthTrack:
    """The full motion step: per-frame targets in both normalised and descriptor units.

    ``audio_open``: the person's audio-model opening for each frame, blended in when given.
    ``open_std``: the spread of the person's own opening while filmed (IOD units); the track's
    swings are widened to it (× ``expressiveness``), because coarticulation and smoothing pull
    every target towards the middle and a mouth that hides at its average shape looks dubbed.
    """
    norm, closed, speaking = normalised_track(phonemes, n_frames, fps, 1.0, lead_s)
    if audio_open is not None:
        norm = blend_audio(norm, closed, speaking, audio_open, fps, audio_weight, over_pauses)
    desc = to_descriptors(norm, ranges)
    if open_std is not None and n_frames >= 3:
        desc[:, 0] = _match_spread(desc[:, 0], open_std, ranges["open"])
    if expressiveness != 1.0:
        rest = ranges["open"]["p2"]
        desc[:, 0] = rest + (desc[:, 0] - rest) * expressiveness
    norm = norm.copy()
    span = max(1e-6, ranges["open"]["p98"] - ranges["open"]["p2"])
    norm[:, 0] = np.clip((desc[:, 0] - ranges["open"]["p2"]) / span, 0.0, 1.5)
    norm[:, 1] *= min(1.5, 0.5 + 0.5 * expressiveness)
    desc = to_descriptors(norm, ranges)
    return MouthTrack(norm.astype(np.float32), desc, closed, speaking)


MAX_SPREAD_GAIN = 2.5


def _match_spread(
    opening: np.ndarray, target_std: float, open_range: dict[str, float]
) -> np.ndarray:
    """Scale ``opening``'s swings about its mean so its std is ``target_std`` (gain 1..2.5),
    keeping closed lips closed (never below the person's 2nd percentile)."""
    sd = float(opening.std())
    if sd < 1e-6 or target_std <= 0:
        return opening
    gain = float(np.clip(target_std / sd, 1.0, MAX_SPREAD_GAIN))
    mu = float(opening.mean())
    lo, hi = open_range["p2"], open_range["p98"] + 0.2 * (open_range["p98"] - open_range["p2"])
    return np.clip(mu + (opening - mu) * gain, lo, hi).astype(np.float32)


def viseme_frames(
    phonemes: Sequence[Timing], n_frames: int, fps: float, classes: Sequence[str]
) -> np.ndarray:
    """(n_frames,) index into ``classes`` (the twin's label classes, ``twins.labels.VISEMES``)
    of the viseme sounding at each frame's centre."""
    index = {name: i for i, name in enumerate(classes)}
    out = np.zeros(n_frames, np.int8)
    if not phonemes:
        return out
    starts = np.array([p.start_ms for p in phonemes], np.float64) / 1000
    centres = (np.arange(n_frames) + 0.5) / fps
    which = np.clip(np.searchsorted(starts, centres, side="right") - 1, 0, len(phonemes) - 1)
    codes = [index.get(viseme_class(p.symbol), 0) for p in phonemes]
    out[:] = np.array(codes, np.int8)[which]
    return out


def _audio_opening(
    pack: TwinPack, speech: Speech, n_frames: int, echo: float = 0.0
) -> np.ndarray | None:
    """The twin's own model's opening for ``speech`` (with viseme context when the model has
    it), or None when the pack has no usable model (an older format is skipped, not fatal).

    ``echo`` (0–1): the phones were recognised in that much echo, so the context read from them
    gives way to the model's prediction from the sound alone (in proportion). Every clip's
    track at a share of 1.0, with context / without: a 0.3 s room 0.465 / 0.470, 0.5 s
    0.414 / 0.410, 0.8 s 0.168 / 0.211 (2026-12-07, ``recode.py room``).
    """
    from twinstudio.twins import pack as P

    if not pack.has(P.AUDIO_MODEL) or speech.audio is None or len(speech.audio) == 0:
        return None
    try:
        from twinstudio.twins import audio_model
        from twinstudio.twins.labels import VISEMES

        classes = (pack.meta.get("labels") or {}).get("visemes") or VISEMES
        vis = viseme_frames(speech.phonemes, n_frames, pack.fps, classes)
        # In blocks with a margin either side (see PREDICT_BLOCK_S).
        fps, rate = pack.fps, speech.sample_rate
        out = np.zeros(n_frames, np.float32)
        block, margin = int(PREDICT_BLOCK_S * fps), int(fps)
        for f0 in range(0, n_frames, block):
            f1 = min(n_frames, f0 + block)
            g0, g1 = max(0, f0 - margin), min(n_frames, f1 + margin)
            a0, a1 = round(g0 * rate / fps), round(g1 * rate / fps)
            pred = audio_model.predict_descriptors(pack.file(P.AUDIO_MODEL),
                                                   speech.audio[a0:a1], rate, fps, g1 - g0,
                                                   viseme=vis[g0:g1] if speech.phonemes else None,
                                                   sound_only=echo)  # fmt: skip
            out[f0:f1] = np.asarray(pred)[f0 - g0 : f1 - g0, 0]
        return out
    except (ImportError, AttributeError, KeyError, ValueError) as exc:
        _LOGGER.warning("twin audio model not usable (%s); phonemes only", exc)
        return None


def track_for_pack(
    pack: TwinPack,
    speech: Speech,
    n_frames: int,
    expressiveness: float = 1.0,
    audio_weight: float = AUDIO_WEIGHT,
    echo: float = 0.0,
    over_pauses: float = 0.0,
) -> MouthTrack:
    """The mouth track for ``speech`` spoken by the twin in ``pack`` (its audio model included;
    ``echo``: the level of echo its phones were recognised in, their context gives way to the
    sound's, see ``_audio_opening``; ``over_pauses``: how far their pauses give way, see
    ``blend_audio``; both from ``read_sound``; only where the sound is heard, see
    ``heard_frames``); its lead and spread from its own footage (``render.habits``)."""
    from twinstudio.render.habits import filmed_open_std, footage_lead_s

    audio_open = _audio_opening(pack, speech, n_frames, echo) if audio_weight > 0 else None
    reach: float | np.ndarray = over_pauses
    if over_pauses > 0 and speech.audio is not None and len(speech.audio):
        reach = over_pauses * heard_frames(speech.audio, speech.sample_rate, n_frames, pack.fps)
    return mouth_track(speech.phonemes, n_frames, pack.fps, pack.meta["ranges"], expressiveness,
                       audio_open, audio_weight, filmed_open_std(pack),
                       footage_lead_s(pack), reach)  # fmt: skip


# The phones' pauses give way only where there is sound: a frame whose level is more than
# HEARD_RANGE_DB under the piece's loud frames (their 95th percentile) keeps its pause, whatever
# ``over_pauses`` says. The audio model predicts nothing sensible from digital silence, which it
# never heard in the footage: in a custom-audio piece with 1.5 s of it between two sentences, a
# twin given way (pcavs) held its mouth there at 1.5 × its median opening. Room tone is another
# matter: ed_markey opens his mouth in a pause 44–55 dB under his speech and his model, which
# learnt it, follows (target track r 0.422 kept, 0.481 given way, 0.432 with the pause cut at
# 40 dB). On the dev clips' held-back parts (dry, noisy, the 0.5 s room; 2026-12-07) 55–70 dB
# left every track as without the cut, within 0.001; dither (−96 dBFS) and digital silence
# stay out. The twins given way do hold their lips apart in pauses (their footage's mean
# opening in the recogniser's pauses is 0.7–2.0 × their speaking one, the blue backdrop's
# 1.7–2.0 ×), so in room tone they do in renders too. Under HEARD_FLOOR_DBFS nothing is heard
# however quiet the rest (a piece of nothing but digital silence or dither, cut from a long
# pause); the dev clips' held-back sound as recorded has no frame between −120 dBFS (digital
# silence) and −66 dBFS (ed_markey's pause reads down to −70 as the renderer levels it). Named
# apart from ``speech.audio.SILENT_DBFS`` (−70: the loudest parts of audio refused as silent)
# and ``twins.voice.SILENT_DBFS`` (−55: windows the voice detector may not count as speech).
HEARD_RANGE_DB = 60.0
HEARD_FLOOR_DBFS = -80.0


def heard_frames(audio: np.ndarray, sample_rate: int, n_frames: int, fps: float) -> np.ndarray:
    """(n_frames,) 0–1: 1 where a video frame's sound is within ``HEARD_RANGE_DB`` of the piece's
    loud frames and above ``HEARD_FLOOR_DBFS``, 0 in (near) silence, eased over ~0.1 s."""
    x = np.asarray(audio, np.float64)
    total = np.concatenate([[0.0], np.cumsum(x * x)])
    edges = np.clip(np.round(np.arange(n_frames + 1) * sample_rate / fps).astype(np.int64),
                    0, len(x))  # fmt: skip
    power = np.diff(total[edges]) / np.maximum(np.diff(edges), 1)
    level = 10 * np.log10(power + 1e-12)
    floor = max(float(np.percentile(level, 95)) - HEARD_RANGE_DB, HEARD_FLOOR_DBFS)
    heard = (level > floor).astype(np.float64)
    return np.clip(_smooth(heard[:, None], 0.1 * fps)[:, 0], 0.0, 1.0)
