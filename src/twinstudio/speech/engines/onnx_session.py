"""One way to open an ONNX graph that a TTS engine has changed in memory, on the CPU.

Both ONNX voices (Piper, Kokoro) patch their graph before running it (an alignment output, a
seeded noise table, a decoder cut out), so the graph exists only as an ``onnx.ModelProto``.
Handing ``InferenceSession`` its serialised bytes is the obvious way, but onnxruntime's Python
wrapper then keeps those bytes for the session's lifetime (``InferenceSession._model_bytes``, in
case it must rebuild the session for a fallback provider) on top of the weights its C++ session
holds: the bundled Piper voice's two sessions kept 63 MB that nothing ever read, in every process
that had spoken once, a render's included (RSS 267 → 207 MB once dropped; 2026-12-02). So the
graph is written to a temporary file and opened by path: the session reads it whole while it is
built, and only the path is kept (the file is gone by then; a CPU-only session never rebuilds).

The options are the same for every voice:
- no CPU memory arena by default: the decoder's intermediate tensors grow with the sentence where
  it is decoded whole, and an arena would keep the largest ever seen for the process's lifetime
  (+385 MB after a few long sentences decoded whole, measured); without it they are freed. A
  session whose tensors are bounded (Piper's windowed decoder) asks for one (``arena=True``): its
  buffers are then reused from window to window instead of being mapped and faulted in afresh
  each time, and :func:`shrink_arena` gives them back when a script is spoken (see
  ``piper_model.WindowedSession``);
- threads that do not spin between calls: spinning cost ~15 % more CPU for the same speech while a
  render shared the cores, and even alone it is no faster (the 63 s benchmark script: 4.2–4.5 s at
  1.7 busy cores without, 4.4–4.8 s at 2.0 with; 2026-12-02);
- the session is built at the background CPU priority, so its thread pool runs there: speech
  only takes the cores a render's frames leave idle (``twinstudio.cpu``). Alone, it runs as fast;
- a voice that speaks several sentences at once (Piper's windowed decoder: ``piper_model``) runs
  each on fewer threads (``threads``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from twinstudio.cpu import made_at_background_priority


def cpu_session(model: Any, arena: bool = False, threads: int = 0) -> Any:
    """An ``onnxruntime.InferenceSession`` on the CPU for ``model`` (an ``onnx.ModelProto``),
    with the options above, that keeps no copy of the serialised graph. ``arena``: keep a CPU
    memory arena (only for graphs whose tensors stay small; release it with
    :func:`shrink_arena`). ``threads``: threads one run uses (0: onnxruntime's default, one per
    core)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    options.enable_cpu_mem_arena = arena
    options.intra_op_num_threads = max(0, int(threads))
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    with tempfile.TemporaryDirectory(prefix="twinstudio-onnx-") as tmp:
        path = Path(tmp) / "graph.onnx"
        path.write_bytes(model.SerializeToString())
        return made_at_background_priority(
            lambda: onnxruntime.InferenceSession(
                str(path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        )


def shrink_arena(session: Any, feed: dict[str, Any]) -> None:
    """Run ``session`` once on ``feed`` (make it tiny) and have onnxruntime give the CPU arena's
    free memory back at the end of that run (``memory.enable_memory_arena_shrinkage``)."""
    import onnxruntime

    options = onnxruntime.RunOptions()
    options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
    session.run(None, feed, options)
