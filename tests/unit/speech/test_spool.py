"""The speech spool: pieces written to disk in order, read back equal, files gone once read."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from twinstudio.cpu import SPEECH_NICE
from twinstudio.errors import RenderError
from twinstudio.speech.spool import SpeechSpool
from twinstudio.speech.types import Speech, Timing


def _piece(k: int, n: int) -> Speech:
    rng = np.random.default_rng(k)
    audio = rng.uniform(-1, 1, n).astype(np.float32)
    ms = round(n * 1000 / 22050)
    phonemes = [Timing("", 0, ms // 3), Timing("ˈa", ms // 3, ms)]
    return Speech(audio, 22050, phonemes, [Timing(f"wörd{k}", ms // 3, ms)], f"Sentence {k}.")


def test_pieces_come_back_in_order_and_equal(tmp_path: Path) -> None:
    pieces = [_piece(k, n) for k, n in enumerate([22050, 1, 5000])]
    spool = SpeechSpool(tmp_path / "speech")
    for piece in pieces:
        spool.add(piece)
    assert (spool.count, spool.samples, spool.sample_rate) == (3, 27051, 22050)
    back = list(spool)
    assert len(back) == 3
    for a, b in zip(pieces, back, strict=True):
        assert np.array_equal(a.audio, b.audio) and b.audio.dtype == np.float32
        assert (a.sample_rate, a.phonemes, a.words, a.text) == (
            b.sample_rate, b.phonemes, b.words, b.text)  # fmt: skip


def test_each_piece_is_deleted_once_read_and_remove_clears_the_rest(tmp_path: Path) -> None:
    spool = SpeechSpool(tmp_path / "speech")
    for k in range(3):
        spool.add(_piece(k, 100))

    def piece_files() -> list[str]:
        return sorted(p.name for p in (tmp_path / "speech").iterdir() if p.name[0].isdigit())

    assert len(piece_files()) == 6
    it = iter(spool)
    first = next(it)
    assert first.text == "Sentence 0."
    assert piece_files()[0].startswith("00001")
    assert len(piece_files()) == 4
    spool.remove()
    assert not (tmp_path / "speech").exists()


def test_float64_or_2d_audio_is_stored_as_mono_float32(tmp_path: Path) -> None:
    spool = SpeechSpool(tmp_path / "speech")
    spool.add(Speech(np.zeros((1, 300), dtype=np.float64) + 0.25, 16000))
    (back,) = list(spool)
    assert back.audio.dtype == np.float32 and back.audio.shape == (300,)
    assert np.all(back.audio == 0.25)


def test_words_come_in_the_timeline_s_time_before_and_after_reading(tmp_path: Path) -> None:
    spool = SpeechSpool(tmp_path / "speech")
    assert spool.words() == []
    for k, n in enumerate([22050, 11025, 4410]):  # 1 s, 0.5 s, 0.2 s
        spool.add(_piece(k, n))
    # each piece's word runs from (its length in ms) // 3 to its end; pieces start at 0, 1000, 1500 ms
    expected = [Timing("wörd0", 333, 1000), Timing("wörd1", 1000 + 166, 1500),
                Timing("wörd2", 1500 + 66, 1700)]  # fmt: skip
    assert spool.words() == expected
    list(spool)
    assert spool.words() == expected


def test_a_fill_makes_pieces_in_a_background_thread_and_reading_waits_for_them(
    tmp_path: Path,
) -> None:
    """Reading a piece the fill has not made yet waits for it (here: the reader has the first
    piece while the second is held back); pieces come back equal, made in the ``speech``
    thread at the background priority."""
    pieces = [_piece(k, 1000 + k) for k in range(3)]
    release = threading.Event()
    made_in: list[tuple[str, int]] = []

    def produce() -> Iterator[Speech]:
        made_in.append((threading.current_thread().name,
                        os.getpriority(os.PRIO_PROCESS, threading.get_native_id())))  # fmt: skip
        yield pieces[0]
        assert release.wait(30)
        yield from pieces[1:]

    spool = SpeechSpool(tmp_path / "speech")
    spool.fill(produce())
    spool.wait_for_first()
    reader = iter(spool)
    assert np.array_equal(next(reader).audio, pieces[0].audio)
    assert not spool.done and spool.count == 1  # the second piece is not made: not readable
    release.set()
    rest = list(reader)
    assert [p.text for p in rest] == ["Sentence 1.", "Sentence 2."]
    assert spool.done and spool.samples == 3003
    assert spool.chars == sum(len(p.text) for p in pieces) + 2
    assert made_in == [("speech", SPEECH_NICE)]
    spool.remove()


def test_a_fill_s_error_is_raised_after_the_pieces_made_before_it(tmp_path: Path) -> None:
    def produce() -> Iterator[Speech]:
        yield _piece(0, 100)
        raise RenderError("tts_failed", "the voice engine crashed")

    spool = SpeechSpool(tmp_path / "speech")
    spool.fill(produce())
    reader = iter(spool)
    assert next(reader).text == "Sentence 0."
    with pytest.raises(RenderError, match="crashed"):
        next(reader)
    spool.remove()

    def nothing() -> Iterator[Speech]:
        raise RenderError("tts_failed", "no voice")
        yield  # a generator

    spool = SpeechSpool(tmp_path / "empty")
    spool.fill(nothing())
    with pytest.raises(RenderError, match="no voice"):
        spool.wait_for_first()
    spool.remove()


def test_remove_stops_a_fill_after_its_current_piece_and_closes_its_source(
    tmp_path: Path,
) -> None:
    """A render that fails or ends early must not leave speech being made: remove() stops the
    fill after the piece it is making, the source's clean-up runs, the folder goes."""
    asked = threading.Event()
    cleaned: list[bool] = []

    def produce() -> Iterator[Speech]:
        try:
            for k in range(1000):
                asked.set()
                yield _piece(k, 100)
        finally:
            cleaned.append(True)

    spool = SpeechSpool(tmp_path / "speech")
    spool.fill(produce())
    assert asked.wait(30)
    spool.remove()
    assert cleaned == [True] and spool.done and spool.count < 1000
    assert not (tmp_path / "speech").exists()
