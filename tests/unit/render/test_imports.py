"""Importing the public entry points stays cheap (no MediaPipe / OpenCV / PyAV at import)."""

from __future__ import annotations

import subprocess
import sys


def test_public_imports_are_light() -> None:
    code = (
        "import sys\n"
        "from twinstudio.render import render_video\n"
        "from twinstudio.twins import TwinInfo, train_twin\n"
        "from twinstudio.twins.demo import demo_source\n"
        "assert demo_source().is_file()\n"
        "heavy = [m for m in ('mediapipe', 'cv2', 'av') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
