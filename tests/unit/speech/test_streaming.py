"""Streaming long scripts: chunks come one sentence group at a time and join exactly."""

from __future__ import annotations

import itertools
import os
import threading
import time

import numpy as np
import pytest

from twinstudio.errors import InvalidParameter
from twinstudio.speech.base import TTSEngine, group_segments, join_speech, join_timings
from twinstudio.speech.text import Segment, prepare
from twinstudio.speech.timeline import Track
from twinstudio.speech.types import Speech, Timing, Voice, VoiceSettings

from .helpers import assert_tiles, assert_words_in_order

VOICE = Voice("fake", "Fake", "English", "en-US", "female", "fake")


class CountingEngine(TTSEngine):
    """Each word is 0.1 s of tone (one phoneme 'a'); records every sentence it was asked for."""

    name = "fake"
    sample_rate = 22050

    def __init__(self) -> None:
        self.spoken: list[str] = []

    def voices(self) -> list[Voice]:
        return [VOICE]

    def speak(self, sentence: str, voice: Voice) -> Track:
        self.spoken.append(sentence)
        words = sentence.split()
        n = 2205  # 0.1 s per word
        t = np.arange(n * len(words)) / self.sample_rate
        audio = (0.3 * np.sin(2 * np.pi * 150 * t)).astype(np.float32)
        track = Track(audio, self.sample_rate, [("a", n)] * len(words))
        track.words = [(w.strip(".!?"), i * n, (i + 1) * n) for i, w in enumerate(words)]
        return track


LONG = " ".join(f"Sentence number {i} is here, and it says a few more words." for i in range(60))


def test_long_script_streams_first_sentence_before_the_rest() -> None:
    assert len(LONG) > 3000
    engine = CountingEngine()
    stream = engine.synthesize_stream(LONG, VOICE)
    assert engine.spoken == []  # nothing synthesised until asked
    first = next(stream)
    assert len(engine.spoken) == 1  # only the first sentence exists so far
    assert (
        first.text
        == engine.spoken[0]
        == "Sentence number zero is here, and it says a few more words."
    )
    assert_tiles(first)
    assert first.words[0] == Timing("Sentence", first.words[0].start_ms, first.words[0].end_ms)
    assert first.words[0].start_ms == 0  # timed from the chunk's own start
    second = next(stream)
    assert 1 < len(engine.spoken) < 60 and second.words[0].start_ms < 300
    rest = list(stream)
    assert len(engine.spoken) == 60 and len(rest) >= 5


def test_joined_chunks_equal_the_whole_script() -> None:
    script = LONG[:900] + ' <break time="700ms"/> The end.'
    chunks = list(CountingEngine().synthesize_stream(script, VOICE, VoiceSettings(speed=1.25)))
    whole = CountingEngine().synthesize(script, VOICE, VoiceSettings(speed=1.25))
    joined = join_speech(chunks)
    assert len(chunks) > 2
    assert_tiles(joined)
    assert_words_in_order(joined)
    assert len(joined.audio) == len(whole.audio) == sum(len(c.audio) for c in chunks)
    assert [w.symbol for w in joined.words] == [w.symbol for w in whole.words]
    assert [p.symbol for p in joined.phonemes] == [p.symbol for p in whole.phonemes]
    assert joined.phonemes == whole.phonemes and joined.words == whole.words
    assert joined.text.endswith("The end.")


def test_bad_settings_fail_before_any_chunk() -> None:
    engine = CountingEngine()
    with pytest.raises(InvalidParameter) as caught:
        engine.synthesize_stream("Hello there.", VOICE, VoiceSettings(pitch=80))
    assert caught.value.param == "voice_settings.pitch" and engine.spoken == []


def test_grouping_keeps_pauses_with_the_next_sentence_and_the_tail() -> None:
    segments = prepare('One. <break time="1s"/> Two. Three. <break time="2s"/>')
    groups = group_segments(segments, chunk_chars=1000)
    assert [[s.text or s.pause_ms for s in g] for g in groups] == [
        ["One."],
        [1000, "Two.", "Three.", 2000],
    ]
    assert group_segments([Segment(text="Only.")], 10) == [[Segment(text="Only.")]]


def test_join_timings_rounds_offsets_once() -> None:
    # Three chunks of 4 samples at 3 Hz (1333.3 ms each): offsets are summed in samples.
    rate = 3  # an awkward rate: every chunk boundary falls between milliseconds
    chunk = (4, [Timing("", 0, 667), Timing("a", 667, 1333)], [Timing("w", 667, 1333)])
    phonemes, words = join_timings([chunk, chunk, chunk], rate)
    assert phonemes[0].start_ms == 0 and phonemes[-1].end_ms == round(12 * 1000 / rate)
    assert all(a.end_ms == b.start_ms for a, b in itertools.pairwise(phonemes))
    assert [w.symbol for w in words] == ["w", "w", "w"]
    assert words[1].start_ms == round(4 * 1000 / rate) + 667


def test_join_speech_refuses_mixed_rates() -> None:
    a = Speech(np.zeros(10, np.float32), 22050, [Timing("", 0, 1)])
    b = Speech(np.zeros(10, np.float32), 24000, [Timing("", 0, 1)])
    with pytest.raises(ValueError, match="sample rates"):
        join_speech([a, b])


class ReleasingEngine(CountingEngine):
    """Counts the times it was told a script is over (``TTSEngine.release``)."""

    def __init__(self) -> None:
        super().__init__()
        self.released = 0

    def release(self) -> None:
        self.released += 1


def test_engine_memory_is_released_once_a_stream_ends_or_is_closed() -> None:
    engine = ReleasingEngine()
    chunks = list(engine.synthesize_stream(LONG, VOICE))
    assert len(chunks) > 2 and engine.released == 1

    stream = engine.synthesize_stream(LONG, VOICE)
    next(stream)
    assert engine.released == 1  # not while the script is still being spoken
    stream.close()  # a consumer that stops early (a cancelled render) releases too
    assert engine.released == 2


class ConcurrentEngine(CountingEngine):
    """Speaks two sentences at once; each takes a while, later ones less (so they would finish
    out of order); records how many ran at a time, in which threads, and when it was released."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.running = 0
        self.most = 0
        self.threads: set[str] = set()
        self.nice: set[int] = set()
        self.events: list[str] = []

    def sentences_at_once(self, voice: Voice) -> int:
        return 2

    def speak(self, sentence: str, voice: Voice) -> Track:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
            self.threads.add(threading.current_thread().name)
            self.nice.add(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        time.sleep(0.05 if sentence.startswith("Sentence number zero") else 0.01)
        track = super().speak(sentence, voice)
        with self.lock:
            self.running -= 1
            self.events.append("spoke")
        return track

    def release(self) -> None:
        self.events.append("released")


def test_sentences_spoken_at_once_come_in_order_at_the_callers_priority() -> None:
    """An engine that speaks two sentences at once gives the same chunks as one at a time, in
    the script's order, from threads at the calling thread's CPU priority (the render's speech
    thread is at the lowest); closing the stream early waits for the sentences being spoken
    before the engine is released."""
    script = LONG[:1200]
    one_at_a_time = join_speech(list(CountingEngine().synthesize_stream(script, VOICE)))
    engine = ConcurrentEngine()
    got: list[Speech] = []

    def consume() -> None:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        got.extend(engine.synthesize_stream(script, VOICE))

    thread = threading.Thread(target=consume)
    thread.start()
    thread.join(30)
    joined = join_speech(got)
    assert engine.most == 2 and all(n.startswith("fake-sentence") for n in engine.threads)
    assert engine.nice == {19}
    assert joined.text == one_at_a_time.text and joined.words == one_at_a_time.words
    assert np.array_equal(joined.audio, one_at_a_time.audio)

    engine = ConcurrentEngine()
    stream = engine.synthesize_stream(LONG, VOICE)
    next(stream)
    stream.close()
    assert engine.events[-1] == "released" and engine.running == 0
    assert engine.events.count("spoke") < 60  # the rest was never spoken
