"""The public demo look: a public-domain portrait that ships inside the package.

See ``twinstudio/assets/demo/PROVENANCE.md`` for where the image comes from and its licence.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

DEMO_IMAGE = "astronaut_eileen_collins.png"


def demo_source() -> Path:
    """Path of the demo portrait (train it with ``train_twin(path, pack_dir, kind="photo")``)."""
    ref = resources.files("twinstudio") / "assets" / "demo" / DEMO_IMAGE
    path = Path(str(ref))
    if not path.is_file():  # pragma: no cover - only when the package data was not installed
        raise FileNotFoundError(f"demo image missing from the installed package: {path}")
    return path
