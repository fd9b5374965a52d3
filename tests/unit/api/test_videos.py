"""The video resource: create, read, list with pagination, delete, idempotency."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.factories import make_key, make_look

VOICE = "en_US-joe-medium"


def _setup(ctx) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    from twinstudio.services.keys import authenticate

    key = make_key(ctx).secret
    with ctx.db.session() as s:
        account_id = authenticate(s, key).id
    return key, make_look(ctx, account_id)


def test_create_then_get_and_list(client: TestClient, ctx) -> None:  # type: ignore[no-untyped-def]
    key, look = _setup(ctx)
    h = {"x-api-key": key}
    ids = []
    for i in range(3):
        resp = client.post(
            "/v3/videos",
            json={"avatar_id": look, "script": f"Video {i}.", "voice_id": VOICE, "title": f"T{i}"},
            headers=h,
        )
        assert resp.status_code == 200, resp.text
        data = resp.json()["data"]
        assert data["status"] == "pending"
        ids.append(data["video_id"])
    got = client.get(f"/v3/videos/{ids[0]}", headers=h).json()["data"]
    assert got["id"] == ids[0] and got["status"] == "pending" and got["title"] == "T0"
    assert got["video_url"] is None and isinstance(got["created_at"], int)
    page1 = client.get("/v3/videos?limit=2", headers=h).json()
    assert [v["id"] for v in page1["data"]] == [ids[2], ids[1]]  # newest first
    assert page1["has_more"] is True and page1["next_token"]
    page2 = client.get(f"/v3/videos?limit=2&token={page1['next_token']}", headers=h).json()
    assert [v["id"] for v in page2["data"]] == [ids[0]]
    assert page2["has_more"] is False and page2["next_token"] is None
    assert [v["id"] for v in client.get("/v3/videos?title=T1", headers=h).json()["data"]] == [
        ids[1]
    ]


def test_delete(client: TestClient, ctx) -> None:  # type: ignore[no-untyped-def]
    key, look = _setup(ctx)
    h = {"x-api-key": key}
    vid = client.post(
        "/v3/videos", json={"avatar_id": look, "script": "Bye.", "voice_id": VOICE}, headers=h
    ).json()["data"]["video_id"]
    assert client.delete(f"/v3/videos/{vid}", headers=h).json() == {
        "data": {"id": vid, "deleted": True}
    }
    assert client.get(f"/v3/videos/{vid}", headers=h).status_code == 404


def test_idempotency_key_replays_first_answer(client: TestClient, ctx) -> None:  # type: ignore[no-untyped-def]
    key, look = _setup(ctx)
    h = {"x-api-key": key, "Idempotency-Key": "order-42"}
    body = {"avatar_id": look, "script": "Once.", "voice_id": VOICE}
    first = client.post("/v3/videos", json=body, headers=h)
    second = client.post("/v3/videos", json=body, headers=h)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert len(client.get("/v3/videos", headers={"x-api-key": key}).json()["data"]) == 1
    other_body = client.post("/v3/videos", json={**body, "script": "Different."}, headers=h)
    assert (
        other_body.status_code == 400 and other_body.json()["error"]["param"] == "Idempotency-Key"
    )
    bad = client.post(
        "/v3/videos", json=body, headers={"x-api-key": key, "Idempotency-Key": "bad key!"}
    )
    assert bad.status_code == 400


def test_concurrency_limit_is_429_with_retry_after(client: TestClient, ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    key, look = _setup(ctx)
    ctx.settings = dataclasses.replace(ctx.settings, max_concurrent_videos=2)
    h = {"x-api-key": key}
    body = {"avatar_id": look, "script": "Hi.", "voice_id": VOICE}
    assert client.post("/v3/videos", json=body, headers=h).status_code == 200
    assert client.post("/v3/videos", json=body, headers=h).status_code == 200
    resp = client.post("/v3/videos", json=body, headers=h)
    assert resp.status_code == 429
    assert resp.json()["error"]["code"] == "rate_limit_exceeded"
    assert int(resp.headers["Retry-After"]) > 0


def test_remove_background_needs_matting(client: TestClient, ctx) -> None:  # type: ignore[no-untyped-def]
    from twinstudio.services.keys import authenticate

    key = make_key(ctx).secret
    with ctx.db.session() as s:
        account_id = authenticate(s, key).id
    matted = make_look(ctx, account_id, matting=True)
    body = {
        "avatar_id": matted,
        "script": "Hi.",
        "voice_id": VOICE,
        "remove_background": True,
        "background": {"type": "color", "value": "#00ff00"},
    }
    assert client.post("/v3/videos", json=body, headers={"x-api-key": key}).status_code == 200


def test_voices_catalog(client: TestClient, ctx) -> None:  # type: ignore[no-untyped-def]
    key = make_key(ctx).secret
    resp = client.get("/v3/voices?language=English", headers={"x-api-key": key})
    assert resp.status_code == 200
    voices = resp.json()["data"]
    joe = [v for v in voices if v["voice_id"] == VOICE]
    assert (
        joe and joe[0]["gender"] == "male" and joe[0]["preview_audio_url"].endswith("/preview.wav")
    )
    assert {
        "voice_id",
        "name",
        "language",
        "gender",
        "preview_audio_url",
        "support_pause",
        "support_locale",
        "type",
    } <= set(joe[0])


def test_healthz_and_openapi(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    spec = client.get("/openapi.json").json()
    assert "/v3/videos" in spec["paths"] and "/v3/avatars/looks" in spec["paths"]
    assert client.get("/docs").status_code == 200


def test_speech_endpoint_returns_audio_and_timings(client: TestClient, ctx) -> None:  # type: ignore[no-untyped-def]
    from urllib.parse import urlsplit

    key = make_key(ctx).secret
    resp = client.post(
        "/v3/voices/speech",
        json={"text": "Hello world.", "voice_id": VOICE},
        headers={"x-api-key": key},
    )
    assert resp.status_code == 200, resp.text
    data = resp.json()["data"]
    assert [w["word"].lower() for w in data["words"]] == ["hello", "world"]
    assert data["phonemes"][-1]["end_ms"] == round(data["duration"] * 1000)
    url = urlsplit(data["audio_url"])
    wav = client.get(f"{url.path}?{url.query}")
    assert wav.status_code == 200 and wav.content[:4] == b"RIFF"
    bad = client.post(
        "/v3/voices/speech",
        json={"text": "Hi", "voice_id": VOICE, "voice_settings": {"speed": 3}},
        headers={"x-api-key": key},
    )
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "voice_settings.speed"


def test_metrics_count_videos_and_jobs(client: TestClient, ctx) -> None:  # type: ignore[no-untyped-def]
    key, look = _setup(ctx)
    client.post(
        "/v3/videos",
        json={"avatar_id": look, "script": "Hi.", "voice_id": VOICE},
        headers={"x-api-key": key},
    )
    text = client.get("/metrics").text
    assert 'twinstudio_videos{status="pending"} 1' in text
    assert 'twinstudio_jobs{kind="render_video",status="queued"} 1' in text
    assert "twinstudio_queue_oldest_seconds" in text


def test_first_request_of_an_idle_key_with_idempotency_key(client: TestClient, ctx) -> None:  # type: ignore[no-untyped-def]
    """A key not used for a minute gets its ``last_used_at`` written on the next request; that
    write must not hold SQLite's lock while the route writes its idempotency record and video
    in other sessions (it did: the SDK's and CLI's first create of the day waited 30 s, then
    failed with 500 "database is locked")."""
    import time

    key = make_key(ctx).secret  # never used: the first request writes last_used_at
    with ctx.db.session() as s:
        from sqlalchemy import select

        from twinstudio.db.models import ApiKey
        from twinstudio.services.keys import hash_key

        account_id = s.scalar(select(ApiKey.account_id).where(ApiKey.key_hash == hash_key(key)))
    look = make_look(ctx, account_id)
    t0 = time.monotonic()
    resp = client.post(
        "/v3/videos",
        json={"avatar_id": look, "script": "First of the day.", "voice_id": VOICE},
        headers={"x-api-key": key, "Idempotency-Key": "first-of-the-day"},
    )
    assert resp.status_code == 200, resp.text
    assert time.monotonic() - t0 < 10


@pytest.mark.parametrize(
    ("value", "ok"),
    [("low", True), ("high", True), (0.8, True), (1, True), (None, True),
     ("loud", False), (2.0, False), (0.2, False), (True, False), ([1], False)],
)  # fmt: skip
def test_expressiveness_is_a_level_or_a_number_in_range(
    client: TestClient,
    ctx,  # type: ignore[no-untyped-def]
    value: object,
    ok: bool,
) -> None:
    key, look = _setup(ctx)
    resp = client.post(
        "/v3/videos",
        json={"avatar_id": look, "script": "Hi.", "voice_id": VOICE, "expressiveness": value},
        headers={"x-api-key": key},
    )
    if ok:
        assert resp.status_code == 200, resp.text
        return
    error = resp.json()["error"]
    assert resp.status_code == 400 and error["param"] == "expressiveness", error
    assert "low, medium or high" in error["message"]


def test_render_options_say_where_the_phones_come_from() -> None:
    # A script alone is a TTS voice; custom audio without its transcript is recognised (in an
    # echo the twin's audio model then takes more of the opening); with one, it is aligned.
    from twinstudio.services.videos import render_options

    base = {"resolution": "720p", "aspect_ratio": "9:16", "fit": "contain"}
    tts = render_options({**base, "script": "Hello.", "voice_id": VOICE}, None, recording=False)
    heard = render_options({**base, "audio_asset_id": "a"}, None, recording=True)
    told = render_options({**base, "audio_asset_id": "a", "script": "Hello."}, None, True)
    assert (tts.synthetic_voice, tts.recognised_phones) == (True, False)
    assert (heard.synthetic_voice, heard.recognised_phones) == (False, True)
    assert (told.synthetic_voice, told.recognised_phones) == (False, False)
    assert (heard.resolution, heard.aspect_ratio, heard.fit) == ("720p", "9:16", "contain")
