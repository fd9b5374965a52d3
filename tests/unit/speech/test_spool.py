"""The speech spool: pieces written to disk in order, read back equal, files gone once read."""

from __future__ import annotations

from pathlib import Path

import numpy as np

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
