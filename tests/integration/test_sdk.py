"""The SDK against a real ``twinstudio serve``: the README example, a 720p video, errors, webhooks."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from tests.server import Server
from twinstudio.client import (
    AsyncClient,
    AuthenticationError,
    Client,
    InvalidParameterError,
    NotFoundError,
    Video,
    verify_webhook,
)

ROOT = Path(__file__).resolve().parents[2]
DEMO_LOOK = "look_demo_astronaut"
VOICE = "en_US-joe-medium"
pytestmark = pytest.mark.slow


def readme_python_blocks() -> list[str]:
    """The ```python blocks of README.md between the SDK markers."""
    text = (ROOT / "README.md").read_text()
    section = text.split("<!-- sdk:start -->", 1)[1].split("<!-- sdk:end -->", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_readme_sdk_blocks_compile_and_the_example_is_short() -> None:
    blocks = readme_python_blocks()
    assert len(blocks) >= 2
    for i, block in enumerate(blocks):
        compile(block, f"README.md sdk block {i}", "exec")
    assert len(blocks[0].strip().splitlines()) < 15


def test_readme_sdk_example_runs(server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    code = readme_python_blocks()[0]
    for placeholder in ('"http://127.0.0.1:8000"', '"tsk_…"', '"1080p"'):
        assert placeholder in code, placeholder
    code = (
        code.replace('"http://127.0.0.1:8000"', repr(server.url))
        .replace('"tsk_…"', repr(server.key))
        .replace('"1080p"', '"720p"')  # the example as written, at a size quick to render
    )
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "readme_example"}
    exec(compile(code, "README.md sdk example", "exec"), namespace)
    namespace["client"].close()  # type: ignore[attr-defined]
    printed = capsys.readouterr().out
    assert "/files/videos/" in printed
    assert (tmp_path / "demo.mp4").read_bytes()[4:8] == b"ftyp"


def test_video_720p_create_wait_download_delete(server: Server, tmp_path: Path) -> None:
    seen: list[str] = []
    progress: list[tuple[int, int | None]] = []
    with Client(server.url, server.key) as client:
        created = client.videos.create(
            avatar_id=DEMO_LOOK, voice_id=VOICE, script="Hello from the SDK.",
            resolution="720p", title="sdk-test",
        )  # fmt: skip
        assert created.status == "pending" and created.id.startswith("vid_")
        video = client.videos.wait(created, timeout=180, poll=0.5,
                                   on_progress=lambda v: seen.append(v.status))  # fmt: skip
        assert isinstance(video, Video) and video.status == "completed" and seen[-1] == "completed"
        assert (
            (video.width, video.height) == (1280, 720) and video.duration and video.duration > 0.5
        )
        path = client.videos.download(
            video, tmp_path, progress=lambda d, t: progress.append((d, t))
        )
        data = path.read_bytes()
        assert path.name == f"{video.id}.mp4" and data[4:8] == b"ftyp"
        assert progress[-1][0] == len(data)
        assert video.id in [v.id for v in client.videos.list(title="sdk-test")]
        page = client.videos.list_page(limit=1)
        assert len(page.data) == 1
        client.videos.delete(video.id)
        with pytest.raises(NotFoundError) as info:
            client.videos.get(video.id)
        assert info.value.status == 404 and video.id in info.value.message


def test_typed_errors_from_the_server(server: Server) -> None:
    with Client(server.url, server.key) as client:
        with pytest.raises(InvalidParameterError) as info:
            client.videos.create(avatar_id=DEMO_LOOK, voice_id=VOICE, script="x", resolution="999p")
        assert info.value.param == "resolution" and info.value.status == 400
        with pytest.raises(NotFoundError):
            client.avatars.get_look("look_does_not_exist")
    with Client(server.url, "tsk_wrong", max_retries=0) as bad, pytest.raises(AuthenticationError):
        bad.videos.list_page()


def test_looks_voices_and_groups(server: Server, tmp_path: Path) -> None:
    with Client(server.url, server.key) as client:
        look = client.avatars.get_look(DEMO_LOOK)
        assert look.status == "completed" and look.avatar_type == "photo_avatar"
        assert DEMO_LOOK in [lk.id for lk in client.avatars.looks(ownership="public")]
        assert look.group_id in [g.id for g in client.avatars.groups()]
        voices = list(client.voices.list(language="English"))
        assert VOICE in [v.voice_id for v in voices]
        assert client.voices.preview(VOICE, tmp_path / "joe.wav")[:4] == b"RIFF"


def test_webhook_endpoints_and_signature_helper(server: Server) -> None:
    with Client(server.url, server.key) as client:
        ep = client.webhooks.endpoints.create("http://127.0.0.1:9/hook", ["avatar_video.success"])
        assert (
            ep.secret and ep.secret.startswith("whsec_") and ep.events == ["avatar_video.success"]
        )
        assert ep.endpoint_id in [e.endpoint_id for e in client.webhooks.endpoints.list()]
        updated = client.webhooks.endpoints.update(ep.endpoint_id, status="disabled")
        assert updated.status == "disabled"
        rotated = client.webhooks.endpoints.rotate_secret(ep.endpoint_id)
        assert rotated.secret and rotated.secret != ep.secret
        types = {t.event_type for t in client.webhooks.event_types()}
        assert {"avatar_video.success", "avatar_video.fail"} <= types
        list(client.webhooks.events(limit=5))
        client.webhooks.endpoints.delete(ep.endpoint_id)
        # the server's own signing, checked by the SDK's helper
        from twinstudio.webhooks import signing

        body = b'{"event_type": "avatar_video.success", "event_data": {"video_id": "vid_1"}}'
        headers = signing.headers([rotated.secret], "evt_1", int(__import__("time").time()), body)
        assert verify_webhook(rotated.secret, headers, body)["event_data"]["video_id"] == "vid_1"


def test_async_client(server: Server) -> None:
    async def main() -> tuple[str | None, list[str]]:
        async with AsyncClient(server.url, server.key) as client:
            look = await client.avatars.get_look(DEMO_LOOK)
            voices = [v.voice_id async for v in client.voices.list(limit=5)]
            return look.status, voices

    status, voices = asyncio.run(main())
    assert status == "completed" and VOICE in voices
