"""Loading a Piper voice with alignments, *reproducible durations* and a *windowed decoder*.

Piper draws fresh Gaussian noise on every call (``RandomNormalLike``) twice: in its duration
predictor, so the same sentence comes out a few percent longer or shorter each time, and in the
latent it decodes, so the same sentence sounds slightly different each time. The first breaks
"speed 0.5 lasts exactly twice as long as speed 1.0"; both make renders non-reproducible, and the
second made every test that listens to the speech a draw: the recognition test's word match
ranged 0.76–0.95 over 36 runs of the same sentence (2026-12-05). We patch the ONNX graph in
memory: each node is replaced by a fixed, seeded noise table, tiled to the shape asked for
(:func:`_seed_noise`), so the noise keeps its statistics along the sentence but identical text
gives identical audio.

The waveform decoder (HiFi-GAN, the ``/dec`` nodes) turns a latent of 86 frames per second into
audio, and its intermediate tensors grow with the sentence: decoded whole, a 13.6 s sentence
raised the process's peak by 288 MB, and that spike (on top of a render's frames and encoder)
set every long render's peak memory. The graph is split in two sessions at the decoder's input:
the front (text encoder, durations, flow) runs whole; the decoder runs on windows of
:data:`DECODER_WINDOW` frames, each with :func:`receptive_context` frames of latent on either
side, and only each window's own samples are kept. The decoder is convolutional and that context
covers its receptive field, so the audio is *bit-identical* to a whole decode (checked by
tests/unit/speech/test_piper_windows.py) while the spike stays ~60-90 MB whatever the sentence's
length (13.6 s sentence: 288 → 60 MB, and 0.84 → 0.70 s: smaller tensors fault in less; measured
2026-12-01). Voices whose decoder takes more than the latent (multi-speaker), or does anything
not local in time (``LOCAL_OPS``), decode whole.

Both windowed sessions keep an onnxruntime memory arena while a script is spoken: without one,
every window's tensors (several MB each) were mapped afresh and faulted in, 430,000 page faults
for the 63 s benchmark script. Since the windows bound the tensors, the arena stays ~140 MB, and
:meth:`WindowedSession.release` (which ``TTSEngine`` calls when a script's stream ends or is
closed) gives it back, so a render that follows starts from the same memory as before. The same
script, three alternating pairs of runs (2026-12-04): 3.38–3.74 s and 6.2–6.8 CPU s with the
arena against 3.99–4.54 s and 7.3–8.2 CPU s without; ~42,000 faults (the arena growing back once
per script); RSS after the script 2.7 MB above the arena-less process's.

The arena takes its full size at a script's first sentence: the first decode after a release
runs the decoder once on a zero latent of the widest window there is (``DECODER_WINDOW`` plus
context on both sides; a sentence decoded as one window is never wider). Since the speech is
made beside the frames (``render.pipeline``), the arena growing at whichever later sentence first
needed a wider window or met a fragmented arena met a render's buffers mid-video: with the
benchmark script alone, peak RSS rose 258 → 315 MB at its second piece and again to 343 and 353 MB
at its 39th and 46th second, and a 10-minute 1080p render's peak rose 12 MB after its first
minute. Warmed: 306 MB at the first piece, 319 at the second, 325 by the 73rd second and no
further (2026-12-04), for one extra window's decode per script (~2.6 s of audio, ~0.1 CPU s).

A windowed voice speaks :data:`SENTENCES_AT_ONCE` sentences at once (``TTSEngine``'s
``sentences_at_once``), each run on its share of the cores, rather than one sentence at a time on
all of them. Beside a render's frames (at the background priority, ``twinstudio.cpu``) a run that
splits each step across two threads stalls whenever the frames take one of them: the other
thread spins (onnxruntime's caller waits for its workers with ``pause``, whatever
``allow_spinning`` says; ``perf``: 4.8 % of a 720p render's CPU on one ``pause``). One thread per
run does not wait on another. The benchmark's 720p 16:9 render with background removal, three
alternating pairs (2026-12-05): the speech 7.6–7.8 → 6.2–6.3 CPU s, end to end 13.54–13.90 →
12.89–13.04 s, and it is done 2.3–2.5 s sooner; alone, the script takes the same time (3.5 s) for
6.2 instead of 6.4–6.7 CPU s.

Each sentence spoken at once has a decoder session (and arena) of its own, taken from a free list
for each decode, and each arena is warmed by its own first decode after a release: two windows
never share one arena, so neither grows mid-video. (With one shared decoder, warmed once or by
each of the first two decodes, the two windows met at whatever moment they first coincided: a
10.6-minute 1080p render's peak rose 9.3 and 2.6 MB after its first minute; one warm-up decode of
twice the widest window instead raised a render's peak by 100–130 MB, the arena growing by
doubling.) What it costs: a 1080p render's peak 599–603 → ~700 MB (the second decoder's arena and
its 7 MB of weights), flat with length (2026-12-05).
"""

from __future__ import annotations

import json
import logging
import math
import os
import queue
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from twinstudio.speech.engines.onnx_session import cpu_session, shrink_arena

_LOGGER = logging.getLogger(__name__)

DURATION_NOISE_NODE = "/dp/RandomNormalLike"
DURATION_NOISE_TABLE = (1, 2, 8192)  # (batch, 2, phoneme ids): tiled past a sentence of 8192
LATENT_NOISE_NODE = "/RandomNormalLike"  # the prior's sample: z = m + noise * exp(logs) * scale
LATENT_NOISE_TABLE = (1, 192, 1024)  # (batch, channels, latent frames: ~12 s), tiled past either
NOISE_SEED = 20240531
LATENT_NOISE_SEED = 20261205
DECODER_PREFIX = "/dec/"
DECODER_WINDOW = 192  # latent frames (~2.2 s at 22.05 kHz): each window's tensors stay < 100 MB
# Sentences a windowed voice speaks at once, each on 1/SENTENCES_AT_ONCE of the cores (module docs).
SENTENCES_AT_ONCE = 2
# Operations whose output at a time step depends only on nearby inputs (the convolutions' reach is
# counted by receptive_context); a decoder with anything else (a normalisation over time,
# attention, a recurrence) is decoded whole, since windows would change its audio.
LOCAL_OPS = frozenset({"Conv", "ConvTranspose", "LeakyRelu", "Relu", "Tanh", "Sigmoid", "Add",
                       "Sub", "Mul", "Div", "Constant", "Identity", "Cast"})  # fmt: skip


def _seed_noise(model: Any, node_name: str, seed: int, table_shape: tuple[int, int, int]) -> bool:
    """Replace the rank-3 ``RandomNormalLike`` node ``node_name`` by a seeded Gaussian table of
    ``table_shape``, tiled to cover the shape asked for and cut to it; False if not found.

    Along an axis longer than the table the noise repeats (the latent's every ~12 s); where the
    shape fits the table the values are the table's first ones, whatever the length.
    """
    from onnx import helper, numpy_helper

    graph = model.graph
    node = next((n for n in graph.node if n.name == node_name), None)
    if node is None or node.op_type != "RandomNormalLike":
        return False
    table = np.random.default_rng(seed).standard_normal(table_shape).astype(np.float32)
    prefix = "twinstudio_" + node_name.strip("/").replace("/", "_")
    size = np.array(table_shape, dtype=np.int64)
    graph.initializer.extend(
        [
            numpy_helper.from_array(table, f"{prefix}_table"),
            numpy_helper.from_array(size - 1, f"{prefix}_size_less_one"),
            numpy_helper.from_array(size, f"{prefix}_size"),
            numpy_helper.from_array(np.zeros(3, dtype=np.int64), f"{prefix}_starts"),
            numpy_helper.from_array(np.arange(3, dtype=np.int64), f"{prefix}_axes"),
        ]
    )

    def step(op: str, inputs: list[str], name: str) -> Any:
        return helper.make_node(op, inputs, [f"{prefix}_{name}"], name=f"{prefix}_{name}")

    nodes = [
        step("Shape", [node.input[0]], "shape"),
        step("Add", [f"{prefix}_shape", f"{prefix}_size_less_one"], "rounded_up"),
        step("Div", [f"{prefix}_rounded_up", f"{prefix}_size"], "repeats"),  # ceil(shape / size)
        step("Tile", [f"{prefix}_table", f"{prefix}_repeats"], "tiled"),
    ]
    cut = helper.make_node(
        "Slice",
        [f"{prefix}_tiled", f"{prefix}_starts", f"{prefix}_shape", f"{prefix}_axes"],
        [node.output[0]],
        name=f"{prefix}_Slice",
    )
    index = list(graph.node).index(node)
    graph.node.remove(node)
    for offset, made in enumerate([*nodes, cut]):
        graph.node.insert(index + offset, made)
    return True


def load_piper_voice(model_path: Path, config_path: Path) -> Any:
    """A ``piper.PiperVoice`` with alignment output, reproducible durations and a windowed
    decoder (whole where the voice's graph does not allow it)."""
    import onnx
    from piper import PiperVoice
    from piper.config import PiperConfig
    from piper.patch_voice_with_alignment import add_alignment_output

    from twinstudio.memory import keep_heap_flat
    from twinstudio.speech.engines.espeak_bridge import stop_leaks

    keep_heap_flat()  # the decoder's big per-sentence tensors must not stay in the heap
    stop_leaks()  # Piper's phonemizer leaked at every call (see espeak_bridge)
    config = json.loads(config_path.read_text(encoding="utf-8"))
    model = onnx.load(str(model_path))
    try:
        add_alignment_output(model)
    except ValueError as error:  # already patched on disk, or an unusual export
        _LOGGER.debug("not adding the alignment output to %s: %s", model_path.name, error)
    if not _seed_noise(model, DURATION_NOISE_NODE, NOISE_SEED, DURATION_NOISE_TABLE):
        _LOGGER.info("%s: durations will vary slightly between calls", model_path.name)
    if not _seed_noise(model, LATENT_NOISE_NODE, LATENT_NOISE_SEED, LATENT_NOISE_TABLE):
        _LOGGER.info("%s: the audio will vary slightly between calls", model_path.name)
    alignment = _alignment_output(model)
    decoder = _decoder_cut(model)
    if decoder is None or alignment is None:
        _LOGGER.info("%s: the decoder runs whole (no single-input /dec block)", model_path.name)
        session: Any = cpu_session(model)
    else:
        latent, audio = decoder
        session = WindowedSession(model, latent, audio, alignment)
    return PiperVoice(session=session, config=PiperConfig.from_dict(config))


def _alignment_output(model: Any) -> str | None:
    """The graph's second output: the per-phoneme sample counts ``add_alignment_output`` marks."""
    outputs = [o.name for o in model.graph.output]
    return outputs[1] if len(outputs) > 1 else None


def _decoder_cut(model: Any) -> tuple[str, str] | None:
    """``(latent, audio)``: the one tensor the decoder block reads from the rest of the graph and
    the graph's audio output, or None where the decoder needs more (e.g. a speaker embedding)."""
    graph = model.graph
    nodes = [n for n in graph.node if n.name.startswith(DECODER_PREFIX)]
    if not nodes:
        return None
    made = {o for n in nodes for o in n.output}
    constants = {i.name for i in graph.initializer}
    constants |= {o for n in graph.node if n.op_type == "Constant" for o in n.output}
    external = {i for n in nodes for i in n.input if i and i not in made and i not in constants}
    if len(external) != 1 or not graph.output:
        return None
    if any(n.op_type not in LOCAL_OPS for n in nodes):
        return None  # not purely local in time: windows would not give the same audio
    if any(a.type in (a.GRAPH, a.GRAPHS) for n in graph.node for a in n.attribute):
        return None  # control flow: a subgraph may read outer tensors this split cannot see
    return external.pop(), graph.output[0].name


def subgraph(model: Any, inputs: Sequence[str], outputs: Sequence[str]) -> Any:
    """The part of ``model`` that computes ``outputs`` from ``inputs`` (and its constants).

    One backward walk over the producers, in linear time: ``onnx.utils.Extractor`` does the same
    but took 4.6 s on a Piper voice (its load went from 0.5 to 5.1 s); this walk ~0.2 s.
    """
    from onnx import helper

    graph = model.graph
    producer = {out: i for i, node in enumerate(graph.node) for out in node.output}
    initializers = {init.name: init for init in graph.initializer}
    keep: set[int] = set()
    used: set[str] = set()
    seen = set(inputs)
    stack = list(outputs)
    while stack:
        name = stack.pop()
        if not name or name in seen:
            continue
        seen.add(name)
        if name in initializers:
            used.add(name)
        elif name in producer and producer[name] not in keep:
            keep.add(producer[name])
            stack.extend(graph.node[producer[name]].input)
    declared = {v.name: v for v in [*graph.input, *graph.output, *graph.value_info]}
    if any(n not in declared or not declared[n].type.HasField("tensor_type") for n in inputs):
        from onnx import shape_inference  # a cut inside the graph: learn that tensor's type

        inferred = shape_inference.infer_shapes(model).graph.value_info
        declared.update({v.name: v for v in inferred if v.name in inputs})

    def info(name: str) -> Any:
        return declared.get(name) or helper.make_empty_tensor_value_info(name)

    sub = helper.make_graph(
        [graph.node[i] for i in sorted(keep)],  # the graph's order is a topological one
        graph.name,
        [info(n) for n in inputs],
        [info(n) for n in outputs],
        [initializers[n] for n in initializers if n in used],
    )
    out = helper.make_model(sub, opset_imports=list(model.opset_import))
    out.ir_version = model.ir_version
    return out


def receptive_context(model: Any) -> int:
    """Latent frames of context either side that make a windowed decode equal a whole one.

    Each convolution of the decoder widens what one output sample sees by ``(k - 1) · d / 2``
    samples at its own rate, which is ``1 / upsampled`` latent frames per sample; summing them in
    graph order over-counts the parallel residual blocks (their maximum would do), so this is an
    upper bound. Medium voices: 13.4 frames, and 16 is bit-identical.
    """
    span = 0.0
    rate = 1  # output samples per latent frame at this point of the decoder
    for node in model.graph.node:
        if not node.name.startswith(DECODER_PREFIX) or node.op_type not in (
            "Conv",
            "ConvTranspose",
        ):
            continue
        attrs = {a.name: list(a.ints) for a in node.attribute}
        kernel = attrs.get("kernel_shape", [1])[0]
        dilation = attrs.get("dilations", [1])[0]
        if node.op_type == "ConvTranspose":
            stride = attrs.get("strides", [1])[0]
            rate *= stride
            span += kernel / 2 / rate
        else:
            span += (kernel - 1) * dilation / 2 / rate
    return math.ceil(span) + 2


class WindowedSession:
    """An ``InferenceSession`` look-alike (``run`` only, as ``PiperVoice`` uses it) that runs the
    front of the graph whole and its decoder window by window; see the module's docs."""

    def __init__(
        self, model: Any, latent: str, audio: str, alignment: str, at_once: int = SENTENCES_AT_ONCE
    ) -> None:
        inputs = [i.name for i in model.graph.input]
        self.context = receptive_context(model)
        self.window = DECODER_WINDOW
        self.latent = latent
        self.sentences_at_once = max(1, at_once)  # runs in threads of their own (module docs)
        threads = max(1, (os.cpu_count() or 1) // self.sentences_at_once)
        front = subgraph(model, inputs, [latent, alignment])
        self.front = cpu_session(front, arena=True, threads=threads)
        # One decoder (and arena) per sentence spoken at once; a decode takes whichever is free.
        decoder = subgraph(model, [latent], [audio])
        self.decoders = [cpu_session(decoder, arena=True, threads=threads)
                         for _ in range(self.sentences_at_once)]  # fmt: skip
        self._free: queue.SimpleQueue[int] = queue.SimpleQueue()
        for k in range(self.sentences_at_once):
            self._free.put(k)
        self._warm = [False] * self.sentences_at_once  # arena k has held its widest since release
        self._tiny_feed: dict[str, Any] | None = None  # one phoneme, as last fed (for release)
        self._tiny: Any = None  # a one-frame latent like the last one decoded (for release)

    @property
    def decoder(self) -> Any:
        """The first decoder session (all of them compute the same)."""
        return self.decoders[0]

    def run(self, output_names: Sequence[str] | None, feed: Mapping[str, Any]) -> list[Any]:
        """``[audio (1, 1, samples), samples per phoneme id]``, as the whole graph returns."""
        del output_names  # PiperVoice asks for all of them
        if "input" in feed and "input_lengths" in feed:
            lengths = np.ones_like(feed["input_lengths"])
            self._tiny_feed = {**feed, "input": feed["input"][:, :1], "input_lengths": lengths}
        z, alignment = self.front.run(None, dict(feed))
        return [self.decode(z), alignment]

    def decode(self, z: Any) -> Any:
        """The decoder's audio for latent ``z`` (1, channels, frames), window by window, on
        whichever decoder session is free (there are as many as sentences spoken at once)."""
        k = self._free.get()
        try:
            return self._decode(self.decoders[k], k, z)
        finally:
            self._free.put(k)

    def _decode(self, decoder: Any, k: int, z: Any) -> Any:
        frames = z.shape[2]
        self._tiny = np.zeros_like(z[:, :, :1])
        widest = self.window + 2 * self.context  # no window is wider than this
        if not self._warm[k]:  # the arena's full size now, not at a later sentence (module docs)
            decoder.run(None, {self.latent: np.zeros((*z.shape[:2], widest), z.dtype)})
            self._warm[k] = True
        if frames <= widest:  # short: one window, no context to pay
            return decoder.run(None, {self.latent: z})[0]
        step = math.ceil(frames / math.ceil(frames / self.window))  # even windows, none tiny
        parts = []
        for start in range(0, frames, step):
            end = min(frames, start + step)
            lo, hi = max(0, start - self.context), min(frames, end + self.context)
            out = decoder.run(None, {self.latent: z[:, :, lo:hi]})[0]
            hop = out.shape[-1] // (hi - lo)
            parts.append(out[..., (start - lo) * hop : (end - lo) * hop])
        return np.concatenate(parts, axis=-1)

    def release(self) -> None:
        """Give the sessions' arenas back to the system: a one-phoneme run of the front and a
        one-frame decode on each decoder used, each told to shrink its arena when it ends. Each
        decoder is taken from the free list as a decode takes it, so a script that ends while
        another (a second render in the process, on the same voice) is decoding waits for that
        decoder rather than running beside it in its arena."""
        if self._tiny_feed is not None:
            shrink_arena(self.front, self._tiny_feed)
        taken = [self._free.get() for _ in self.decoders]
        try:
            for k in taken:
                if self._warm[k] and self._tiny is not None:
                    shrink_arena(self.decoders[k], {self.latent: self._tiny})
                self._warm[k] = False
        finally:
            for k in taken:
                self._free.put(k)
