"""Opening an in-memory ONNX graph: it runs, and no serialised copy is kept beside the session."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper  # noqa: E402

from twinstudio.speech.engines.onnx_session import cpu_session  # noqa: E402


def _doubler() -> object:
    """y = x + x, with a 1 MB initializer so that a kept copy would be easy to see."""
    weight = helper.make_tensor("w", TensorProto.FLOAT, [1 << 18], np.zeros(1 << 18, np.float32))
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "x"], ["s"]), helper.make_node("Identity", ["s"], ["y"])],
        "doubler",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])],
        initializer=[weight],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_the_session_runs_the_graph_and_leaves_no_file() -> None:
    before = set(Path(tempfile.gettempdir()).glob("twinstudio-onnx-*"))
    session = cpu_session(_doubler())
    (y,) = session.run(None, {"x": np.array([1.0, 2.0, 3.5], np.float32)})
    np.testing.assert_array_equal(y, [2.0, 4.0, 7.0])
    assert set(Path(tempfile.gettempdir()).glob("twinstudio-onnx-*")) == before


def test_the_serialised_graph_is_not_kept_for_the_sessions_lifetime() -> None:
    # onnxruntime's wrapper keeps the bytes it was given (``_model_bytes``) as long as the
    # session lives: 63 MB for the bundled Piper voice. Opened by path, it keeps only the path.
    session = cpu_session(_doubler())
    kept = [v for v in vars(session).values() if isinstance(v, bytes | bytearray)]
    assert sum(len(v) for v in kept) < 1 << 16
