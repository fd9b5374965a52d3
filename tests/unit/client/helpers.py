"""A scripted ``httpx.MockTransport``: answers in order and records every request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from twinstudio.client import AsyncClient, Client

BASE = "http://ts.test"
KEY = "tsk_test"

Answer = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def error(
    status: int, code: str, message: str, param: str | None = None, **headers: str
) -> httpx.Response:
    body = {"error": {"code": code, "message": message, "param": param, "doc_url": None}}
    return httpx.Response(status, json=body, headers=headers)


def ok(data: Any, **extra: Any) -> httpx.Response:
    return httpx.Response(200, json={"data": data, **extra})


class Script:
    """Serve ``answers`` one per request (the last one repeats); keep the requests seen."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []

    def _next(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer) and not isinstance(answer, httpx.Response):
            return answer(request)
        return answer

    def client(self, **kwargs: Any) -> Client:
        return Client(
            BASE, KEY, transport=httpx.MockTransport(self._next), sleep=self.sleeps.append, **kwargs
        )

    def async_client(self, **kwargs: Any) -> AsyncClient:
        async def handler(request: httpx.Request) -> httpx.Response:
            return self._next(request)

        async def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)

        return AsyncClient(BASE, KEY, transport=httpx.MockTransport(handler), sleep=sleep, **kwargs)


VIDEO = {
    "id": "vid_1",
    "video_id": "vid_1",
    "title": "t",
    "status": "completed",
    "progress": 100,
    "created_at": 1,
    "completed_at": 2,
    "video_url": f"{BASE}/files/videos/vid_1/video.mp4?sig=abc",
    "duration": 1.5,
    "failure_code": None,
    "failure_message": None,
}
