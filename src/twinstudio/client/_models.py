"""Typed views of the v3 resources: plain frozen dataclasses built from the JSON the server sends.

Every model keeps the whole JSON object in ``raw`` (fields this SDK does not know yet included);
``to_dict()`` gives it back, e.g. to print as JSON.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Generic, TypeVar

__all__ = [
    "Asset",
    "AvatarGroup",
    "ErrorInfo",
    "EventType",
    "Look",
    "Model",
    "Page",
    "Video",
    "Voice",
    "WebhookEndpoint",
    "WebhookEvent",
]

M = TypeVar("M", bound="Model")
T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class Model:
    """Base of the resource models."""

    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    # JSON keys copied into another field's name (e.g. ``video_id`` → ``id``)
    _aliases: ClassVar[dict[str, str]] = {}

    @classmethod
    def from_dict(cls: type[M], data: Mapping[str, Any]) -> M:
        """Build the model from its JSON object, ignoring keys it has no field for."""
        names = {f.name for f in fields(cls)} - {"raw"}
        kwargs: dict[str, Any] = {}
        for src, dest in cls._aliases.items():
            if src in data and data[src] is not None:
                kwargs[dest] = data[src]
        kwargs.update({k: v for k, v in data.items() if k in names})
        return cls(**cls._convert(kwargs), raw=dict(data))

    @classmethod
    def _convert(cls, kwargs: dict[str, Any]) -> dict[str, Any]:
        """Hook for nested objects."""
        return kwargs

    def to_dict(self) -> dict[str, Any]:
        """The JSON object as the server sent it."""
        return dict(self.raw)


@dataclass(frozen=True, kw_only=True)
class ErrorInfo(Model):
    """Why a look (or a group) failed: ``code`` and a message a person can act on."""

    code: str | None = None
    message: str | None = None


@dataclass(frozen=True, kw_only=True)
class Video(Model):
    """A video (``GET /v3/videos/{id}``). URLs are signed and expire; ``get`` issues fresh ones."""

    _aliases: ClassVar[dict[str, str]] = {"video_id": "id"}

    id: str
    status: str = "pending"  # pending | processing | completed | failed
    title: str | None = None
    progress: int | None = None  # 0-100 while processing (twinstudio only)
    avatar_id: str | None = None
    created_at: int | None = None
    completed_at: int | None = None
    video_url: str | None = None
    thumbnail_url: str | None = None
    gif_url: str | None = None
    captioned_video_url: str | None = None
    subtitle_url: str | None = None
    duration: float | None = None
    width: int | None = None
    height: int | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    video_page_url: str | None = None
    callback_id: str | None = None

    @property
    def done(self) -> bool:
        """True once the video is ``completed`` or ``failed``."""
        return self.status in ("completed", "failed")


@dataclass(frozen=True, kw_only=True)
class Look(Model):
    """A look (``avatar_id``): a Digital Twin, a photo avatar or a public look."""

    id: str
    name: str | None = None
    avatar_type: str | None = None  # video_avatar | photo_avatar
    group_id: str | None = None
    status: str | None = None  # processing | pending_consent | failed | completed
    progress: int | None = None
    preview_image_url: str | None = None
    preview_video_url: str | None = None
    gender: str | None = None
    tags: list[str] = field(default_factory=list)
    default_voice_id: str | None = None
    supported_api_engines: list[str] = field(default_factory=list)
    image_width: int | None = None
    image_height: int | None = None
    preferred_orientation: str | None = None
    matting: bool = False
    quality: dict[str, Any] | None = None
    created_at: int | None = None
    error: ErrorInfo | None = None

    @classmethod
    def _convert(cls, kwargs: dict[str, Any]) -> dict[str, Any]:
        if isinstance(kwargs.get("error"), Mapping):
            kwargs["error"] = ErrorInfo.from_dict(kwargs["error"])
        kwargs["tags"] = list(kwargs.get("tags") or [])
        kwargs["supported_api_engines"] = list(kwargs.get("supported_api_engines") or [])
        kwargs["matting"] = bool(kwargs.get("matting"))
        return kwargs


@dataclass(frozen=True, kw_only=True)
class AvatarGroup(Model):
    """An avatar group: one person, holding one or more looks."""

    id: str
    name: str | None = None
    preview_image_url: str | None = None
    preview_video_url: str | None = None
    gender: str | None = None
    created_at: int | None = None
    looks_count: int = 0
    default_voice_id: str | None = None
    consent_status: str | None = None
    status: str | None = None
    error: ErrorInfo | None = None

    @classmethod
    def _convert(cls, kwargs: dict[str, Any]) -> dict[str, Any]:
        if isinstance(kwargs.get("error"), Mapping):
            kwargs["error"] = ErrorInfo.from_dict(kwargs["error"])
        return kwargs


@dataclass(frozen=True, kw_only=True)
class Voice(Model):
    """A voice of the catalog (``GET /v3/voices``)."""

    voice_id: str
    name: str | None = None
    language: str | None = None
    locale: str | None = None
    gender: str | None = None
    preview_audio_url: str | None = None
    support_pause: bool | None = None
    support_locale: bool | None = None
    type: str | None = None
    engine: str | None = None
    license: str | None = None
    origin: str | None = None

    @property
    def id(self) -> str:
        return self.voice_id


@dataclass(frozen=True, kw_only=True)
class Asset(Model):
    """An uploaded file (``POST /v3/assets``); pass ``asset_id`` where the API takes one."""

    _aliases: ClassVar[dict[str, str]] = {"id": "asset_id"}

    asset_id: str
    url: str | None = None
    mime_type: str | None = None
    size_bytes: int | None = None
    kind: str | None = None
    created_at: int | None = None

    @property
    def id(self) -> str:
        return self.asset_id


@dataclass(frozen=True, kw_only=True)
class WebhookEndpoint(Model):
    """A webhook receiver. ``secret`` (``whsec_…``) is set only on create and rotate."""

    endpoint_id: str
    url: str | None = None
    events: list[str] = field(default_factory=list)
    status: str | None = None  # enabled | disabled
    disabled_reason: str | None = None
    created_at: str | None = None  # ISO-8601
    secret: str | None = field(default=None, repr=False)

    @property
    def id(self) -> str:
        return self.endpoint_id


@dataclass(frozen=True, kw_only=True)
class WebhookEvent(Model):
    """One event of the delivery log, with its deliveries and their attempts."""

    event_id: str
    event_type: str | None = None
    event_data: dict[str, Any] = field(default_factory=dict)
    created_at: int | None = None
    deliveries: list[dict[str, Any]] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.event_id


@dataclass(frozen=True, kw_only=True)
class EventType(Model):
    """A webhook event type and what it means."""

    event_type: str
    description: str | None = None


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: ``data``, and ``next_token`` to ask for the next one."""

    data: list[T]
    has_more: bool = False
    next_token: str | None = None

    def __iter__(self) -> Iterator[T]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)
