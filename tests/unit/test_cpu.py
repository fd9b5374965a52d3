"""How a process shares its cores: OpenCV without its thread pool while speech is made beside
the frames (``twinstudio.cpu``)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import cv2
import pytest

from twinstudio.cpu import opencv_on_calling_threads


@pytest.fixture
def pool_of_three() -> Iterator[int]:
    """OpenCV with a pool of three threads (whatever the machine's cores), restored after."""
    before = cv2.getNumThreads()
    cv2.setNumThreads(3)
    yield 3
    cv2.setNumThreads(before)


def test_opencv_pool_comes_back_when_the_last_overlapping_block_ends(pool_of_three: int) -> None:
    """Two renders in two threads overlap: the pool stays off until both are done, then its
    size is what it was; a block left by an exception restores it too."""
    before = cv2.getNumThreads()
    assert before == pool_of_three
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: list[tuple[str, int]] = []

    def second() -> None:
        first_in.wait(10)
        with opencv_on_calling_threads():
            second_in.set()
            first_out.wait(10)
            seen.append(("second, after the first ended", cv2.getNumThreads()))

    thread = threading.Thread(target=second)
    thread.start()
    with opencv_on_calling_threads():
        first_in.set()
        second_in.wait(10)
        seen.append(("first", cv2.getNumThreads()))
    first_out.set()
    thread.join(10)
    assert seen == [("first", 1), ("second, after the first ended", 1)]
    assert cv2.getNumThreads() == before

    with pytest.raises(RuntimeError), opencv_on_calling_threads():
        assert cv2.getNumThreads() == 1
        raise RuntimeError("a render failed")
    assert cv2.getNumThreads() == before
