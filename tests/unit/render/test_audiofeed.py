"""The encoder's audio feed: pieces resampled block by block, as if at once, memory flat."""

from __future__ import annotations

import numpy as np
import pytest

from twinstudio.render.audiofeed import AudioFeed


@pytest.mark.parametrize("pieces", [1, 7])
def test_audio_fed_in_pieces_is_resampled_like_at_once(pieces: int) -> None:
    from scipy.signal import resample_poly

    rng = np.random.default_rng(1)
    audio = rng.standard_normal(22050 * 23 + 77).astype(np.float32)
    feed = AudioFeed(22050, 48000)
    whole = resample_poly(audio, 48000, 22050).astype(np.float32)
    got: list[np.ndarray] = []
    read = 0
    for part in np.array_split(audio, pieces):
        feed.feed(part)
        assert feed.available <= len(whole)
        while read + 1024 <= feed.available:  # read as the encoder does, as far as it exists
            got.append(feed.read(read, read + 1024))
            read += 1024
    feed.end()
    assert feed.available == len(whole)
    got.append(feed.read(read, len(whole) + 100))  # past the end: only what exists
    out = np.concatenate(got)
    assert out.size == len(whole)
    assert np.abs(out - whole).max() < 1e-5  # seamless across blocks and pieces


def test_audio_is_converted_as_it_is_read_not_a_whole_piece_at_once() -> None:
    """A 20 s piece fed at once is resampled a block at a time as the encoder reads it: what
    waits converted is never more than about a block (flat memory per piece)."""
    feed = AudioFeed(22050, 48000)
    feed.feed(np.zeros(22050 * 20, np.float32))
    assert feed.available >= 48000 * 18  # it all exists (as far as the margins allow) ...
    assert feed._out.size == 0  # ... but none of it has been converted yet
    got = feed.read(0, 1024)
    assert got.size == 1024 and feed._out.size < 48000 * 1.5  # one ~1 s block, not 20 s
