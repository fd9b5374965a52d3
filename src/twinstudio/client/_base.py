"""What the sync and async clients share: settings, the retry policy, error mapping, request bodies.

Nothing here does I/O, so both clients stay thin loops around the same decisions.
"""

from __future__ import annotations

import email.utils
import os
import random
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import httpx

from twinstudio.client._exceptions import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    TwinstudioError,
    error_for_status,
)
from twinstudio.client._models import Asset, Model, Page

M = TypeVar("M", bound=Model)

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_RETRIES = 2
# Retry-After is honoured up to this many seconds; longer waits fall back to our own backoff.
MAX_RETRY_AFTER = 60.0
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
USER_AGENT = "twinstudio-python/0.1.0"


def resolve_base_url(base_url: str | None) -> str:
    """``base_url``, else ``$TWINSTUDIO_BASE_URL``, else the local default; no trailing slash."""
    url = base_url or os.environ.get("TWINSTUDIO_BASE_URL") or DEFAULT_BASE_URL
    return url.rstrip("/")


def resolve_api_key(api_key: str | None) -> str:
    """``api_key``, else ``$TWINSTUDIO_API_KEY``; a clear error if there is neither."""
    key = api_key or os.environ.get("TWINSTUDIO_API_KEY")
    if not key:
        raise TwinstudioError(
            "no API key: pass api_key=... or set TWINSTUDIO_API_KEY "
            "(`twinstudio keys create --name NAME` makes one)."
        )
    return key


def new_idempotency_key() -> str:
    """A fresh key for one logical create call, reused by its retries."""
    return f"ts-{uuid.uuid4().hex}"


def is_retryable_request(method: str, idempotency_key: str | None) -> bool:
    """GET/PATCH/DELETE are safe to repeat; a POST only when the server can recognise a repeat."""
    return method.upper() != "POST" or bool(idempotency_key)


def parse_retry_after(headers: httpx.Headers, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def backoff_delay(attempt: int, retry_after: float | None) -> float:
    """How long to sleep before retry number ``attempt + 1`` (``attempt`` counts from 0)."""
    if retry_after is not None and retry_after <= MAX_RETRY_AFTER:
        return retry_after
    delay = min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt)
    return delay * random.uniform(0.8, 1.0)  # jitter so many clients do not retry in step


def error_from_response(response: httpx.Response) -> APIError:
    """The typed exception for an error answer (the body must already be read)."""
    code, message, param, doc_url = f"http_{response.status_code}", "", None, None
    try:
        body = response.json()
    except ValueError:
        body = None
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict):
        code = str(err.get("code") or code)
        message = str(err.get("message") or "")
        param = err.get("param")
        doc_url = err.get("doc_url")
    if not message:
        message = response.text[:300].strip() or response.reason_phrase or "error"
    return error_for_status(
        response.status_code,
        code,
        message,
        param,
        doc_url=doc_url,
        retry_after=parse_retry_after(response.headers),
    )


def transport_error(exc: httpx.TransportError, url: str) -> APIConnectionError:
    """An httpx transport failure as the SDK's connection / timeout error."""
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(f"no answer from {url} in time ({type(exc).__name__})")
    return APIConnectionError(f"cannot reach {url}: {exc or type(exc).__name__}")


def retry_reason(error: TwinstudioError, method: str, idempotency_key: str | None) -> bool:
    """Whether ``error`` is worth another try for this request."""
    if isinstance(error, APIError):
        return error.status in RETRY_STATUSES and is_retryable_request(method, idempotency_key)
    return isinstance(error, APIConnectionError) and is_retryable_request(method, idempotency_key)


def data_of(body: Any) -> Any:
    """The ``data`` member of a success body."""
    if isinstance(body, dict) and "data" in body:
        return body["data"]
    raise TwinstudioError(f"unexpected answer from the server: {str(body)[:200]}")


def page_of(body: Any, model: type[M]) -> Page[M]:
    """A list answer as a typed :class:`Page`."""
    items = data_of(body)
    return Page(
        data=[model.from_dict(item) for item in items],
        has_more=bool(body.get("has_more")),
        next_token=body.get("next_token"),
    )


def clean(params: Mapping[str, Any]) -> dict[str, Any]:
    """Drop the ``None`` values, so the server's defaults apply."""
    return {k: v for k, v in params.items() if v is not None}


def background_body(background: str | Asset | Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``"#RRGGBB"`` → a colour; an :class:`Asset` → an image; an image URL; or the API's object."""
    if background is None:
        return None
    if isinstance(background, Asset):
        return {"type": "image", "asset_id": background.asset_id}
    if isinstance(background, str):
        if background.startswith(("http://", "https://")):
            return {"type": "image", "url": background}
        return {"type": "color", "value": background}
    return dict(background)


def video_body(
    *,
    avatar_id: str,
    script: str | None,
    voice_id: str | None,
    audio_url: str | None,
    audio_asset_id: str | None,
    title: str | None,
    resolution: str | None,
    aspect_ratio: str | None,
    fit: str | None,
    remove_background: bool | None,
    background: str | Asset | Mapping[str, Any] | None,
    voice_settings: Mapping[str, Any] | None,
    caption: Mapping[str, Any] | None,
    output_format: str | None,
    callback_url: str | None,
    callback_id: str | None,
    type: str | None,
    extra_body: Mapping[str, Any] | None,
    expressiveness: float | str | None = None,
) -> dict[str, Any]:
    """The JSON of ``POST /v3/videos``."""
    body = clean(
        {
            "type": type,
            "avatar_id": avatar_id,
            "script": script,
            "voice_id": voice_id,
            "audio_url": audio_url,
            "audio_asset_id": audio_asset_id,
            "title": title,
            "resolution": resolution,
            "aspect_ratio": aspect_ratio,
            "fit": fit,
            "remove_background": remove_background,
            "background": background_body(background),
            "voice_settings": dict(voice_settings) if voice_settings is not None else None,
            "caption": dict(caption) if caption is not None else None,
            "output_format": output_format,
            "expressiveness": expressiveness,
            "callback_url": callback_url,
            "callback_id": callback_id,
        }
    )
    body.update(extra_body or {})
    return body


def twin_kind(kind: str, asset_kind: str | None) -> str:
    """The look type to ask for: ``kind`` as given, or for ``"auto"`` the uploaded file's own
    (an image makes a photo look, anything else a video look)."""
    if kind != "auto":
        return kind
    return "photo" if asset_kind == "image" else "video"


def avatar_body(
    asset_id: str,
    *,
    name: str,
    kind: str,
    matting: bool,
    transcript: str | None,
    avatar_group_id: str | None,
    gender: str | None,
    default_voice_id: str | None,
) -> dict[str, Any]:
    """The JSON of ``POST /v3/avatars`` for a file already uploaded as an asset."""
    return clean(
        {
            "type": kind,
            "name": name,
            "file": {"type": "asset_id", "asset_id": asset_id},
            "matting": matting,
            "transcript": transcript,
            "avatar_group_id": avatar_group_id,
            "gender": gender,
            "default_voice_id": default_voice_id,
        }
    )


def endpoint_body(
    url: str | None, events: Sequence[str] | None, status: str | None = None
) -> dict[str, Any]:
    """The JSON of creating or updating a webhook endpoint."""
    return clean(
        {"url": url, "events": list(events) if events is not None else None, "status": status}
    )


def video_id_of(video: str | Model) -> str:
    """Accept a video id or a :class:`Video`."""
    return video if isinstance(video, str) else str(getattr(video, "id"))  # noqa: B009


def download_target(path: str | os.PathLike[str], video_id: str) -> Path:
    """A file path; a folder means ``<folder>/<video_id>.mp4``."""
    target = Path(path)
    return target / f"{video_id}.mp4" if target.is_dir() else target


def next_poll(interval: float, max_poll: float) -> float:
    """Polling backs off by half each time, up to ``max_poll``."""
    return min(max_poll, interval * 1.5)
