"""Loading a Piper voice with alignments and *reproducible durations*.

Piper's duration predictor draws fresh Gaussian noise on every call (``RandomNormalLike``), so the
same sentence comes out a few percent longer or shorter each time. That breaks "speed 0.5 lasts
exactly twice as long as speed 1.0" and makes renders non-reproducible. We patch the ONNX graph in
memory: that one node is replaced by a slice of a fixed, seeded noise table, so durations keep
their natural variation along the sentence but are identical for identical text. The waveform
noise (a different node) is left alone; it does not change durations.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

_LOGGER = logging.getLogger(__name__)

DURATION_NOISE_NODE = "/dp/RandomNormalLike"
NOISE_TABLE_LENGTH = 8192  # phoneme ids per sentence; Piper splits text into sentences first
NOISE_SEED = 20240531


def _fix_duration_noise(model: Any) -> bool:
    """Replace the duration predictor's random node by a seeded table; False if not found."""
    from onnx import helper, numpy_helper

    graph = model.graph
    node = next((n for n in graph.node if n.name == DURATION_NOISE_NODE), None)
    if node is None or node.op_type != "RandomNormalLike":
        return False
    table = np.random.default_rng(NOISE_SEED).standard_normal((1, 2, NOISE_TABLE_LENGTH))
    prefix = "twinstudio_dp_noise"
    constants = [
        numpy_helper.from_array(table.astype(np.float32), f"{prefix}_table"),
        numpy_helper.from_array(np.zeros(3, dtype=np.int64), f"{prefix}_starts"),
        numpy_helper.from_array(np.arange(3, dtype=np.int64), f"{prefix}_axes"),
    ]
    graph.initializer.extend(constants)
    shape = helper.make_node("Shape", [node.input[0]], [f"{prefix}_shape"], name=f"{prefix}_Shape")
    sliced = helper.make_node(
        "Slice",
        [f"{prefix}_table", f"{prefix}_starts", f"{prefix}_shape", f"{prefix}_axes"],
        [node.output[0]],
        name=f"{prefix}_Slice",
    )
    index = list(graph.node).index(node)
    graph.node.remove(node)
    graph.node.insert(index, sliced)
    graph.node.insert(index, shape)
    return True


def load_piper_voice(model_path: Path, config_path: Path) -> Any:
    """A ``piper.PiperVoice`` with alignment output and reproducible durations."""
    import onnx
    import onnxruntime
    from piper import PiperVoice
    from piper.config import PiperConfig
    from piper.patch_voice_with_alignment import add_alignment_output

    from twinstudio.memory import keep_heap_flat

    keep_heap_flat()  # the decoder's big per-sentence tensors must not stay in the heap
    config = json.loads(config_path.read_text(encoding="utf-8"))
    model = onnx.load(str(model_path))
    try:
        add_alignment_output(model)
    except ValueError as error:  # already patched on disk, or an unusual export
        _LOGGER.debug("not adding the alignment output to %s: %s", model_path.name, error)
    if not _fix_duration_noise(model):
        _LOGGER.info("%s: durations will vary slightly between calls", model_path.name)
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    # The decoder's intermediate tensors grow with the sentence's audio (~40 MB per second of
    # speech); onnxruntime's arena would keep the largest ever seen for the process's lifetime
    # (+385 MB after a few long sentences, measured). Without the arena they are freed per call.
    options.enable_cpu_mem_arena = False
    # Its threads must not spin between calls: the renderer works on the same cores while the
    # next piece is synthesised (spinning cost ~15 % more CPU for the same speech, measured).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = onnxruntime.InferenceSession(
        model.SerializeToString(), sess_options=options, providers=["CPUExecutionProvider"]
    )
    return PiperVoice(session=session, config=PiperConfig.from_dict(config))
