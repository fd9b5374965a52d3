"""The synchronous client: one ``httpx.Client``, the retry loop, and the resource namespaces."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import IO, Any

import httpx

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
from twinstudio.client._resources import Assets, Avatars, Videos, Voices, Webhooks

__all__ = ["Client"]

log = logging.getLogger("twinstudio.client")

FileField = tuple[str, IO[bytes], str]


class Client:
    """A client of a twinstudio (HeyGen v3) server.

        >>> client = Client("http://127.0.0.1:8000", "tsk_…")
        >>> video = client.videos.create(avatar_id="look_demo_astronaut", script="Hi!",
        ...                              voice_id="en_US-joe-medium")
        >>> client.videos.download(client.videos.wait(video.id), "hi.mp4")

    ``base_url`` and ``api_key`` default to ``$TWINSTUDIO_BASE_URL`` / ``$TWINSTUDIO_API_KEY``.
    Answers 429 and 5xx and connection failures are retried up to ``max_retries`` times, waiting
    as long as ``Retry-After`` says or backing off exponentially; a POST is retried only when it
    carries an ``Idempotency-Key`` (create calls make one) or never reached the server.
    ``transport`` replaces httpx's network transport (e.g. ``httpx.MockTransport`` in tests) and
    ``sleep`` the function used to wait between retries and polls.
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.base_url = resolve_base_url(base_url)
        self.api_key = resolve_api_key(api_key)
        self.max_retries = max(0, max_retries)
        self._sleep = sleep or time.sleep
        self._clock: Callable[[], float] = time.monotonic
        self._http = httpx.Client(
            timeout=timeout,
            transport=transport,
            headers={"user-agent": USER_AGENT, **(headers or {})},
            follow_redirects=True,
        )
        self.videos = Videos(self)
        self.assets = Assets(self)
        self.avatars = Avatars(self)
        self.voices = Voices(self)
        self.webhooks = Webhooks(self)

    def __repr__(self) -> str:
        return f"Client(base_url={self.base_url!r})"

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def _url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.base_url + path

    def request(
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
        """Send one API request with retries; an error answer raises its :class:`APIError`.

        ``path`` is relative to ``base_url`` (sent with the API key) or an absolute URL such as a
        signed download link (sent without it). With ``stream=True`` the caller must close the
        response.
        """
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
                fileobj.seek(0)  # a retried upload starts from the beginning again
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
                response = self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                error: TwinstudioError = transport_error(exc, url)
                never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
                cause = exc
            else:
                if response.status_code < 400:
                    return response
                if stream:
                    response.read()
                    response.close()
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
            self._sleep(delay)
            attempt += 1

    def request_json(self, method: str, path: str, **kwargs: Any) -> Any:
        """:meth:`request`, then the decoded JSON body."""
        response = self.request(method, path, **kwargs)
        try:
            return response.json()
        except ValueError as exc:
            raise TwinstudioError(
                f"{method} {path}: the server sent no JSON ({response.text[:200]!r})"
            ) from exc
