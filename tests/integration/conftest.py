from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server import Server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One real server (with the demo look trained) shared by a module's tests."""
    srv = Server(
        tmp_path_factory.mktemp("srv") / "data",
        env={"TWINSTUDIO_WEBHOOK_ALLOW_PRIVATE": "true", "TWINSTUDIO_REQUIRE_CONSENT": "false"},
    )
    srv.start()
    try:
        srv.wait_for("/v3/avatars/looks/look_demo_astronaut", {"completed", "failed"}, timeout=180)
        yield srv
    finally:
        srv.stop()


def probe(path: Path) -> dict[str, object]:
    import av

    with av.open(str(path)) as c:
        v = c.streams.video[0]
        a = c.streams.audio[0] if c.streams.audio else None
        return {
            "vcodec": v.codec_context.name,
            "width": v.codec_context.width,
            "height": v.codec_context.height,
            "profile": v.codec_context.profile,
            "pix_fmt": v.codec_context.pix_fmt,
            "acodec": a.codec_context.name if a else None,
            "duration": float(c.duration) / 1e6 if c.duration else 0.0,
        }
