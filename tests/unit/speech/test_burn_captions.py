"""Burned-in captions: line breaking for 9:16 and 16:9, exact box, only while a cue is active."""

from __future__ import annotations

import time

import numpy as np
import pytest

from twinstudio.errors import InvalidParameter
from twinstudio.render.captions import CaptionBurner, load_font, parse_style, wrap
from twinstudio.speech.types import Timing

TEXT = (
    "Welcome to our quarterly update where we walk through revenue growth customer stories "
    "and the roadmap for the next six months of product work."
)


def timed_words(text: str, start_ms: int = 500, word_ms: int = 300) -> list[Timing]:
    return [
        Timing(w, start_ms + i * word_ms, start_ms + (i + 1) * word_ms - 20)
        for i, w in enumerate(text.split())
    ]


WORDS = timed_words(TEXT)


@pytest.mark.parametrize("size", [(720, 1280), (1920, 1080)])
def test_cues_fit_the_frame_in_at_most_two_lines(size: tuple[int, int]) -> None:
    burner = CaptionBurner(WORDS, size)
    assert burner.cues and " ".join(c.text for c in burner.cues) == TEXT
    for index in range(len(burner.cues)):
        overlay = burner.overlay(index)
        x0, y0, x1, y1 = overlay.box
        assert 1 <= len(overlay.lines) <= 2
        assert 0 <= x0 < x1 <= size[0] and 0 <= y0 < y1 <= size[1]
        assert y1 > size[1] * 0.8  # bottom of the frame
        assert abs((x0 + x1) - size[0]) <= 1  # centred
        assert overlay.font_size == burner.style.font_size  # ordinary words: no shrinking
        width = max(burner.font.getlength(line) for line in overlay.lines)
        assert width <= 0.88 * size[0]


def test_portrait_gets_shorter_lines_than_landscape() -> None:
    portrait = CaptionBurner(WORDS, (720, 1280))
    landscape = CaptionBurner(WORDS, (1920, 1080))
    assert portrait.max_chars < landscape.max_chars
    assert len(portrait.cues) > len(landscape.cues)
    assert 15 <= portrait.max_chars <= 45 and landscape.max_chars >= 40


def test_burn_changes_only_the_box_and_only_during_a_cue() -> None:
    rng = np.random.default_rng(1)
    frame = rng.integers(0, 256, (1280, 720, 3), dtype=np.uint8)
    original = frame.copy()
    burner = CaptionBurner(WORDS, (720, 1280))
    before = burner.draw(frame, 0.2)  # before the first word
    assert before is frame and np.array_equal(frame, original)
    first = burner.cues[0]
    during = burner.draw(frame, (first.start_ms + 10) / 1000)
    assert np.array_equal(frame, original)  # the input is never modified
    changed = np.any(during != original, axis=2)
    ys, xs = np.nonzero(changed)
    x0, y0, x1, y1 = burner.overlay(0).box
    assert changed.sum() > 1000
    assert xs.min() >= x0 and xs.max() < x1 and ys.min() >= y0 and ys.max() < y1
    gap = (burner.cues[-1].end_ms + 50) / 1000
    assert burner.draw(frame, gap) is frame  # after the last cue


def test_text_pixels_use_the_colour_and_box_is_translucent() -> None:
    frame = np.full((1080, 1920, 3), 200, dtype=np.uint8)
    style = {"color": "#FF0000", "background": "#0000FF80", "font_size": 60}
    burner = CaptionBurner(WORDS, (1920, 1080), style)
    out = burner.draw(frame, 0.6)
    x0, y0, x1, y1 = burner.overlay(0).box
    region = out[y0:y1, x0:x1].reshape(-1, 3).astype(int)
    assert ((region[:, 0] > 200) & (region[:, 1] < 60)).sum() > 200  # red letters
    corner = out[y0 + 2, x0 + 20].astype(int)  # box, no text: blue at 50 % over grey
    assert corner[2] > corner[0] + 60 and 60 < corner[0] < 140


def test_outline_mode_has_no_box() -> None:
    frame = np.full((1280, 720, 3), 90, dtype=np.uint8)
    burner = CaptionBurner(WORDS, (720, 1280), {"background": "none"})
    out = burner.draw(frame, 0.6)
    x0, y0, x1, y1 = burner.overlay(0).box
    changed = np.any(out[y0:y1, x0:x1] != 90, axis=2)
    assert 0.02 < changed.mean() < 0.6  # letters and their outline only, not a filled box


def test_overlay_is_rendered_once_per_cue_and_drawing_is_fast() -> None:
    frame = np.zeros((1920, 1080, 3), dtype=np.uint8)
    burner = CaptionBurner(WORDS, (1080, 1920))
    calls = 0
    render = burner._render

    def counting(text: str):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        return render(text)

    burner._render = counting  # type: ignore[method-assign]
    started = time.perf_counter()
    for i in range(100):
        burner.draw(frame, 0.6 + i * 0.001)
    per_frame = (time.perf_counter() - started) / 100
    assert calls == 1
    assert per_frame < 0.05


@pytest.mark.parametrize(
    ("style", "param"),
    [
        ({"font_size": 4}, "caption.style.font_size"),
        ({"font_size": "big"}, "caption.style.font_size"),
        ({"color": "not-a-colour"}, "caption.style.color"),
        ({"background": 7}, "caption.style.background"),
        ({"position": "left"}, "caption.style.position"),
        ({"shadow": True}, "caption.style.shadow"),
    ],
)
def test_bad_style_names_the_key(style: dict[str, object], param: str) -> None:
    with pytest.raises(InvalidParameter) as caught:
        parse_style(style, (720, 1280))
    assert caught.value.param == param


def test_style_positions_and_defaults() -> None:
    style = parse_style(None, (720, 1280))
    assert (style.position, style.color, style.background) == (
        "bottom",
        (255, 255, 255, 255),
        (0, 0, 0, 160),
    )
    top = CaptionBurner(WORDS, (720, 1280), {"position": "top"}).overlay(0).box
    assert top[1] < 1280 * 0.2


def test_wrap_splits_a_word_wider_than_the_line() -> None:
    font = load_font(40)
    lines = wrap("a " + "W" * 60 + " b", font, 400)
    assert len(lines) >= 3 and all(font.getlength(line) <= 400 for line in lines)
    assert "".join(lines).replace(" ", "") == "a" + "W" * 60 + "b"
