"""The asynchronous resource namespaces; each mirrors its synchronous twin in ``_resources``."""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twinstudio.client._base import (
    avatar_body,
    data_of,
    download_target,
    endpoint_body,
    new_idempotency_key,
    next_poll,
    page_of,
    twin_kind,
    video_body,
    video_id_of,
)
from twinstudio.client._exceptions import (
    NotFoundError,
    PermissionDeniedError,
    TrainingFailedError,
    TwinstudioError,
    VideoFailedError,
    WaitTimeoutError,
)
from twinstudio.client._models import (
    Asset,
    AvatarGroup,
    EventType,
    Look,
    Page,
    Video,
    Voice,
    WebhookEndpoint,
    WebhookEvent,
)
from twinstudio.client._pagination import AsyncPaginator

if TYPE_CHECKING:
    from twinstudio.client._async_client import AsyncClient

__all__ = [
    "AsyncAssets",
    "AsyncAvatars",
    "AsyncVideos",
    "AsyncVoices",
    "AsyncWebhookEndpoints",
    "AsyncWebhooks",
]

ProgressCallback = Callable[[int, int | None], None]
StrPath = str | os.PathLike[str]


class _AsyncResource:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    def _pager(self, path: str, model: Any, params: Mapping[str, Any]) -> AsyncPaginator[Any]:
        async def fetch(token: str | None) -> Page[Any]:
            answer = await self._client.request_json("GET", path, params={**params, "token": token})
            return page_of(answer, model)

        return AsyncPaginator(fetch)


class AsyncVideos(_AsyncResource):
    """``/v3/videos``; see :class:`twinstudio.client._resources.Videos`."""

    async def create(
        self,
        *,
        avatar_id: str,
        script: str | None = None,
        voice_id: str | None = None,
        audio_url: str | None = None,
        audio_asset_id: str | None = None,
        title: str | None = None,
        resolution: str | None = None,
        aspect_ratio: str | None = None,
        fit: str | None = None,
        remove_background: bool | None = None,
        background: str | Asset | Mapping[str, Any] | None = None,
        voice_settings: Mapping[str, Any] | None = None,
        caption: Mapping[str, Any] | None = None,
        output_format: str | None = None,
        expressiveness: float | str | None = None,
        callback_url: str | None = None,
        callback_id: str | None = None,
        type: str | None = None,
        idempotency_key: str | None = None,
        extra_body: Mapping[str, Any] | None = None,
    ) -> Video:
        """Queue a video (``POST /v3/videos``) with an automatic ``Idempotency-Key``."""
        body = video_body(
            avatar_id=avatar_id, script=script, voice_id=voice_id, audio_url=audio_url,
            audio_asset_id=audio_asset_id, title=title, resolution=resolution,
            aspect_ratio=aspect_ratio, fit=fit, remove_background=remove_background,
            background=background, voice_settings=voice_settings, caption=caption,
            output_format=output_format, callback_url=callback_url, callback_id=callback_id,
            type=type, extra_body=extra_body, expressiveness=expressiveness,
        )  # fmt: skip
        answer = await self._client.request_json(
            "POST",
            "/v3/videos",
            json=body,
            idempotency_key=idempotency_key or new_idempotency_key(),
        )
        return Video.from_dict(data_of(answer))

    async def get(self, video_id: str) -> Video:
        """One video, with freshly signed URLs."""
        return Video.from_dict(
            data_of(await self._client.request_json("GET", f"/v3/videos/{video_id}"))
        )

    async def list_page(
        self, limit: int | None = None, token: str | None = None, *, title: str | None = None
    ) -> Page[Video]:
        """One page of videos, newest first."""
        params = {"limit": limit, "token": token, "title": title}
        return page_of(await self._client.request_json("GET", "/v3/videos", params=params), Video)

    def list(self, *, limit: int | None = None, title: str | None = None) -> AsyncPaginator[Video]:
        """Every video, newest first: ``async for video in client.videos.list()``."""
        return self._pager("/v3/videos", Video, {"limit": limit, "title": title})

    async def delete(self, video_id: str) -> None:
        """Delete a video and its files."""
        await self._client.request_json("DELETE", f"/v3/videos/{video_id}")

    async def wait(
        self,
        video_id: str | Video,
        *,
        timeout: float = 600.0,
        poll: float = 1.0,
        max_poll: float = 5.0,
        on_progress: Callable[[Video], None] | None = None,
    ) -> Video:
        """Poll until ``completed``; :class:`VideoFailedError` / :class:`WaitTimeoutError`."""
        vid = video_id_of(video_id)
        clock, interval = self._client._clock, poll
        deadline = clock() + timeout
        while True:
            video = await self.get(vid)
            if on_progress is not None:
                on_progress(video)
            if video.status == "completed":
                return video
            if video.status == "failed":
                raise VideoFailedError(video)
            if clock() + interval > deadline:
                raise WaitTimeoutError(
                    f"video {vid} is still {video.status} after {timeout:g} s", last=video
                )
            await self._client._sleep(interval)
            interval = next_poll(interval, max_poll)

    async def download(
        self,
        video: str | Video,
        path: StrPath,
        *,
        progress: ProgressCallback | None = None,
        chunk_size: int = 1 << 16,
    ) -> Path:
        """Save a completed video's MP4 to ``path`` (a file, or a folder for ``<id>.mp4``)."""
        if isinstance(video, Video) and video.video_url:
            current = video
        else:
            current = await self.get(video_id_of(video))
        for attempt in range(2):
            if current.status == "failed":
                raise VideoFailedError(current)
            if current.status != "completed" or not current.video_url:
                raise TwinstudioError(
                    f"video {current.id} is {current.status}: nothing to download yet "
                    "(use videos.wait first)"
                )
            target = download_target(path, current.id)
            try:
                return await self._fetch(current.video_url, target, progress, chunk_size)
            except (PermissionDeniedError, NotFoundError):
                if attempt or current is not video:
                    raise
                current = await self.get(current.id)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _fetch(
        self, url: str, target: Path, progress: ProgressCallback | None, chunk_size: int
    ) -> Path:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        response = await self._client.request("GET", url, stream=True)
        try:
            length = response.headers.get("content-length")
            total = int(length) if length and length.isdigit() else None
            done = 0
            with partial.open("wb") as out:
                async for chunk in response.aiter_bytes(chunk_size):
                    out.write(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(done, total)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        finally:
            await response.aclose()
        os.replace(partial, target)
        return target


class AsyncAssets(_AsyncResource):
    """``/v3/assets``."""

    async def upload(self, path: StrPath, *, timeout: float | None = 600.0) -> Asset:
        """Upload a file (``POST /v3/assets``)."""
        file = Path(path)
        mime = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        with file.open("rb") as handle:
            answer = await self._client.request_json(
                "POST", "/v3/assets", files={"file": (file.name, handle, mime)}, timeout=timeout
            )
        return Asset.from_dict(data_of(answer))


class AsyncAvatars(_AsyncResource):
    """``/v3/avatars``; see :class:`twinstudio.client._resources.Avatars`."""

    async def create_twin(
        self,
        path: StrPath,
        name: str,
        *,
        matting: bool = False,
        transcript: str | None = None,
        wait: bool = False,
        kind: str = "auto",
        avatar_group_id: str | None = None,
        gender: str | None = None,
        default_voice_id: str | None = None,
        timeout: float = 1800.0,
        on_progress: Callable[[Look], None] | None = None,
        idempotency_key: str | None = None,
    ) -> Look:
        """Upload footage or a photo and train a look (``kind="auto"``: as the server reads the
        file); ``wait=True`` waits for training."""
        asset = await self._client.assets.upload(path)
        body = avatar_body(
            asset.asset_id, name=name, kind=twin_kind(kind, asset.kind), matting=matting,
            transcript=transcript, avatar_group_id=avatar_group_id, gender=gender,
            default_voice_id=default_voice_id,
        )  # fmt: skip
        answer = await self._client.request_json(
            "POST",
            "/v3/avatars",
            json=body,
            idempotency_key=idempotency_key or new_idempotency_key(),
        )
        look = Look.from_dict(data_of(answer)["avatar_item"])
        if wait:
            return await self.wait_look(look.id, timeout=timeout, on_progress=on_progress)
        return look

    def looks(
        self,
        *,
        avatar_type: str | None = None,
        ownership: str | None = None,
        group_id: str | None = None,
        limit: int | None = None,
    ) -> AsyncPaginator[Look]:
        """Every look this key can use."""
        params = {"avatar_type": avatar_type, "ownership": ownership, "group_id": group_id,
                  "limit": limit}  # fmt: skip
        return self._pager("/v3/avatars/looks", Look, params)

    async def get_look(self, look_id: str) -> Look:
        """One look."""
        answer = await self._client.request_json("GET", f"/v3/avatars/looks/{look_id}")
        return Look.from_dict(data_of(answer))

    async def update_look(
        self,
        look_id: str,
        *,
        name: str | None = None,
        default_voice_id: str | None = None,
        gender: str | None = None,
    ) -> Look:
        """Rename a look or change its default voice or gender."""
        body = {k: v for k, v in (("name", name), ("default_voice_id", default_voice_id),
                                  ("gender", gender)) if v is not None}  # fmt: skip
        answer = await self._client.request_json("PATCH", f"/v3/avatars/looks/{look_id}", json=body)
        return Look.from_dict(data_of(answer))

    async def delete_look(self, look_id: str) -> None:
        """Delete a private look and its training data."""
        await self._client.request_json("DELETE", f"/v3/avatars/looks/{look_id}")

    def groups(self, *, limit: int | None = None) -> AsyncPaginator[AvatarGroup]:
        """Every avatar group this key can use."""
        return self._pager("/v3/avatars", AvatarGroup, {"limit": limit})

    async def get_group(self, group_id: str) -> AvatarGroup:
        """One avatar group."""
        answer = await self._client.request_json("GET", f"/v3/avatars/{group_id}")
        return AvatarGroup.from_dict(data_of(answer))

    async def wait_look(
        self,
        look_id: str | Look,
        *,
        timeout: float = 1800.0,
        poll: float = 1.0,
        max_poll: float = 5.0,
        on_progress: Callable[[Look], None] | None = None,
    ) -> Look:
        """Poll until training ends; :class:`TrainingFailedError` / :class:`WaitTimeoutError`."""
        lid = look_id if isinstance(look_id, str) else look_id.id
        clock, interval = self._client._clock, poll
        deadline = clock() + timeout
        while True:
            look = await self.get_look(lid)
            if on_progress is not None:
                on_progress(look)
            if look.status == "failed":
                raise TrainingFailedError(look)
            if look.status != "processing":
                return look
            if clock() + interval > deadline:
                raise WaitTimeoutError(
                    f"look {lid} is still training after {timeout:g} s", last=look
                )
            await self._client._sleep(interval)
            interval = next_poll(interval, max_poll)


class AsyncVoices(_AsyncResource):
    """``/v3/voices``."""

    def list(
        self,
        *,
        language: str | None = None,
        gender: str | None = None,
        type: str | None = None,
        limit: int | None = None,
    ) -> AsyncPaginator[Voice]:
        """Every voice, optionally filtered."""
        params = {"language": language, "gender": gender, "type": type, "limit": limit}
        return self._pager("/v3/voices", Voice, params)

    async def preview(self, voice_id: str, path: StrPath | None = None) -> bytes:
        """A short WAV sample of the voice; also written to ``path`` when given."""
        response = await self._client.request("GET", f"/v3/voices/{voice_id}/preview.wav")
        if path is not None:
            Path(path).write_bytes(response.content)
        return response.content


class AsyncWebhookEndpoints(_AsyncResource):
    """``/v3/webhooks/endpoints``."""

    async def create(self, url: str, events: Sequence[str] | None = None) -> WebhookEndpoint:
        """Register a receiver; the returned ``secret`` is shown only now."""
        answer = await self._client.request_json(
            "POST", "/v3/webhooks/endpoints", json=endpoint_body(url, events)
        )
        return WebhookEndpoint.from_dict(data_of(answer))

    def list(self, *, limit: int | None = None) -> AsyncPaginator[WebhookEndpoint]:
        """Every endpoint (without secrets)."""
        return self._pager("/v3/webhooks/endpoints", WebhookEndpoint, {"limit": limit})

    async def update(
        self,
        endpoint_id: str,
        *,
        url: str | None = None,
        events: Sequence[str] | None = None,
        status: str | None = None,
    ) -> WebhookEndpoint:
        """Change an endpoint's URL, events or status."""
        answer = await self._client.request_json(
            "PATCH",
            f"/v3/webhooks/endpoints/{endpoint_id}",
            json=endpoint_body(url, events, status),
        )
        return WebhookEndpoint.from_dict(data_of(answer))

    async def delete(self, endpoint_id: str) -> None:
        """Remove an endpoint."""
        await self._client.request_json("DELETE", f"/v3/webhooks/endpoints/{endpoint_id}")

    async def rotate_secret(self, endpoint_id: str) -> WebhookEndpoint:
        """A new secret; the old one keeps signing beside it for a grace period."""
        answer = await self._client.request_json(
            "POST", f"/v3/webhooks/endpoints/{endpoint_id}/rotate-secret"
        )
        return WebhookEndpoint.from_dict(data_of(answer))


class AsyncWebhooks(_AsyncResource):
    """``/v3/webhooks``: ``endpoints``, event types and the event log."""

    def __init__(self, client: AsyncClient) -> None:
        super().__init__(client)
        self.endpoints = AsyncWebhookEndpoints(client)

    async def event_types(self) -> list[EventType]:
        """The event types an endpoint can subscribe to."""
        answer = await self._client.request_json("GET", "/v3/webhooks/event-types")
        return [EventType.from_dict(item) for item in data_of(answer)]

    def events(self, *, limit: int | None = None) -> AsyncPaginator[WebhookEvent]:
        """The delivered-event log, newest first."""
        return self._pager("/v3/webhooks/events", WebhookEvent, {"limit": limit})
