"""Speech benchmark: speed, voice_settings accuracy and intelligibility per voice.

    python benchmarks/speech.py            # writes benchmarks/out/speech.json

For each benchmarked voice: real-time factor (synthesis seconds / audio seconds, models already
loaded), duration ratio at speed 0.5 / 1.0 / 1.5 against speed 1.0 (ideal 2.0 / 1.0 / 0.667),
median f0 and its shift in semitones at pitch −50 / 0 / +50 (ideal −6 / 0 / +6), and for
English voices the word error rate of pocketsphinx transcribing ten fixed sentences.
"""

from __future__ import annotations

import json
import math
import platform
import time
from pathlib import Path

from twinstudio.speech import VoiceSettings, list_voices, synthesize
from twinstudio.speech.analysis import median_f0
from twinstudio.speech.audio import transcribe
from twinstudio.speech.text import normalize_english, words_of

OUT = Path(__file__).resolve().parent / "out" / "speech.json"
VOICES = ["en_US-joe-medium", "espeak-en-us", "espeak-en-gb", "espeak-pt-br"]
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


def bench_voice(voice_id: str, english: bool) -> dict[str, object]:
    text = " ".join(SENTENCES)
    synthesize(SENTENCES[0], voice_id)  # load the model outside the timing
    started = time.perf_counter()
    base = synthesize(text, voice_id)
    rtf = (time.perf_counter() - started) / base.duration_s
    ratios = {
        str(speed): round(synthesize(text, voice_id, VoiceSettings(speed=speed)).duration_ms
                          / base.duration_ms, 4)
        for speed in (0.5, 1.0, 1.5)
    }  # fmt: skip
    short = SENTENCES[0]
    f0 = {}
    for pitch in (-50, 0, 50):
        speech = synthesize(short, voice_id, VoiceSettings(pitch=pitch))
        f0[pitch] = median_f0(speech.audio, speech.sample_rate)
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
        for sentence in SENTENCES:
            speech = synthesize(sentence, voice_id)
            reference = [w.lower() for w in words_of(normalize_english(sentence))]
            hypothesis = transcribe(speech.audio, speech.sample_rate)
            errors += round(word_error_rate(reference, hypothesis) * len(reference))
            words += len(reference)
        result["pocketsphinx_wer"] = round(errors / words, 4)
    return result


def main() -> None:
    catalog = {v.voice_id: v for v in list_voices()}
    report: dict[str, object] = {"machine": platform.platform(), "voices": {}}
    voices: dict[str, object] = {}
    for voice_id in VOICES:
        if voice_id not in catalog:
            voices[voice_id] = {"skipped": "voice not available (engine not installed)"}
            continue
        voice = catalog[voice_id]
        print(f"benchmarking {voice_id} ...", flush=True)
        voices[voice_id] = {
            "engine": voice.engine,
            **bench_voice(voice_id, voice.language == "English"),
        }
    report["voices"] = voices
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
