"""Speech benchmark: speed, voice_settings accuracy and intelligibility per voice.

    python benchmarks/speech.py [--voices a,b]   # writes benchmarks/out/speech.json

For each benchmarked voice: real-time factor (synthesis seconds / audio seconds, models already
loaded), duration ratio at speed 0.5 / 1.0 / 1.5 against speed 1.0 (ideal 2.0 / 1.0 / 0.667),
median f0 and its shift in semitones at pitch −50 / 0 / +50 (ideal −6 / 0 / +6), and for
English voices the word error rate of pocketsphinx transcribing twenty fixed, varied sentences
(each synthesised alone; words normalised the way the engines read them) and how far the voice's
own phoneme timings sit from pocketsphinx's forced alignment of the same sentences (median and
|median| of aligner − voice, ms: the aligner times footage and custom audio). Hidden (robotic)
English eSpeak voices are benchmarked too: the figures are why they are hidden.
"""

from __future__ import annotations

import json
import math
import os
import platform
import time
from pathlib import Path

import numpy as np

from twinstudio.speech import VoiceSettings, list_voices, synthesize
from twinstudio.speech.analysis import median_f0
from twinstudio.speech.audio import aligner_offsets, transcribe
from twinstudio.speech.text import normalize_english, words_of

OUT = Path(__file__).resolve().parent / "out" / "speech.json"
F0_CEILING_HZ = 800.0
VOICES = [
    "en_US-joe-medium",
    "festival-en_US-slt-hts",
    "espeak-en-us",
    "espeak-en-gb",
    "espeak-pt-br",
    "kokoro-ja-jf_alpha",
]
OTHER_TEXT = {
    "Portuguese": "Olá a todos. Hoje vamos falar sobre o nosso novo produto e como ele funciona.",
    "Japanese": "こんにちは。今日は新しい製品について説明します。よろしくお願いします。",
}
SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Please call Stella and ask her to bring these things with her from the store.",
    "She sells sea shells by the sea shore.",
    "Our quarterly revenue grew by twelve percent compared to last year.",
    "Welcome to the team, we are glad to have you with us.",
    "The meeting has been moved to Thursday afternoon at three o'clock.",
    "Remember to save your work before you close the window.",
    "This video explains how to reset your password in three easy steps.",
    "The weather today is sunny with a light breeze from the west.",
    "Thank you for watching, and see you in the next episode.",
    "Dr. Patel will present the results at 9:30 on Monday morning.",
    "The package weighs about 2.5 kilograms and costs $19.99.",
    "In 1985, the company opened its first office in Chicago.",
    "Could you tell me where the nearest train station is?",
    "Our support team answers every question within 24 hours.",
    "Machine learning models need clean data and careful evaluation.",
    "The children laughed as the puppy chased its own tail.",
    "Turn left at the second light, then keep going for two miles.",
    "Fresh bread and hot coffee make a perfect breakfast.",
    "Security updates are installed automatically every night.",
]


def word_error_rate(reference: list[str], hypothesis: list[str]) -> float:
    """Levenshtein distance over words / reference length."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, start=1):
        current = [i]
        for j, hyp in enumerate(hypothesis, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref != hyp)))
        previous = current
    return previous[-1] / max(1, len(reference))


def bench_voice(voice_id: str, language: str) -> dict[str, object]:
    english = language == "English"
    text = " ".join(SENTENCES[:10]) if english else OTHER_TEXT[language]
    short = SENTENCES[0] if english else text
    synthesize(short, voice_id)  # load the model outside the timing
    started = time.perf_counter()
    base = synthesize(text, voice_id)
    rtf = (time.perf_counter() - started) / base.duration_s
    ratios = {
        str(speed): round(synthesize(text, voice_id, VoiceSettings(speed=speed)).duration_ms
                          / base.duration_ms, 4)
        for speed in (0.5, 1.0, 1.5)
    }  # fmt: skip
    f0 = {}
    for pitch in (-50, 0, 50):
        speech = synthesize(short, voice_id, VoiceSettings(pitch=pitch))
        # Up to 800 Hz: a female voice raised by 6 semitones passes the default 400 Hz ceiling.
        f0[pitch] = median_f0(speech.audio, speech.sample_rate, fmax=F0_CEILING_HZ)
    shifts = {str(p): round(12 * math.log2(f0[p] / f0[0]), 2) for p in f0 if f0[0] and f0[p]}
    result: dict[str, object] = {
        "real_time_factor": round(rtf, 4),
        "audio_seconds": round(base.duration_s, 2),
        "duration_ratio_vs_speed_1": ratios,
        "median_f0_hz": {str(p): round(v, 1) for p, v in f0.items()},
        "f0_shift_semitones": shifts,
    }
    if english:
        errors = words = 0
        offsets: list[float] = []
        for sentence in SENTENCES:
            speech = synthesize(sentence, voice_id)
            reference = [w.lower() for w in words_of(normalize_english(sentence))]
            hypothesis = transcribe(speech.audio, speech.sample_rate)
            errors += round(word_error_rate(reference, hypothesis) * len(reference))
            words += len(reference)
            offsets += aligner_offsets(speech, sentence)
        result["pocketsphinx_wer"] = round(errors / words, 4)
        d = np.array(offsets)
        result["aligner_minus_voice_ms"] = {
            "phonemes": len(d),
            "median": round(float(np.median(d)), 1),
            "abs_median": round(float(np.median(np.abs(d))), 1),
            "abs_p90": round(float(np.percentile(np.abs(d), 90)), 1),
        }
    return result


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--voices", default=",".join(VOICES), help="comma-separated voice ids")
    args = ap.parse_args()
    catalog = {v.voice_id: v for v in list_voices(include_hidden=True)}
    listed = {v.voice_id for v in list_voices()}
    report: dict[str, object] = {
        "machine": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "voices": {},
    }
    voices: dict[str, object] = {}
    for voice_id in args.voices.split(","):
        if voice_id not in catalog:
            voices[voice_id] = {"skipped": "voice not available (engine not installed)"}
            continue
        voice = catalog[voice_id]
        print(f"benchmarking {voice_id} ...", flush=True)
        voices[voice_id] = {
            "engine": voice.engine,
            "listed_by_default": voice_id in listed,
            **bench_voice(voice_id, voice.language),
        }
    report["voices"] = voices
    report["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
