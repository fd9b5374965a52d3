"""Errors, pagination, waiting and downloading, against a scripted transport."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from tests.unit.client.helpers import BASE, VIDEO, Script, error, ok
from twinstudio.client import (
    AuthenticationError,
    Look,
    NotFoundError,
    Page,
    TrainingFailedError,
    TwinstudioError,
    Video,
    VideoFailedError,
    WaitTimeoutError,
)


def test_404_becomes_not_found_error_with_message_and_param() -> None:
    script = Script(error(404, "not_found", "No video 'vid_x' in this account.", "video_id"))
    with pytest.raises(NotFoundError) as info:
        script.client().videos.get("vid_x")
    err = info.value
    assert (err.status, err.code, err.param) == (404, "not_found", "video_id")
    assert err.message == "No video 'vid_x' in this account."
    assert "vid_x" in str(err) and "video_id" in str(err)


def test_401_and_a_non_json_error_body() -> None:
    with pytest.raises(AuthenticationError):
        Script(error(401, "authentication_failed", "bad key")).client().voices.list().first_page()
    with pytest.raises(NotFoundError) as info:
        Script(httpx.Response(404, text="nothing here")).client().videos.get("v")
    assert info.value.code == "http_404" and info.value.message == "nothing here"


def _paged(request: httpx.Request) -> httpx.Response:
    token = parse_qs(urlparse(str(request.url)).query).get("token", [None])[0]
    pages = {
        None: (["vid_1", "vid_2"], "t2"),
        "t2": (["vid_3", "vid_4"], "t3"),
        "t3": (["vid_5"], None),
    }
    ids, nxt = pages[token]
    return ok(
        [{**VIDEO, "id": i, "video_id": i} for i in ids], has_more=nxt is not None, next_token=nxt
    )


def test_list_follows_next_token_lazily() -> None:
    script = Script(_paged)
    videos = script.client().videos.list(limit=2)
    assert script.requests == []  # nothing fetched before iteration
    assert [v.id for v in videos] == ["vid_1", "vid_2", "vid_3", "vid_4", "vid_5"]
    queries = [parse_qs(urlparse(str(r.url)).query) for r in script.requests]
    assert [q.get("token") for q in queries] == [None, ["t2"], ["t3"]]
    assert all(q["limit"] == ["2"] for q in queries)


def test_list_page_returns_one_typed_page() -> None:
    page = Script(_paged).client().videos.list_page(limit=2, token="t2")
    assert isinstance(page, Page) and page.has_more and page.next_token == "t3"
    assert [v.id for v in page] == ["vid_3", "vid_4"] and isinstance(page.data[0], Video)


def test_async_list_follows_next_token() -> None:
    script = Script(_paged)

    async def main() -> list[str]:
        async with script.async_client() as client:
            return [v.id async for v in client.videos.list()]

    assert asyncio.run(main()) == ["vid_1", "vid_2", "vid_3", "vid_4", "vid_5"]


def test_models_keep_unknown_fields_and_parse_nested_errors() -> None:
    look = Look.from_dict(
        {"id": "look_1", "status": "failed", "tags": None, "new_field": 1,
         "error": {"code": "training_failed", "message": "Footage too short"}}
    )  # fmt: skip
    assert look.error is not None and look.error.code == "training_failed"
    assert look.tags == [] and look.to_dict()["new_field"] == 1


def test_wait_polls_with_backoff_until_completed() -> None:
    seen: list[int | None] = []
    script = Script(
        ok({**VIDEO, "status": "pending", "progress": 0, "video_url": None}),
        ok({**VIDEO, "status": "processing", "progress": 40, "video_url": None}),
        ok({**VIDEO, "status": "processing", "progress": 80, "video_url": None}),
        ok(VIDEO),
    )
    video = script.client().videos.wait("vid_1", poll=1.0, max_poll=2.0,
                                        on_progress=lambda v: seen.append(v.progress))  # fmt: skip
    assert video.status == "completed" and seen == [0, 40, 80, 100]
    assert script.sleeps == [1.0, 1.5, 2.0]


def test_wait_raises_video_failed_error() -> None:
    failed = {**VIDEO, "status": "failed", "video_url": None, "failure_code": "render_error",
              "failure_message": "the twin is not ready"}  # fmt: skip
    with pytest.raises(VideoFailedError) as info:
        Script(ok(failed)).client().videos.wait("vid_1")
    assert info.value.failure_code == "render_error"
    assert info.value.failure_message == "the twin is not ready"


def test_wait_times_out() -> None:
    script = Script(ok({**VIDEO, "status": "processing", "video_url": None}))
    client = script.client()
    now = [0.0]
    client._clock = lambda: now[0]
    client._sleep = lambda s: now.__setitem__(0, now[0] + s)
    with pytest.raises(WaitTimeoutError) as info:
        client.videos.wait("vid_1", timeout=10, poll=1.0, max_poll=4.0)
    assert isinstance(info.value.last, Video) and now[0] <= 10


def test_wait_look_raises_training_failed_error() -> None:
    look = {"id": "look_1", "status": "failed",
            "error": {"code": "no_face", "message": "No face was found."}}  # fmt: skip
    with pytest.raises(TrainingFailedError) as info:
        Script(ok(look)).client().avatars.wait_look("look_1")
    assert info.value.failure_code == "no_face"


def _files(request: httpx.Request) -> httpx.Response:
    if request.url.path.startswith("/files/"):
        assert "x-api-key" not in request.headers  # signed links never get the key
        assert request.url.params.get("sig"), "the signed query string must be kept"
        return httpx.Response(200, content=b"\x00\x00\x00\x18ftypisom" + b"x" * 100_000)
    return ok(VIDEO)


def test_download_streams_to_a_file_with_progress(tmp_path: Path) -> None:
    calls: list[tuple[int, int | None]] = []
    path = (
        Script(_files)
        .client()
        .videos.download("vid_1", tmp_path / "out.mp4", progress=lambda d, t: calls.append((d, t)))
    )
    data = path.read_bytes()
    assert data[4:8] == b"ftyp" and len(data) == 100_012
    assert calls[-1] == (100_012, 100_012) and len(calls) >= 2
    assert not list(tmp_path.glob("*.part"))


def test_download_into_a_folder_and_refreshes_an_expired_link(tmp_path: Path) -> None:
    expired = Video.from_dict({**VIDEO, "video_url": f"{BASE}/files/old?sig=x"})

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/files/old":
            return error(403, "forbidden", "expired")
        return _files(request)

    path = Script(handler).client().videos.download(expired, tmp_path)
    assert path == tmp_path / "vid_1.mp4" and path.stat().st_size == 100_012


def test_download_of_an_unfinished_video_is_refused(tmp_path: Path) -> None:
    script = Script(ok({**VIDEO, "status": "processing", "video_url": None}))
    with pytest.raises(TwinstudioError, match="nothing to download"):
        script.client().videos.download("vid_1", tmp_path / "x.mp4")


def test_create_twin_uploads_then_creates(tmp_path: Path) -> None:
    footage = tmp_path / "me.mp4"
    footage.write_bytes(b"fake")

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v3/assets":
            assert b'filename="me.mp4"' in request.read()
            return ok({"asset_id": "ast_1", "url": None, "mime_type": "video/mp4", "size_bytes": 4})
        if request.method == "POST":
            assert request.headers["idempotency-key"]
            body = request.read()
            assert b'"asset_id":"ast_1"' in body.replace(
                b" ", b""
            ) and b'"matting":true' in body.replace(b" ", b"")
            return ok(
                {
                    "avatar_item": {"id": "look_9", "status": "processing"},
                    "avatar_group": {"id": "g"},
                }
            )
        return ok({"id": "look_9", "status": "completed", "quality": {"overall": 0.8}})

    client = Script(handler).client()
    look = client.avatars.create_twin(footage, "Me", matting=True)
    assert (look.id, look.status) == ("look_9", "processing")
    done = client.avatars.create_twin(footage, "Me", matting=True, wait=True)
    assert done.status == "completed" and done.quality == {"overall": 0.8}


@pytest.mark.parametrize(
    ("uploaded", "kind", "asked"),
    [("image", "auto", "photo"), ("video", "auto", "video"), ("image", "video", "video"),
     (None, "auto", "video"), ("video", "photo", "photo")],
)  # fmt: skip
def test_create_twin_takes_the_look_type_from_the_upload(
    tmp_path: Path, uploaded: str | None, kind: str, asked: str
) -> None:
    """``kind="auto"`` (the default) asks for a photo look when the server read an image."""
    photo = tmp_path / "IMG_0042.HEIC"
    photo.write_bytes(b"fake")
    sent: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v3/assets":
            return ok({"asset_id": "ast_1", "kind": uploaded, "mime_type": "image/heic"})
        sent.append(json.loads(request.read()))
        return ok({"avatar_item": {"id": "look_9", "status": "processing"}})

    Script(handler).client().avatars.create_twin(photo, "Me", kind=kind)
    assert sent[0]["type"] == asked


def test_missing_api_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from twinstudio.client import Client

    monkeypatch.delenv("TWINSTUDIO_API_KEY", raising=False)
    with pytest.raises(TwinstudioError, match="no API key"):
        Client("http://x")
    monkeypatch.setenv("TWINSTUDIO_API_KEY", "tsk_env")
    monkeypatch.setenv("TWINSTUDIO_BASE_URL", "http://env.test/")
    client = Client()
    assert (client.base_url, client.api_key) == ("http://env.test", "tsk_env")
    assert "tsk_env" not in repr(client)
    client.close()
