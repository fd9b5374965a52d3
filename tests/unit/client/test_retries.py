"""Retries: Retry-After, backoff, give-up, timeouts, and idempotency keys across retries."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.unit.client.helpers import KEY, VIDEO, Script, error, ok
from twinstudio.client import (
    APIConnectionError,
    APITimeoutError,
    InternalServerError,
    InvalidParameterError,
    RateLimitError,
)


def test_429_waits_as_long_as_retry_after_then_succeeds() -> None:
    script = Script(
        error(429, "rate_limit_exceeded", "slow down", **{"Retry-After": "3"}), ok(VIDEO)
    )
    video = script.client().videos.get("vid_1")
    assert video.id == "vid_1" and video.status == "completed"
    assert script.sleeps == [3.0]
    assert len(script.requests) == 2
    assert all(r.headers["x-api-key"] == KEY for r in script.requests)


def test_429_with_an_http_date_retry_after() -> None:
    script = Script(
        error(429, "rate_limit_exceeded", "x", **{"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}),
        ok(VIDEO),
    )
    script.client().videos.get("vid_1")
    assert script.sleeps == [0.0]  # a date in the past: retry at once


def test_429_after_the_last_retry_raises_rate_limit_error() -> None:
    script = Script(error(429, "rate_limit_exceeded", "busy", **{"Retry-After": "2"}))
    with pytest.raises(RateLimitError) as info:
        script.client(max_retries=1).videos.get("vid_1")
    assert info.value.retry_after == 2.0 and info.value.status == 429
    assert script.sleeps == [2.0] and len(script.requests) == 2


def test_500_is_retried_then_raises_internal_server_error() -> None:
    script = Script(error(500, "internal_error", "boom"))
    with pytest.raises(InternalServerError) as info:
        script.client(max_retries=2).videos.get("vid_1")
    assert len(script.requests) == 3  # the first try + max_retries
    assert info.value.code == "internal_error" and info.value.message == "boom"
    assert len(script.sleeps) == 2 and 0 < script.sleeps[0] < script.sleeps[1] <= 8


def test_max_retries_zero_means_one_try() -> None:
    script = Script(error(503, "internal_error", "down"))
    with pytest.raises(InternalServerError):
        script.client(max_retries=0).videos.get("vid_1")
    assert len(script.requests) == 1 and script.sleeps == []


def test_400_is_not_retried() -> None:
    script = Script(error(400, "invalid_parameter", "bad", "resolution"))
    with pytest.raises(InvalidParameterError) as info:
        script.client().videos.get("vid_1")
    assert len(script.requests) == 1 and info.value.param == "resolution"


def test_timeouts_become_api_timeout_error_after_retries() -> None:
    script = Script(httpx.ReadTimeout("slow"))
    with pytest.raises(APITimeoutError):
        script.client(max_retries=2).videos.get("vid_1")
    assert len(script.requests) == 3


def test_connection_errors_are_retried() -> None:
    script = Script(httpx.ConnectError("refused"), ok(VIDEO))
    assert script.client().videos.get("vid_1").id == "vid_1"
    assert len(script.requests) == 2


def test_connection_error_after_retries() -> None:
    script = Script(httpx.ConnectError("refused"))
    with pytest.raises(APIConnectionError) as info:
        script.client(max_retries=1).videos.get("vid_1")
    assert not isinstance(info.value, APITimeoutError)


def test_create_sends_an_idempotency_key_and_reuses_it_across_retries() -> None:
    script = Script(
        error(500, "internal_error", "boom"),
        httpx.ReadTimeout("lost"),
        ok({"video_id": "vid_9", "status": "pending"}),
    )
    video = script.client().videos.create(
        avatar_id="look_x", script="Hi", voice_id="v", resolution="720p", background="#112233",
        expressiveness="high",
    )  # fmt: skip
    assert (video.id, video.status) == ("vid_9", "pending")
    keys = {r.headers.get("idempotency-key") for r in script.requests}
    assert len(script.requests) == 3 and len(keys) == 1 and None not in keys
    body = script.requests[0].read()
    assert b'"background":{"type":"color","value":"#112233"}' in body.replace(b" ", b"")
    assert b'"expressiveness":"high"' in body.replace(b" ", b"")


def test_each_create_call_gets_a_new_key_and_an_explicit_key_is_kept() -> None:
    script = Script(ok({"video_id": "vid_9", "status": "pending"}))
    client = script.client()
    client.videos.create(avatar_id="a", script="x")
    client.videos.create(avatar_id="a", script="x")
    client.videos.create(avatar_id="a", script="x", idempotency_key="mine-1")
    keys = [r.headers["idempotency-key"] for r in script.requests]
    assert keys[0] != keys[1] and keys[2] == "mine-1"


def test_a_post_without_idempotency_key_is_not_retried() -> None:
    script = Script(error(500, "internal_error", "boom"))
    with pytest.raises(InternalServerError):
        script.client().webhooks.endpoints.create("https://example.com/hook")
    assert len(script.requests) == 1
    assert "idempotency-key" not in script.requests[0].headers


def test_async_client_retries_the_same_way() -> None:
    script = Script(error(429, "rate_limit_exceeded", "x", **{"Retry-After": "1"}), ok(VIDEO))

    async def main() -> str:
        async with script.async_client() as client:
            return (await client.videos.get("vid_1")).id

    assert asyncio.run(main()) == "vid_1"
    assert script.sleeps == [1.0]
