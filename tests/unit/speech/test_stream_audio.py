"""Custom audio timed a piece at a time, in a process of its own (``speech.timing``)."""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

import numpy as np
import pytest

from twinstudio.errors import AudioError
from twinstudio.speech import Speech, join_speech, load_audio, stream_audio, synthesize
from twinstudio.speech import audio as A
from twinstudio.speech import timing as T

from .helpers import assert_tiles, voiced, write_wav

TEXT = (
    "Thank you for joining us today. Our team has been working on a new product, and we are "
    "excited to show you what it can do for your business. "
)


STORY = (
    "Our quarterly update starts with the numbers. Revenue grew by twelve percent, and costs "
    "stayed flat for the third month in a row. The support team answered most questions within "
    "an hour. Next, the roadmap: we will ship the new editor in March, with comments and version "
    "history. After that comes the mobile app, which many of you have asked for. Finally, a word "
    "about hiring. We are looking for two engineers and a designer, so please tell your friends. "
    "Before we close, remember that the office will be shut on the last Friday of the month. "
    "Thank you for listening, and see you at the next meeting in the spring."
)


@pytest.fixture(scope="module")
def told(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 34 s of speech whose sentences all differ (a transcript of repeated sentences
    reads the same from several of its words, which would hide a piece starting at the wrong
    one)."""
    speech = synthesize(STORY, "en_US-joe-medium")
    assert speech.duration_ms > 1.5 * A.STREAM_PIECE_S * 1000
    return write_wav(tmp_path_factory.mktemp("story") / "story.wav", speech.audio)


@pytest.fixture(scope="module")
def spoken(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 44 s of clear speech, with pauses between its sentences."""
    speech = synthesize(TEXT * 6, "en_US-joe-medium")
    return write_wav(tmp_path_factory.mktemp("stream") / "speech.wav", speech.audio)


@pytest.mark.slow
def test_a_long_recording_comes_in_pieces_that_join_to_the_whole(spoken: Path) -> None:
    """Over 1.5 x STREAM_PIECE_S the recording is cut at quiet moments into pieces of at most
    STREAM_PIECE_S, each timed from its own start; joined, they are the whole recording, with
    nearly the words it has timed whole."""
    whole = load_audio(spoken)
    pieces = stream_audio(spoken)
    assert isinstance(pieces, A.AudioPieces)
    assert pieces.duration_s == pytest.approx(whole.duration_ms / 1000, abs=0.01)
    got = list(pieces)
    assert len(got) >= 2
    assert all(p.duration_ms <= A.STREAM_PIECE_S * 1000 + 1 for p in got)
    for piece in got:
        assert_tiles(piece)
    joined = join_speech(got)
    np.testing.assert_array_equal(joined.audio, whole.audio)
    heard = [w.symbol.lower() for w in joined.words]
    assert difflib.SequenceMatcher(a=[w.symbol.lower() for w in whole.words], b=heard).ratio() > 0.9
    # No cut fell inside a word: every piece ends on silence.
    assert all(p.phonemes[-1].symbol == "" for p in got[:-1])


@pytest.mark.slow
def test_the_timing_process_gives_what_timing_here_gives(
    spoken: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The child process's pieces are the pieces timed in this process, timing for timing; and
    when the child cannot run, the pieces are timed here instead, nothing lost."""
    audio = A._prepared(spoken)
    regions = A.voice_regions(audio, A.SAMPLE_RATE)
    third = len(audio) // 3
    spans = [(0, third), (third, 2 * third), (2 * third, len(audio))]
    here = [T.time_piece(audio[a:b], T._inside(regions, a, b)).to_speech() for a, b in spans]
    there = list(T.timed_pieces(audio, regions, spans))
    assert [p.phonemes for p in there] == [p.phonemes for p in here]
    assert [p.words for p in there] == [p.words for p in here]
    assert any(p.words for p in there)
    monkeypatch.setattr(sys, "executable", "/bin/false")  # the child exits at once
    fallback = list(T.timed_pieces(audio, regions, spans))
    assert [p.phonemes for p in fallback] == [p.phonemes for p in here]


def test_short_audio_or_a_transcript_is_the_whole_speech(tmp_path: Path) -> None:
    """Short audio, or audio with a transcript, comes whole, as ``load_audio`` gives it (a
    render then knows its length and keeps OpenCV's threads)."""
    sr = 22050
    audio = np.concatenate([np.zeros(sr // 2, np.float32), voiced(140, 1.0, sr)])
    path = write_wav(tmp_path / "short.wav", audio, sr)
    whole = stream_audio(path)
    assert isinstance(whole, Speech)
    assert whole.phonemes == load_audio(path).phonemes
    assert isinstance(stream_audio(path, transcript="hello"), Speech)


def test_a_bad_file_fails_before_any_piece_is_asked_for(tmp_path: Path) -> None:
    silent = write_wav(tmp_path / "silent.wav", np.zeros(22050, np.float32))
    with pytest.raises(AudioError) as info:
        stream_audio(silent)
    assert info.value.code == "audio_silent"


@pytest.mark.slow
def test_a_transcript_is_shared_out_to_the_pieces_in_order(told: Path) -> None:
    """With a transcript, a long recording comes in pieces too, each given the transcript's words
    that it speaks: joined, they are all of its words, in order, timed as the whole recording
    aligned at once times them."""
    text = STORY
    whole = load_audio(told, transcript=text)
    pieces = stream_audio(told, transcript=text)
    assert isinstance(pieces, A.AudioPieces)
    got = list(pieces)
    assert len(got) >= 2 and all(p.words for p in got)
    joined = join_speech(got)
    assert [w.symbol for w in joined.words] == [w.symbol for w in whole.words]
    assert len(whole.words) == len(A.transcript_words(text))
    moved = np.abs(
        [a.start_ms - b.start_ms for a, b in zip(joined.words, whole.words, strict=True)]
    )
    assert np.median(moved) <= 20 and moved.max() <= 150


@pytest.mark.slow
def test_the_timing_process_shares_a_transcript_as_timing_here_does(
    told: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The child's pieces of a recording with a transcript are those timed in this process; a
    timer taking over after some pieces (the child died) starts at the first word not yet given
    to a piece; and with no child at all, the pieces are timed here, nothing lost."""
    text = STORY
    audio = A._prepared(told)
    regions = A.voice_regions(audio, A.SAMPLE_RATE)
    third = len(audio) // 3
    spans = [(0, third), (third, 2 * third), (2 * third, len(audio))]
    timer = T.PieceTimer(text)
    here = []
    for i, (a, b) in enumerate(spans):
        track, took = timer.time(audio[a:b], T._inside(regions, a, b), last=i == 2)
        here.append((track.to_speech(), took))
    assert all(took > 0 for _, took in here)
    there = list(T.timed_pieces(audio, regions, spans, text))
    assert [p.words for p in there] == [p.words for p, _ in here]
    later = T.PieceTimer(text, skip=here[0][1])
    track, took = later.time(
        audio[third : 2 * third], T._inside(regions, third, 2 * third), last=False
    )
    assert took == here[1][1] and track.to_speech().words == here[1][0].words
    monkeypatch.setattr(sys, "executable", "/bin/false")  # the child exits at once
    fallback = list(T.timed_pieces(audio, regions, spans, text))
    assert [p.words for p in fallback] == [p.words for p, _ in here]


@pytest.mark.slow
def test_pieces_of_a_recording_whose_transcript_cannot_be_aligned_share_out_its_words(
    tmp_path: Path,
) -> None:
    """A transcript in another language is not aligned (``audio.TRANSCRIPT_MIN_KNOWN``): each
    piece is recognised, and takes the transcript's next words by its share of the voice,
    spread over it for captions; the last piece takes all that are left."""
    german = (
        "Guten Morgen. Heute zeigen wir Ihnen fünf einfache Wege, Ihren Tag besser zu beginnen."
    )
    text = " ".join([german] * 3)
    audio = A._prepared(write_wav(tmp_path / "de.wav", synthesize(text, "espeak-de").audio))
    regions = A.voice_regions(audio, A.SAMPLE_RATE)
    third = len(audio) // 3
    spans = [(0, third), (third, 2 * third), (2 * third, len(audio))]
    timer = T.PieceTimer(text, voiced=T._voiced(regions, 0))
    assert timer.words is None and timer.spread is not None
    got = []
    for i, (a, b) in enumerate(spans):
        track, took = timer.time(audio[a:b], T._inside(regions, a, b), last=i == 2)
        speech = track.to_speech()
        assert_tiles(speech)
        assert sum(1 for p in speech.phonemes if p.symbol) >= 10  # recognised, not a placeholder
        assert 8 <= took <= 20 and len(speech.words) == took  # about a third of the 42 words each
        got += [w.symbol for w in speech.words]
    assert got == text.replace(".", "").replace(",", "").split()
