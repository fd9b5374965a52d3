"""The synchronous resource namespaces: ``client.videos``, ``.assets``, ``.avatars``, ``.voices``,
``.webhooks``. Each method is one API call (or a documented loop of them)."""

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
from twinstudio.client._pagination import Paginator

if TYPE_CHECKING:
    from twinstudio.client._client import Client

__all__ = ["Assets", "Avatars", "Videos", "Voices", "WebhookEndpoints", "Webhooks"]

ProgressCallback = Callable[[int, int | None], None]
StrPath = str | os.PathLike[str]


class _Resource:
    def __init__(self, client: Client) -> None:
        self._client = client


class Videos(_Resource):
    """``/v3/videos``: create, read, list, delete, wait for and download videos."""

    def create(
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
        """Queue a video (``POST /v3/videos``); returns it ``pending`` (only ``id`` and ``status``).

        Fields are the API's; ``None`` leaves the server's default. ``background`` also takes
        ``"#RRGGBB"``, an image URL or an uploaded :class:`Asset`; ``expressiveness`` (0.5–1.5,
        or ``"low"`` / ``"medium"`` / ``"high"``) scales how far the mouth moves. An
        ``Idempotency-Key`` is made when none is given, so retries never queue the same video
        twice.
        """
        body = video_body(
            avatar_id=avatar_id, script=script, voice_id=voice_id, audio_url=audio_url,
            audio_asset_id=audio_asset_id, title=title, resolution=resolution,
            aspect_ratio=aspect_ratio, fit=fit, remove_background=remove_background,
            background=background, voice_settings=voice_settings, caption=caption,
            output_format=output_format, callback_url=callback_url, callback_id=callback_id,
            type=type, extra_body=extra_body, expressiveness=expressiveness,
        )  # fmt: skip
        answer = self._client.request_json(
            "POST",
            "/v3/videos",
            json=body,
            idempotency_key=idempotency_key or new_idempotency_key(),
        )
        return Video.from_dict(data_of(answer))

    def get(self, video_id: str) -> Video:
        """One video, with freshly signed URLs."""
        return Video.from_dict(data_of(self._client.request_json("GET", f"/v3/videos/{video_id}")))

    def list_page(
        self, limit: int | None = None, token: str | None = None, *, title: str | None = None
    ) -> Page[Video]:
        """One page of videos, newest first."""
        params = {"limit": limit, "token": token, "title": title}
        return page_of(self._client.request_json("GET", "/v3/videos", params=params), Video)

    def list(self, *, limit: int | None = None, title: str | None = None) -> Paginator[Video]:
        """Every video, newest first, fetched ``limit`` per page as the iteration goes."""
        return Paginator(lambda token: self.list_page(limit, token, title=title))

    def delete(self, video_id: str) -> None:
        """Delete a video and its files (a render in flight is abandoned)."""
        self._client.request_json("DELETE", f"/v3/videos/{video_id}")

    def wait(
        self,
        video_id: str | Video,
        *,
        timeout: float = 600.0,
        poll: float = 1.0,
        max_poll: float = 5.0,
        on_progress: Callable[[Video], None] | None = None,
    ) -> Video:
        """Poll until the video is ``completed`` and return it.

        Polls every ``poll`` seconds, backing off to ``max_poll``; ``on_progress`` sees each state.
        Raises :class:`VideoFailedError` if it failed, :class:`WaitTimeoutError` after ``timeout``.
        """
        vid = video_id_of(video_id)
        clock, interval = self._client._clock, poll
        deadline = clock() + timeout
        while True:
            video = self.get(vid)
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
            self._client._sleep(interval)
            interval = next_poll(interval, max_poll)

    def download(
        self,
        video: str | Video,
        path: StrPath,
        *,
        progress: ProgressCallback | None = None,
        chunk_size: int = 1 << 16,
    ) -> Path:
        """Save a completed video's MP4 to ``path`` (a file, or a folder for ``<id>.mp4``).

        ``progress(bytes_done, total_or_None)`` is called as chunks arrive. The file appears only
        when complete. An expired link on a :class:`Video` passed in is refreshed once.
        """
        current = (
            video if isinstance(video, Video) and video.video_url else self.get(video_id_of(video))
        )
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
                return self._fetch(current.video_url, target, progress, chunk_size)
            except (PermissionDeniedError, NotFoundError):
                if attempt or current is not video:
                    raise
                current = self.get(current.id)  # the caller's signed link expired
        raise AssertionError("unreachable")  # pragma: no cover

    def _fetch(
        self, url: str, target: Path, progress: ProgressCallback | None, chunk_size: int
    ) -> Path:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        response = self._client.request("GET", url, stream=True)
        try:
            length = response.headers.get("content-length")
            total = int(length) if length and length.isdigit() else None
            done = 0
            with partial.open("wb") as out:
                for chunk in response.iter_bytes(chunk_size):
                    out.write(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(done, total)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        finally:
            response.close()
        os.replace(partial, target)
        return target


class Assets(_Resource):
    """``/v3/assets``: upload footage, images and audio."""

    def upload(self, path: StrPath, *, timeout: float | None = 600.0) -> Asset:
        """Upload a file (``POST /v3/assets``); the server reads its type from the bytes."""
        file = Path(path)
        mime = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        with file.open("rb") as handle:
            answer = self._client.request_json(
                "POST", "/v3/assets", files={"file": (file.name, handle, mime)}, timeout=timeout
            )
        return Asset.from_dict(data_of(answer))


class Avatars(_Resource):
    """``/v3/avatars``: Digital Twins (looks) and their groups."""

    def create_twin(
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
        """Upload footage (``kind="video"``) or a photo (``kind="photo"``) and train a look;
        ``kind="auto"`` (the default) takes the uploaded file's own kind, read by the server.

        ``matting=True`` also learns background removal. With ``wait=True`` it returns once
        training ends (see :meth:`wait_look`); otherwise the look is ``processing``.
        """
        asset = self._client.assets.upload(path)
        body = avatar_body(
            asset.asset_id, name=name, kind=twin_kind(kind, asset.kind), matting=matting,
            transcript=transcript, avatar_group_id=avatar_group_id, gender=gender,
            default_voice_id=default_voice_id,
        )  # fmt: skip
        answer = self._client.request_json(
            "POST",
            "/v3/avatars",
            json=body,
            idempotency_key=idempotency_key or new_idempotency_key(),
        )
        look = Look.from_dict(data_of(answer)["avatar_item"])
        if wait:
            return self.wait_look(look.id, timeout=timeout, on_progress=on_progress)
        return look

    def looks(
        self,
        *,
        avatar_type: str | None = None,
        ownership: str | None = None,
        group_id: str | None = None,
        limit: int | None = None,
    ) -> Paginator[Look]:
        """Every look this key can use (``ownership``: private | public)."""
        params = {"avatar_type": avatar_type, "ownership": ownership, "group_id": group_id}

        def fetch(token: str | None) -> Page[Look]:
            answer = self._client.request_json(
                "GET", "/v3/avatars/looks", params={**params, "limit": limit, "token": token}
            )
            return page_of(answer, Look)

        return Paginator(fetch)

    def get_look(self, look_id: str) -> Look:
        """One look."""
        return Look.from_dict(
            data_of(self._client.request_json("GET", f"/v3/avatars/looks/{look_id}"))
        )

    def update_look(
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
        answer = self._client.request_json("PATCH", f"/v3/avatars/looks/{look_id}", json=body)
        return Look.from_dict(data_of(answer))

    def delete_look(self, look_id: str) -> None:
        """Delete a private look and its training data."""
        self._client.request_json("DELETE", f"/v3/avatars/looks/{look_id}")

    def groups(self, *, limit: int | None = None) -> Paginator[AvatarGroup]:
        """Every avatar group this key can use."""
        return Paginator(
            lambda token: page_of(
                self._client.request_json(
                    "GET", "/v3/avatars", params={"limit": limit, "token": token}
                ),
                AvatarGroup,
            )
        )

    def get_group(self, group_id: str) -> AvatarGroup:
        """One avatar group."""
        answer = self._client.request_json("GET", f"/v3/avatars/{group_id}")
        return AvatarGroup.from_dict(data_of(answer))

    def wait_look(
        self,
        look_id: str | Look,
        *,
        timeout: float = 1800.0,
        poll: float = 1.0,
        max_poll: float = 5.0,
        on_progress: Callable[[Look], None] | None = None,
    ) -> Look:
        """Poll until training ends; returns the look (``completed`` or ``pending_consent``).

        Raises :class:`TrainingFailedError` if it failed, :class:`WaitTimeoutError` on timeout.
        """
        lid = look_id if isinstance(look_id, str) else look_id.id
        clock, interval = self._client._clock, poll
        deadline = clock() + timeout
        while True:
            look = self.get_look(lid)
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
            self._client._sleep(interval)
            interval = next_poll(interval, max_poll)


class Voices(_Resource):
    """``/v3/voices``: the voice catalog."""

    def list(
        self,
        *,
        language: str | None = None,
        gender: str | None = None,
        type: str | None = None,
        limit: int | None = None,
    ) -> Paginator[Voice]:
        """Every voice, optionally of one ``language``, ``gender`` or ``type`` (public|private)."""
        params = {"language": language, "gender": gender, "type": type, "limit": limit}
        return Paginator(
            lambda token: page_of(
                self._client.request_json("GET", "/v3/voices", params={**params, "token": token}),
                Voice,
            )
        )

    def preview(self, voice_id: str, path: StrPath | None = None) -> bytes:
        """A short WAV sample of the voice; also written to ``path`` when given."""
        audio = self._client.request("GET", f"/v3/voices/{voice_id}/preview.wav").content
        if path is not None:
            Path(path).write_bytes(audio)
        return audio


class WebhookEndpoints(_Resource):
    """``/v3/webhooks/endpoints``: where events are delivered."""

    def create(self, url: str, events: Sequence[str] | None = None) -> WebhookEndpoint:
        """Register a receiver; the returned ``secret`` (``whsec_…``) is shown only now."""
        answer = self._client.request_json(
            "POST", "/v3/webhooks/endpoints", json=endpoint_body(url, events)
        )
        return WebhookEndpoint.from_dict(data_of(answer))

    def list(self, *, limit: int | None = None) -> Paginator[WebhookEndpoint]:
        """Every endpoint (without secrets)."""
        return Paginator(
            lambda token: page_of(
                self._client.request_json(
                    "GET", "/v3/webhooks/endpoints", params={"limit": limit, "token": token}
                ),
                WebhookEndpoint,
            )
        )

    def update(
        self,
        endpoint_id: str,
        *,
        url: str | None = None,
        events: Sequence[str] | None = None,
        status: str | None = None,
    ) -> WebhookEndpoint:
        """Change an endpoint's URL, events, or ``status`` (enabled | disabled)."""
        answer = self._client.request_json(
            "PATCH",
            f"/v3/webhooks/endpoints/{endpoint_id}",
            json=endpoint_body(url, events, status),
        )
        return WebhookEndpoint.from_dict(data_of(answer))

    def delete(self, endpoint_id: str) -> None:
        """Remove an endpoint."""
        self._client.request_json("DELETE", f"/v3/webhooks/endpoints/{endpoint_id}")

    def rotate_secret(self, endpoint_id: str) -> WebhookEndpoint:
        """A new secret (returned); the old one keeps signing beside it for a grace period."""
        answer = self._client.request_json(
            "POST", f"/v3/webhooks/endpoints/{endpoint_id}/rotate-secret"
        )
        return WebhookEndpoint.from_dict(data_of(answer))


class Webhooks(_Resource):
    """``/v3/webhooks``: ``endpoints``, the event types, and the delivered-event log."""

    def __init__(self, client: Client) -> None:
        super().__init__(client)
        self.endpoints = WebhookEndpoints(client)

    def event_types(self) -> list[EventType]:
        """The event types an endpoint can subscribe to."""
        answer = self._client.request_json("GET", "/v3/webhooks/event-types")
        return [EventType.from_dict(item) for item in data_of(answer)]

    def events(self, *, limit: int | None = None) -> Paginator[WebhookEvent]:
        """The delivered-event log, newest first, with each delivery's attempts."""
        return Paginator(
            lambda token: page_of(
                self._client.request_json(
                    "GET", "/v3/webhooks/events", params={"limit": limit, "token": token}
                ),
                WebhookEvent,
            )
        )
