"""Where the benchmarks read the shared footage: ``$TWINSTUDIO_FOOTAGE`` where it is set, else
``../shared/footage`` beside the project. Nothing generated from it is kept (see its README)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOOTAGE = Path(os.environ.get("TWINSTUDIO_FOOTAGE", str(ROOT.parent / "shared" / "footage")))
CLIPS = FOOTAGE / "clips"
