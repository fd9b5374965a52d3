"""eSpeak timings: how far the estimated phoneme times were from eSpeak's own.

    python benchmarks/espeak_timing.py      # writes benchmarks/out/espeak_timing.json

eSpeak voices are timed by the library's phoneme events (``speech/engines/espeak_lib.py``).
Before, each clause's span was shared among its phonemes by typical duration
(``espeak.estimate_alignment``), which is still what happens without the library. For a few
sentences per language, both timings are made from the *same* synthesis (the library's audio;
the IPA the binary prints, as the old path read it) and each phoneme's estimated start is
compared with the start its event gives: mean, median, 90th percentile and largest |error| (ms),
and the share of phonemes off by more than one and two frames at 30 fps.
"""

from __future__ import annotations

import difflib
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from twinstudio.speech import ipa
from twinstudio.speech.engines import espeak, espeak_lib

OUT = Path(__file__).resolve().parent / "out" / "espeak_timing.json"
SENTENCES = {
    "de": [
        "Schöne Grüße aus München, ich möchte über Bücher sprechen.",
        "Pfeffer und Zucker sind gut.",
        "Peter packt tapfer Pakete, Kati backt Kuchen.",
    ],
    "fr-fr": [
        "Bonjour, bienvenue dans notre démonstration.",
        "Un bon vin blanc, je suis très heureux de vous voir.",
    ],
    "es": [
        "Hola, bienvenidos a nuestra demostración.",
        "El perro corre rápido y la niña baila en la calle.",
    ],
    "en-us": [
        "Hello and welcome to our demonstration.",
        "The quick brown fox jumps over the lazy dog, said the teacher.",
    ],
    "it": [
        "Ciao, benvenuti nella nostra dimostrazione.",
        "Gli gnocchi sono buoni e la pizza è calda.",
    ],
    "pl": ["Dzień dobry, witamy w naszej prezentacji.", "Szczęście i źdźbło trawy."],
}


def _starts(aligned: ipa.Aligned, rate: int) -> list[tuple[str, float]]:
    out, position = [], 0
    for symbol, n in aligned.phonemes:
        if symbol:
            out.append((symbol, position / rate * 1000))
        position += n
    return out


def _errors(lib: espeak_lib.Library, code: str, text: str) -> list[float]:
    spoken = lib.speak(text, code)
    if spoken is None:
        raise SystemExit(f"eSpeak has no voice {code!r}")
    audio = spoken.audio.astype(np.float32) / 32768
    with tempfile.TemporaryDirectory() as folder:
        ipa_path = Path(folder) / "ipa.txt"
        command = ["espeak-ng", "-v", code, "-b", "1", "-q", "--ipa", f"--phonout={ipa_path}"]
        subprocess.run([*command, "--stdin"], input=text.encode(), check=True, capture_output=True)
        clauses = espeak._clauses(ipa_path.read_text(encoding="utf-8"))
    rate = spoken.sample_rate
    estimated = _starts(ipa.clean_alignment(espeak.estimate_alignment(audio, rate, clauses)), rate)
    truth = _starts(
        ipa.clean_alignment(espeak.alignment_from_marks(spoken.marks, len(audio))), rate
    )
    # The two phoneme sequences differ a little (the IPA printed and the events' names): compare
    # the phonemes they share, in order.
    match = difflib.SequenceMatcher(
        a=[s for s, _ in truth], b=[s for s, _ in estimated], autojunk=False
    )
    return [
        abs(estimated[block.b + k][1] - truth[block.a + k][1])
        for block in match.get_matching_blocks()
        for k in range(block.size)
    ]


def _summary(errors: list[float]) -> dict[str, float]:
    e = np.array(errors)
    return {
        "phonemes": len(e),
        "mean_ms": round(float(e.mean()), 1),
        "median_ms": round(float(np.median(e)), 1),
        "p90_ms": round(float(np.percentile(e, 90)), 1),
        "max_ms": round(float(e.max()), 1),
        "over_1_frame": round(float((e > 1000 / 30).mean()), 3),
        "over_2_frames": round(float((e > 2000 / 30).mean()), 3),
    }


def main() -> int:
    lib = espeak_lib.library()
    if lib is None or espeak.binary() is None:
        print("needs espeak-ng (binary and library): apt-get install -y espeak-ng")
        return 2
    results, every = {}, []
    for code, sentences in SENTENCES.items():
        errors = [e for text in sentences for e in _errors(lib, code, text)]
        every += errors
        results[code] = _summary(errors)
        print(code, results[code])
    results["all"] = _summary(every)
    print("all", results["all"])
    OUT.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "machine": platform.platform(),
        "estimate_against_events": results,
    }
    OUT.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
