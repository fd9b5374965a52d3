"""Shared fixtures: an isolated data folder per test, app contexts, API clients, footage paths."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

FOOTAGE = Path(__file__).resolve().parents[1].parent / "shared" / "footage"


@pytest.fixture()
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh TWINSTUDIO_DATA_DIR; settings are re-read for each test."""
    from twinstudio.config import get_settings

    d = tmp_path / "data"
    monkeypatch.setenv("TWINSTUDIO_DATA_DIR", str(d))
    monkeypatch.setenv("TWINSTUDIO_DEMO", "false")
    get_settings.cache_clear()
    yield d
    get_settings.cache_clear()


@pytest.fixture()
def footage() -> Path:
    """The shared development footage; tests using it skip where it is absent."""
    if not (FOOTAGE / "clips").is_dir():
        pytest.skip(f"development footage not found at {FOOTAGE} (see shared/footage/README.md)")
    return FOOTAGE


@pytest.fixture()
def ctx(data_dir: Path) -> Iterator[object]:
    from twinstudio.config import get_settings
    from twinstudio.services.context import build_context

    context = build_context(get_settings())
    yield context
    context.db.dispose()
