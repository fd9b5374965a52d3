"""The asynchronous client: the same surface as :class:`Client`, with ``await``."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import IO, Any

import httpx

from twinstudio.client._async_resources import (
    AsyncAssets,
    AsyncAvatars,
    AsyncVideos,
    AsyncVoices,
    AsyncWebhooks,
)
from twinstudio.client._base import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    USER_AGENT,
    backoff_delay,
    error_from_response,
    resolve_api_key,
    resolve_base_url,
    retry_reason,
    transport_error,
)
from twinstudio.client._exceptions import RateLimitError, TwinstudioError

__all__ = ["AsyncClient"]

log = logging.getLogger("twinstudio.client")

FileField = tuple[str, IO[bytes], str]


class AsyncClient:
    """The async twin of :class:`twinstudio.client.Client` (same arguments, same namespaces).

        >>> async with AsyncClient("http://127.0.0.1:8000", "tsk_…") as client:
        ...     video = await client.videos.create(avatar_id="look_demo_astronaut", script="Hi!",
        ...                                        voice_id="en_US-joe-medium")
        ...     await client.videos.download(await client.videos.wait(video.id), "hi.mp4")

    ``transport`` takes an ``httpx.AsyncBaseTransport``; ``sleep`` an async function.
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.base_url = resolve_base_url(base_url)
        self.api_key = resolve_api_key(api_key)
        self.max_retries = max(0, max_retries)
        self._sleep = sleep or asyncio.sleep
        self._clock: Callable[[], float] = time.monotonic
        self._http = httpx.AsyncClient(
            timeout=timeout,
            transport=transport,
            headers={"user-agent": USER_AGENT, **(headers or {})},
            follow_redirects=True,
        )
        self.videos = AsyncVideos(self)
        self.assets = AsyncAssets(self)
        self.avatars = AsyncAvatars(self)
        self.voices = AsyncVoices(self)
        self.webhooks = AsyncWebhooks(self)

    def __repr__(self) -> str:
        return f"AsyncClient(base_url={self.base_url!r})"

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    def _url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.base_url + path

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        files: Mapping[str, FileField] | None = None,
        idempotency_key: str | None = None,
        timeout: float | None = None,
        stream: bool = False,
    ) -> httpx.Response:
        """Send one API request with retries; see :meth:`Client.request`."""
        url = self._url(path)
        headers: dict[str, str] = {}
        if not path.startswith(("http://", "https://")):
            headers["x-api-key"] = self.api_key
        if idempotency_key:
            headers["idempotency-key"] = idempotency_key
        query = {k: v for k, v in (params or {}).items() if v is not None}
        attempt = 0
        while True:
            for _name, fileobj, _mime in (files or {}).values():
                fileobj.seek(0)
            request = self._http.build_request(
                method,
                url,
                params=query or None,  # None keeps a signed URL's own query string
                json=json,
                files=files,
                headers=headers,
                timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
            )
            retry_after: float | None = None
            never_sent = False
            cause: BaseException | None = None
            try:
                response = await self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                error: TwinstudioError = transport_error(exc, url)
                never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
                cause = exc
            else:
                if response.status_code < 400:
                    return response
                if stream:
                    await response.aread()
                    await response.aclose()
                error = error_from_response(response)
                if isinstance(error, RateLimitError):
                    retry_after = error.retry_after
            if attempt >= self.max_retries or not (
                never_sent or retry_reason(error, method, idempotency_key)
            ):
                raise error from cause
            delay = backoff_delay(attempt, retry_after)
            log.info(
                "%s %s failed (%s); retry %d in %.1f s", method, url, error, attempt + 1, delay
            )
            await self._sleep(delay)
            attempt += 1

    async def request_json(self, method: str, path: str, **kwargs: Any) -> Any:
        """:meth:`request`, then the decoded JSON body."""
        response = await self.request(method, path, **kwargs)
        try:
            return response.json()
        except ValueError as exc:
            raise TwinstudioError(
                f"{method} {path}: the server sent no JSON ({response.text[:200]!r})"
            ) from exc
