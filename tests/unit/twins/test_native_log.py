"""Native log: MediaPipe's start-up lines kept off stderr, and nothing else lost or reordered.

Each case runs in a fresh interpreter, so that its file descriptor 2 is a plain pipe to the test.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import twinstudio

DEMO = Path(twinstudio.__file__).parent / "assets" / "demo" / "astronaut_eileen_collins.png"


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_known_lines_are_dropped_and_everything_else_kept_in_order() -> None:
    result = _run(
        """
        import os, sys
        from twinstudio.twins.native_log import filtered_stderr
        os.write(2, b"before\\n")
        with filtered_stderr():
            os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\\nkeep me\\n")
            os.write(2, b"W0000 00:00:1.2 13642 inference_feedback_manager.cc:114] Feedback\\n")
            print("also kept", file=sys.stderr)
            os.write(2, b"no newline at the end")
        os.write(2, b"\\nafter\\n")
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == "before\nkeep me\nalso kept\nno newline at the end\nafter\n"


def test_a_traceback_after_the_window_still_reaches_stderr() -> None:
    result = _run(
        """
        from twinstudio.twins.native_log import filtered_stderr
        with filtered_stderr():
            pass
        raise SystemExit("the error a user must see")
        """
    )
    assert result.returncode == 1 and "the error a user must see" in result.stderr


def test_a_child_started_in_the_window_keeps_its_stderr_after_it() -> None:
    result = _run(
        """
        import subprocess, sys
        from twinstudio.twins.native_log import filtered_stderr
        child = "import sys, time; time.sleep(0.5); sys.stderr.write('from the child\\\\n')"
        with filtered_stderr():
            proc = subprocess.Popen([sys.executable, "-c", child])
        proc.wait()
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == "from the child\n"


def test_overlapping_windows_from_threads_restore_stderr_once() -> None:
    result = _run(
        """
        import os, threading
        from twinstudio.twins.native_log import filtered_stderr
        before = os.fstat(2).st_ino
        gate = threading.Barrier(2)
        def work(i):
            with filtered_stderr():
                gate.wait()
                os.write(2, b"Created TensorFlow Lite XNNPACK delegate\\n")
                os.write(2, f"thread {i}\\n".encode())
                gate.wait()
        threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        assert os.fstat(2).st_ino == before
        os.write(2, b"restored\\n")
        """
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert sorted(lines[:2]) == ["thread 0", "thread 1"] and lines[2:] == ["restored"]


def test_a_face_tracker_starts_without_mediapipe_log_lines() -> None:
    result = _run(
        f"""
        import sys
        import cv2
        from twinstudio.twins.faces import FaceTracker, still_landmarks
        rgb = cv2.cvtColor(cv2.imread({str(DEMO)!r}), cv2.COLOR_BGR2RGB)
        tracker = FaceTracker()
        assert tracker.landmarks(rgb) is not None
        assert tracker.count_faces(rgb) == 1
        assert len(still_landmarks(rgb)) == 1
        print("done", file=sys.stderr)
        """
    )
    assert result.returncode == 0, result.stderr
    # (libpng's warning about the demo PNG's colour profile is OpenCV's, outside any window.)
    lines = [line for line in result.stderr.splitlines() if not line.startswith("libpng")]
    assert lines == ["done"], result.stderr
