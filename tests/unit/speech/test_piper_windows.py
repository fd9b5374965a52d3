"""The Piper voice's windowed decoder: bounded memory, the same audio as a whole decode."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("piper")
onnx = pytest.importorskip("onnx")

from onnx import TensorProto, helper  # noqa: E402

from twinstudio.speech.engines import piper_model  # noqa: E402
from twinstudio.speech.engines.piper import _bundled_paths  # noqa: E402

LONG = (
    "Over the last three months the team shipped four new features, fixed more than two "
    "hundred bugs, and cut the time it takes to open a project by half, which is exactly how "
    "it should be: there were no outages, and the monthly bill went down by a fifth."
)


@pytest.fixture(scope="module")
def voice() -> object:
    paths = _bundled_paths()
    if paths is None:
        pytest.skip("the bundled Piper voice is not installed")
    return piper_model.load_piper_voice(*paths)


def _latent(voice: object) -> np.ndarray:
    session = voice.session  # type: ignore[attr-defined]
    phonemes = voice.phonemize(LONG)[0]  # type: ignore[attr-defined]
    ids = voice.phonemes_to_ids(phonemes)  # type: ignore[attr-defined]
    feed = {
        "input": np.array([ids], dtype=np.int64),
        "input_lengths": np.array([len(ids)], dtype=np.int64),
        "scales": np.array([0.667, 1.0, 0.8], dtype=np.float32),
    }
    z, _ = session.front.run(None, feed)
    return np.asarray(z)


def test_bundled_voice_decodes_in_windows(voice: object) -> None:
    session = voice.session  # type: ignore[attr-defined]
    assert isinstance(session, piper_model.WindowedSession)
    assert 12 <= session.context <= 24  # medium voices: a 13.4-frame receptive field, + margin


def test_windowed_audio_equals_a_whole_decode(voice: object) -> None:
    session = voice.session  # type: ignore[attr-defined]
    z = _latent(voice)
    assert z.shape[2] > 3 * session.window  # long enough for several windows
    whole = session.decoder.run(None, {session.latent: z})[0]
    windowed = session.decode(z)
    assert windowed.shape == whole.shape
    np.testing.assert_allclose(windowed, whole, atol=1e-5)


def test_too_little_context_would_show(voice: object) -> None:
    """The comparison above can fail: with 2 frames of context the windows' edges differ."""
    session = voice.session  # type: ignore[attr-defined]
    z = _latent(voice)
    whole = session.decoder.run(None, {session.latent: z})[0]
    saved = session.context
    try:
        session.context = 2
        windowed = session.decode(z)
    finally:
        session.context = saved
    assert np.abs(windowed - whole).max() > 1e-3


def test_synthesis_lasts_as_its_alignments_say(voice: object) -> None:
    chunks = list(voice.synthesize(LONG, include_alignments=True))  # type: ignore[attr-defined]
    assert len(chunks) == 1
    samples = len(chunks[0].audio_float_array)
    aligned = sum(a.num_samples for a in chunks[0].phoneme_alignments)
    assert samples > 10 * 22050  # a long sentence, decoded in several windows
    assert abs(samples - aligned) <= 256


def _graph(decoder_inputs: list[str], op: str = "Add") -> object:
    """A toy graph: a ``/dec/`` node ``op`` reading ``decoder_inputs`` and writing the output."""
    nodes = [helper.make_node("Identity", ["x"], ["z"], name="/flow/Identity")]
    nodes.append(helper.make_node(op, decoder_inputs, ["y"], name=f"/dec/{op}"))
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, None])]
    if "g" in decoder_inputs:
        inputs.append(helper.make_tensor_value_info("g", TensorProto.FLOAT, [1, 4, 1]))
    out = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, None])]
    return helper.make_model(helper.make_graph(nodes, "toy", inputs, out))


def test_decoder_cut_finds_the_latent_or_declines() -> None:
    assert piper_model._decoder_cut(_graph(["z", "z"])) == ("z", "y")
    assert piper_model._decoder_cut(_graph(["z", "g"])) is None  # a speaker embedding too
    # A normalisation over the whole utterance: windows would change the audio.
    assert piper_model._decoder_cut(_graph(["z"], "InstanceNormalization")) is None


def test_subgraph_keeps_only_what_the_outputs_need() -> None:
    nodes = [
        helper.make_node("Relu", ["x"], ["a"], name="a"),
        helper.make_node("Neg", ["a"], ["b"], name="b"),
        helper.make_node("Abs", ["x"], ["c"], name="c"),  # not on the way to b
    ]
    graph = helper.make_graph(
        nodes,
        "toy",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
        [
            helper.make_tensor_value_info("b", TensorProto.FLOAT, [2]),
            helper.make_tensor_value_info("c", TensorProto.FLOAT, [2]),
        ],
    )
    model = helper.make_model(graph)
    tail = piper_model.subgraph(model, ["a"], ["b"])
    assert [n.name for n in tail.graph.node] == ["b"]
    assert [i.name for i in tail.graph.input] == ["a"]
    onnx.checker.check_model(tail)
    head = piper_model.subgraph(model, ["x"], ["a", "c"])
    assert [n.name for n in head.graph.node] == ["a", "c"]


def test_seeded_noise_is_a_table_tiled_to_any_shape() -> None:
    """The patched node gives the seeded table, repeated past its size and cut to the shape."""
    import onnxruntime

    noise = helper.make_node("RandomNormalLike", ["x"], ["y"], name="/noise", dtype=1)
    graph = helper.make_graph(
        [noise],
        "toy",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, None, None])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, None, None])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 15)])
    assert piper_model._seed_noise(model, "/noise", 7, (1, 2, 3))
    assert not piper_model._seed_noise(model, "/noise", 7, (1, 2, 3))  # already replaced
    session = onnxruntime.InferenceSession(model.SerializeToString())
    table = np.random.default_rng(7).standard_normal((1, 2, 3)).astype(np.float32)
    for shape in [(1, 2, 3), (1, 1, 2), (1, 3, 7)]:
        out = session.run(None, {"x": np.zeros(shape, dtype=np.float32)})[0]
        np.testing.assert_array_equal(out, np.tile(table, (1, 2, 3))[:, : shape[1], : shape[2]])


def test_the_same_sentence_sounds_the_same_every_time(voice: object) -> None:
    """Both of Piper's noises are seeded: a sentence longer than the latent's noise table (so it
    repeats) is the same audio twice in one process, where fresh noise would differ."""
    z = _latent(voice)
    assert z.shape[2] > piper_model.LATENT_NOISE_TABLE[2]
    first, second = (
        next(iter(voice.synthesize(LONG))).audio_float_array  # type: ignore[attr-defined]
        for _ in range(2)
    )
    np.testing.assert_array_equal(first, second)


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        line = next(row for row in status if row.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_release_gives_the_arena_back_and_decoding_goes_on(voice: object) -> None:
    """The decoder keeps an arena while a script is spoken; release() hands it back."""
    from twinstudio.memory import release_free_memory

    session = voice.session  # type: ignore[attr-defined]
    z = _latent(voice)
    first = session.decode(z)
    held = _rss_mb()
    session.release()
    release_free_memory()
    assert held - _rss_mb() > 20  # the windows' buffers (~140 MB for this voice) are gone
    np.testing.assert_array_equal(session.decode(z), first)  # and the arena grows back


def test_release_waits_for_a_decoder_in_use(voice: object) -> None:
    """A script that ends while another is decoding (two renders on one voice) shrinks a
    decoder's arena only once that decoder is free, never beside a decode in it."""
    import threading

    session = voice.session  # type: ignore[attr-defined]
    session.decode(_latent(voice)[:, :, :40])
    busy = session._free.get()  # a decode in progress on this decoder
    released = threading.Event()
    thread = threading.Thread(target=lambda: (session.release(), released.set()))
    thread.start()
    try:
        assert not released.wait(0.5)  # waiting for the busy decoder
    finally:
        session._free.put(busy)  # that decode ends
    assert released.wait(10)
    thread.join(10)
    assert not any(session._warm)


def test_the_arena_takes_its_widest_window_first(voice: object) -> None:
    """Made beside a render's frames, the speech must not grow its arenas mid-video: there is
    one decoder (and arena) per sentence spoken at once, never two decodes on one, and each
    decoder's first decode after a release runs the widest window there will be; no later
    window, even a short sentence's single one, is wider."""
    session = voice.session  # type: ignore[attr-defined]
    z = _latent(voice)
    widths: dict[int, list[int]] = {}
    real = list(session.decoders)

    class Recording:
        def __init__(self, k: int) -> None:
            self.k = k

        def run(self, names: object, feed: dict[str, np.ndarray]) -> object:
            widths.setdefault(self.k, []).append(feed[session.latent].shape[2])
            return real[self.k].run(names, feed)

    session.release()
    session.decoders = [Recording(k) for k in range(len(real))]
    try:
        short = z[:, :, : session.window + 2 * session.context - 5]  # one window, near the widest
        for _ in range(2):
            session.decode(short)
            session.decode(z)
    finally:
        session.decoders = real
    widest = session.window + 2 * session.context
    assert session.sentences_at_once == len(real) == 2
    assert sorted(widths) == [0, 1]  # both decoders were used
    for runs in widths.values():
        assert runs[0] == widest and max(runs) == widest and runs.count(widest) == 1
    assert sum(len(runs) for runs in widths.values()) > 6  # the sentences' own windows
