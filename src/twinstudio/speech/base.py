"""The text-to-speech engine interface and the registry engines add themselves to.

An engine only turns one plain sentence into a sample-level :class:`Track`; the shared
:meth:`TTSEngine.synthesize` does the rest the same way for every engine: ``<break>`` pauses as
exact silence, English normalising, sentence splitting, speed/pitch/volume, and millisecond timings.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Generator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from twinstudio.errors import InvalidParameter
from twinstudio.memory import release_free_memory
from twinstudio.registry import Registry
from twinstudio.speech import effects
from twinstudio.speech.text import Segment, prepare
from twinstudio.speech.timeline import SILENCE, Track, concat
from twinstudio.speech.types import Speech, Timing, Voice, VoiceSettings

SENTENCE_GAP_MS = 200  # silence between two sentences that have no <break> between them
# Streamed chunks after the first group sentences up to this length (~4 s of speech): the renderer
# draws a chunk's frames once it is made (render.pipeline), so small chunks let it start early
# and leave little to draw after the speech is done. (300 until 2026-12-04, when the speech was
# all made before the first frame.)
STREAM_CHUNK_CHARS = 60


class TTSEngine(ABC):
    """A speech engine. ``voices()`` must be cheap (no model loading): the catalog lists them.

    Engines whose optional dependency is missing return no voices and raise
    :class:`~twinstudio.errors.MissingDependency` (saying what to install) from ``synthesize``.
    """

    name: str = ""
    sample_rate: int = 22050

    @abstractmethod
    def voices(self) -> list[Voice]:
        """The voices this engine can speak right now (empty if its dependency is missing)."""

    @abstractmethod
    def speak(self, sentence: str, voice: Voice) -> Track:
        """One normalised sentence at speed 1.0, at :attr:`sample_rate`, with exact phonemes."""

    def language_of(self, voice: Voice) -> str:
        """Language code used to pick the text normaliser (``"en"`` normalises English)."""
        return voice.locale.split("-")[0].lower()

    def synthesize(self, text: str, voice: Voice, settings: VoiceSettings | None = None) -> Speech:
        """Speak a whole script: pauses, sentences and ``settings`` applied, timings exact.

        The streamed chunks of :meth:`synthesize_stream`, joined (:func:`join_speech`).
        """
        return join_speech(list(self.synthesize_stream(text, voice, settings)))

    def synthesize_stream(
        self,
        text: str,
        voice: Voice,
        settings: VoiceSettings | None = None,
        chunk_chars: int = STREAM_CHUNK_CHARS,
    ) -> Iterator[Speech]:
        """Speak a script chunk by chunk: the first chunk is the first sentence alone, later ones
        group whole sentences up to ``chunk_chars`` characters. Only one chunk is in memory.

        Each chunk's timings are relative to its own start; the silence *between* two chunks
        (a ``<break>`` or the sentence gap) opens the later chunk, so :func:`join_speech` of the
        chunks is exactly the speech of the whole script. Settings are checked before anything
        is synthesised, so a bad setting fails before the first chunk.
        """
        settings = settings or VoiceSettings()
        check_settings(settings)
        segments = prepare(text, self.language_of(voice))
        if not any(not s.is_pause for s in segments):
            raise InvalidParameter("the script has nothing to say", param="script")
        return self._stream(group_segments(segments, chunk_chars), voice, settings)

    def _stream(
        self, groups: list[list[Segment]], voice: Voice, settings: VoiceSettings
    ) -> Iterator[Speech]:
        try:
            yield from self._chunks(groups, voice, settings)
        finally:
            self.release()
            release_free_memory()

    def release(self) -> None:
        """Give back memory the engine keeps between sentences, once a script is spoken (or its
        stream is closed). Nothing by default; see ``PiperEngine.release``."""
        return None

    def sentences_at_once(self, voice: Voice) -> int:
        """How many sentences :meth:`speak` may be given at once (in threads) for ``voice``: 1
        unless the engine says its speaking is thread-safe and pays for it (Piper's windowed
        voices: ``piper_model``)."""
        del voice
        return 1

    def _spoken(self, texts: Iterable[str], voice: Voice) -> Generator[Track, None, None]:
        """Each of ``texts`` spoken, in order. With :meth:`sentences_at_once` above 1 they are
        spoken that many at a time, in threads started here (so at this thread's CPU priority:
        ``twinstudio.cpu``), and one more is started while the oldest is handed on; closing the
        iterator cancels what has not started and waits for what has."""
        at_once = self.sentences_at_once(voice)
        if at_once <= 1:
            for text in texts:
                yield self.speak(text, voice)
            return
        pending: deque[Future[Track]] = deque()
        pool = ThreadPoolExecutor(at_once, thread_name_prefix=f"{self.name or 'tts'}-sentence")
        try:
            for text in texts:
                pending.append(pool.submit(self.speak, text, voice))
                if len(pending) > at_once:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _chunks(
        self, groups: list[list[Segment]], voice: Voice, settings: VoiceSettings
    ) -> Iterator[Speech]:
        texts = (s.text for group in groups for s in group if not s.is_pause)
        spoken_in_order = self._spoken(texts, voice)
        try:
            yield from self._grouped(groups, spoken_in_order, settings)
        finally:
            spoken_in_order.close()  # the sentence threads are done before ``release``

    def _grouped(
        self, groups: list[list[Segment]], spoken_in_order: Iterator[Track], settings: VoiceSettings
    ) -> Iterator[Speech]:
        previous_spoken = False
        for group in groups:
            pieces: list[Track] = []
            for segment in group:
                if segment.is_pause:
                    pieces.append(Track.silence(self._samples(segment.pause_ms), self.sample_rate))
                    previous_spoken = False
                    continue
                spoken = next(spoken_in_order)
                if previous_spoken:
                    gap_ms = SENTENCE_GAP_MS / settings.speed  # part of the speech: it scales too
                    pieces.append(Track.silence(self._samples(gap_ms), self.sample_rate))
                # Speed stretches speech only: a <break time="1s"/> stays one second at any speed.
                pieces.append(effects.stretch_track(spoken, 1.0 / settings.speed))
                previous_spoken = True
            speech = concat(pieces, self.sample_rate).to_speech()
            chunk = effects.apply_settings(speech, settings, speed=False)
            chunk.text = " ".join(s.text for s in group if not s.is_pause)
            release_free_memory()  # the decoder's temporaries of this chunk (twinstudio.memory)
            yield chunk

    def _samples(self, ms: float) -> int:
        return round(ms * self.sample_rate / 1000)


def check_settings(settings: VoiceSettings) -> None:
    """Reject out-of-range ``voice_settings`` (the API validates too; engines must not trust it)."""
    ranges = {"speed": (0.5, 1.5), "pitch": (-50.0, 50.0), "volume": (0.0, 2.0)}
    for name, (low, high) in ranges.items():
        value = getattr(settings, name)
        if not low <= value <= high:
            raise InvalidParameter(
                f"voice_settings.{name} must be between {low:g} and {high:g} (got {value!r})",
                param=f"voice_settings.{name}",
            )


def group_segments(segments: list[Segment], chunk_chars: int) -> list[list[Segment]]:
    """Split prepared segments into streamed chunks (see :meth:`TTSEngine.synthesize_stream`).

    A chunk closes after a spoken sentence once it holds ``chunk_chars`` characters (the first
    chunk closes after its first sentence); pauses go with the sentence after them, and pauses
    at the very end join the last chunk, so every chunk has something to say.
    """
    groups: list[list[Segment]] = []
    current: list[Segment] = []
    chars = 0
    for segment in segments:
        current.append(segment)
        if segment.is_pause:
            continue
        chars += len(segment.text) + 1
        if not groups or chars >= chunk_chars:
            groups.append(current)
            current, chars = [], 0
    if current:
        if any(not s.is_pause for s in current) or not groups:
            groups.append(current)
        else:
            groups[-1].extend(current)
    return groups


def join_timings(
    chunks: Iterable[tuple[int, list[Timing], list[Timing]]], sample_rate: int
) -> tuple[list[Timing], list[Timing]]:
    """Join per-chunk timings into one timeline: ``(n_samples, phonemes, words)`` per chunk.

    Offsets are kept in samples and rounded once, so the joined phonemes tile the joined audio
    exactly (a chunk boundary can move by at most 1 ms); silences meeting at a boundary merge.
    """
    phonemes: list[Timing] = []
    words: list[Timing] = []
    offset = 0  # samples
    for n_samples, chunk_phonemes, chunk_words in chunks:
        start_ms = round(offset * 1000 / sample_rate)
        end_ms = round((offset + n_samples) * 1000 / sample_rate)
        offset += n_samples

        def shift(ms: int, start_ms: int = start_ms, end_ms: int = end_ms) -> int:
            return min(end_ms, max(start_ms, ms + start_ms))

        for i, timing in enumerate(chunk_phonemes):
            start = phonemes[-1].end_ms if phonemes else 0
            end = end_ms if i == len(chunk_phonemes) - 1 else shift(timing.end_ms)
            if end <= start:
                continue
            if phonemes and phonemes[-1].symbol == timing.symbol == SILENCE:
                phonemes[-1] = Timing(SILENCE, phonemes[-1].start_ms, end)
            else:
                phonemes.append(Timing(timing.symbol, start, end))
        if phonemes and phonemes[-1].end_ms < end_ms:  # a chunk without phonemes
            last = phonemes[-1]
            phonemes[-1] = Timing(last.symbol, last.start_ms, end_ms)
        elif not phonemes and end_ms > 0:
            phonemes.append(Timing(SILENCE, 0, end_ms))
        for word in chunk_words:
            start, end = shift(word.start_ms), shift(word.end_ms)
            if words:
                start = max(start, words[-1].end_ms)
            if end > start:
                words.append(Timing(word.symbol, start, end))
    return phonemes, words


def join_speech(chunks: Iterable[Speech]) -> Speech:
    """One :class:`Speech` from streamed chunks (all at one sample rate), timings joined exactly."""
    parts = list(chunks)
    if not parts:
        return Speech(np.zeros(0, dtype=np.float32), 22050)
    rate = parts[0].sample_rate
    if any(p.sample_rate != rate for p in parts):
        raise ValueError("chunks at different sample rates cannot be joined")
    phonemes, words = join_timings(((len(p.audio), p.phonemes, p.words) for p in parts), rate)
    audio = np.concatenate([np.asarray(p.audio, dtype=np.float32) for p in parts])
    text = " ".join(p.text for p in parts if p.text)
    return Speech(audio, rate, phonemes, words, text)


engines: Registry[TTSEngine] = Registry("speech engine")
"""Engines by name: ``@engines.register("piper")`` on the class; instances are created lazily."""
