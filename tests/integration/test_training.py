"""Twin training through the real server: bad footage fails with its code, good footage trains.

``POST /v3/assets`` then ``POST /v3/avatars``; the look ends ``failed`` with ``error.code`` (and
a message saying what to record instead), or ``completed`` with a ``quality`` report.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.server import Server
from tests.unit.twins.conftest import FOOTAGE, write_clip, write_face_clip, write_undecodable


def _train(server: Server, path: Path, **extra: object) -> dict:  # type: ignore[type-arg]
    h = {"x-api-key": server.key}
    up = httpx.post(f"{server.url}/v3/assets", headers=h,
                    files={"file": (path.name, path.read_bytes())}, timeout=60)  # fmt: skip
    assert up.status_code == 200, up.text
    body = {"type": "video", "name": path.stem,
            "file": {"type": "asset_id", "asset_id": up.json()["data"]["asset_id"]}, **extra}  # fmt: skip
    made = httpx.post(f"{server.url}/v3/avatars", headers=h, json=body, timeout=60)
    assert made.status_code == 200, made.text
    look_id = made.json()["data"]["avatar_item"]["id"]
    return server.wait_for(f"/v3/avatars/looks/{look_id}", {"completed", "failed"}, timeout=240)


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda p: write_clip(p, 2.0), "too_short"),
        (lambda p: write_clip(p, 6.0), "no_face"),
        (lambda p: write_face_clip(p, 6.0), "no_speech"),
        (lambda p: write_face_clip(p, 6.0, brightness=0.12), "too_dark"),
    ],
    ids=["two_seconds", "blank_wall", "no_audio", "very_dark"],
)
def test_bad_footage_fails_with_its_code(server: Server, tmp_path: Path, make, code) -> None:  # type: ignore[no-untyped-def]
    look = _train(server, make(tmp_path / "footage.mp4"))
    assert look["status"] == "failed", look
    assert look["error"]["code"] == code
    assert len(look["error"]["message"]) > 40
    assert not look.get("quality")


def test_undecodable_footage_fails(server: Server, tmp_path: Path) -> None:
    bad = write_undecodable(tmp_path / "footage.mkv")
    h = {"x-api-key": server.key}
    up = httpx.post(f"{server.url}/v3/assets", headers=h,
                    files={"file": (bad.name, bad.read_bytes())}, timeout=60)  # fmt: skip
    if up.status_code != 200:  # the upload sniffer may already refuse Matroska
        assert up.status_code == 400
        return
    look = _train(server, bad)
    assert look["status"] == "failed" and look["error"]["code"] == "unreadable_codec"


def test_text_renamed_mp4_is_refused_at_upload(server: Server, tmp_path: Path) -> None:
    fake = tmp_path / "notes.mp4"
    fake.write_text("these are my notes, not a video\n" * 20)
    up = httpx.post(f"{server.url}/v3/assets", headers={"x-api-key": server.key},
                    files={"file": (fake.name, fake.read_bytes())}, timeout=60)  # fmt: skip
    assert up.status_code == 400


@pytest.mark.slow
def test_good_clip_completes_with_a_quality_report(server: Server) -> None:
    clip = FOOTAGE / "clips" / "sadtalker_hdtf_ed_markey_8s.mp4"
    if not clip.exists():
        pytest.skip(f"real footage not present at {FOOTAGE}")
    look = _train(server, clip)
    assert look["status"] == "completed", look
    q = look["quality"]
    assert 0 <= q["overall"] <= 100 and q["advice"]
    assert q["mouth_coverage"]["labels"] == "recognition"
    assert "visemes_missing" in q["mouth_coverage"] and "audio_model" in q
