from __future__ import annotations

import pytest

from twinstudio.errors import InvalidParameter
from twinstudio.speech.numbers import cardinal, ordinal, year
from twinstudio.speech.text import normalize_english, parse_script, prepare, split_sentences


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("1985", "nineteen eighty-five"),
        ("in 2005", "in two thousand five"),
        ("in 2019", "in twenty nineteen"),
        ("1905", "nineteen oh five"),
        ("the 1980s", "the nineteen eighties"),
        ("$3.50", "three dollars and fifty cents"),
        ("$1", "one dollar"),
        ("$2 million", "two million dollars"),
        ("£5.01", "five pounds and one penny"),
        ("50%", "fifty percent"),
        ("3.5%", "three point five percent"),
        ("Dr. Smith", "Doctor Smith"),
        ("Mr. and Mrs. Jones", "Mister and Missus Jones"),
        ("St. Louis", "Saint Louis"),
        ("Main St. Then", "Main Street. Then"),
        ("1,000,000 people", "one million people"),
        ("pi is 3.14", "pi is three point one four"),
        ("-4 degrees", "minus four degrees"),
        ("the 21st and 2nd", "the twenty-first and second"),
        ("at 10:30 or 7:00", "at ten thirty or seven o'clock"),
        ("No. 5", "number five"),
        ("this & that", "this and that"),
        ("e.g. apples", "for example apples"),
        ("42", "forty-two"),
        ("no digits here.", "no digits here."),
    ],
)
def test_normalize_english(text: str, spoken: str) -> None:
    assert normalize_english(text) == spoken


def test_number_words() -> None:
    assert cardinal(0) == "zero"
    assert cardinal(101) == "one hundred one"
    assert (
        cardinal(1_234_567)
        == "one million two hundred thirty-four thousand five hundred sixty-seven"
    )
    assert ordinal(12) == "twelfth"
    assert ordinal(40) == "fortieth"
    assert year(1900) == "nineteen hundred"
    assert year(2000) == "two thousand"


def test_breaks_become_exact_pauses() -> None:
    segments = parse_script(
        'Hi. <break time="1.5s"/> There <break time="500ms" /> you <break time=\'0.2s\'/>'
    )
    assert [s.pause_ms for s in segments] == [0, 1500, 0, 500, 0, 200]
    assert [s.text for s in segments if not s.is_pause] == ["Hi.", "There", "you"]


def test_adjacent_breaks_merge() -> None:
    segments = parse_script('A <break time="1s"/><break time="250ms"/> B')
    assert [s.pause_ms for s in segments] == [0, 1250, 0]


@pytest.mark.parametrize("tag", ["<break/>", '<break time="15s"/>', '<break time="soon"/>'])
def test_bad_breaks_name_the_script(tag: str) -> None:
    with pytest.raises(InvalidParameter) as caught:
        parse_script(f"Hello {tag} world")
    assert caught.value.param == "script"


def test_sentences_split_after_abbreviations_are_expanded() -> None:
    segments = prepare("Dr. Smith arrived. He paid $5! Did he? Yes.")
    assert [s.text for s in segments] == [
        "Doctor Smith arrived.",
        "He paid five dollars!",
        "Did he?",
        "Yes.",
    ]
    assert split_sentences("One. Two") == ["One.", "Two"]


def test_non_english_text_is_not_normalised() -> None:
    assert prepare("Tenho 3 gatos.", language="pt")[0].text == "Tenho 3 gatos."
