"""Request bodies, validated with pydantic. Used by the API and the CLI alike.

Validation errors become 400 ``invalid_parameter`` with the field's dotted path in ``param``
(see ``api/errors.py``). Unknown extra fields are ignored, as HeyGen programs may send fields
this server does not know; every known field is honoured or refused.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

HEX_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
MAX_SCRIPT_CHARS = 5000


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


# How far the mouth moves (**ours**): a factor on the mouth-shape track's swings about the rest
# shape (``render.motion.mouth_track``), 1.0 as the person was filmed, or one of three named
# levels. Below 0.5 a mouth barely moves with its words; above 1.5 every syllable reaches the
# widest opening the footage shows.
EXPRESSIVENESS_LEVELS = {"low": 0.7, "medium": 1.0, "high": 1.3}
EXPRESSIVENESS_RANGE = (0.5, 1.5)
_EXPRESSIVENESS_TAKES = "must be a number from 0.5 to 1.5, or low, medium or high"


def expressiveness_value(value: float | str | None) -> float:
    """The factor for an ``expressiveness`` given as a number or a level name (None: 1.0);
    raises ValueError naming what is accepted."""
    if value is None:
        return 1.0
    if isinstance(value, str):
        if value in EXPRESSIVENESS_LEVELS:
            return EXPRESSIVENESS_LEVELS[value]
        try:
            value = float(value)
        except ValueError:
            value = float("nan")
    lo, hi = EXPRESSIVENESS_RANGE
    if not lo <= float(value) <= hi:
        raise ValueError(_EXPRESSIVENESS_TAKES)
    return float(value)


class VoiceSettingsIn(Strict):
    speed: float = Field(1.0, ge=0.5, le=1.5)
    pitch: float = Field(0.0, ge=-50, le=50)
    volume: float = Field(1.0, ge=0.0, le=2.0)
    locale: str | None = Field(None, max_length=20)


class ColorBackground(Strict):
    type: Literal["color"]
    value: str

    @field_validator("value")
    @classmethod
    def _hex(cls, v: str) -> str:
        if not HEX_COLOR.match(v):
            raise ValueError('must be a colour like "#1A2B3C"')
        return v.upper()


class ImageBackground(Strict):
    type: Literal["image"]
    url: str | None = Field(None, max_length=2000)
    asset_id: str | None = Field(None, max_length=100)

    @model_validator(mode="after")
    def _one_source(self) -> ImageBackground:
        if bool(self.url) == bool(self.asset_id):
            raise ValueError("give exactly one of url or asset_id")
        return self


Background = Annotated[ColorBackground | ImageBackground, Field(discriminator="type")]


class CaptionIn(Strict):
    file_format: Literal["srt", "vtt"] = "srt"
    style: dict[str, Any] | None = None


class VideoCreate(Strict):
    type: Literal["avatar", "image"] = "avatar"
    avatar_id: str = Field(min_length=1, max_length=100)
    script: str | None = None
    voice_id: str | None = Field(None, max_length=200)
    audio_url: str | None = Field(None, max_length=2000)
    audio_asset_id: str | None = Field(None, max_length=100)
    title: str | None = Field(None, max_length=500)
    resolution: Literal["720p", "1080p", "4k"] = "1080p"
    aspect_ratio: Literal["16:9", "9:16"] = "16:9"
    fit: Literal["contain", "cover"] = "cover"
    remove_background: bool = False
    background: Background | None = None
    voice_settings: VoiceSettingsIn | None = None
    caption: CaptionIn | None = None
    output_format: Literal["mp4", "webm"] = "mp4"
    expressiveness: float | str | None = None  # None: 1.0
    callback_url: str | None = Field(None, max_length=2000)
    callback_id: str | None = Field(None, max_length=500)

    @field_validator("expressiveness", mode="before")
    @classmethod
    def _expressiveness(cls, v: Any) -> Any:
        if v is None:
            return v
        if isinstance(v, bool) or not isinstance(v, int | float | str):
            raise ValueError(_EXPRESSIVENESS_TAKES)
        expressiveness_value(v)  # in range, or a level's name
        return v

    @field_validator("script")
    @classmethod
    def _script(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if not v.strip():
            raise ValueError("must not be empty")
        if len(v) > MAX_SCRIPT_CHARS:
            raise ValueError(f"is {len(v)} characters; the limit is {MAX_SCRIPT_CHARS}")
        return v


class FileRef(Strict):
    type: Literal["url", "asset_id", "base64"]
    url: str | None = Field(None, max_length=2000)
    asset_id: str | None = Field(None, max_length=100)
    media_type: str | None = Field(None, max_length=100)
    data: str | None = None

    @model_validator(mode="after")
    def _matches_type(self) -> FileRef:
        needed = {"url": self.url, "asset_id": self.asset_id, "base64": self.data}[self.type]
        if not needed:
            field = {"url": "url", "asset_id": "asset_id", "base64": "data"}[self.type]
            raise ValueError(f'file of type "{self.type}" needs "{field}"')
        return self


class AvatarCreate(Strict):
    type: Literal["video", "photo"] = "video"
    name: str = Field(min_length=1, max_length=200)
    file: FileRef
    avatar_group_id: str | None = Field(None, max_length=100)
    matting: bool = False
    transcript: str | None = Field(None, max_length=20000)
    gender: Literal["male", "female", "unknown"] | None = None
    default_voice_id: str | None = Field(None, max_length=200)


class LookUpdate(Strict):
    name: str | None = Field(None, min_length=1, max_length=200)
    default_voice_id: str | None = Field(None, max_length=200)
    gender: Literal["male", "female", "unknown"] | None = None


class EndpointCreate(Strict):
    url: str = Field(min_length=1, max_length=2000)
    events: list[str] | None = None


class EndpointUpdate(Strict):
    url: str | None = Field(None, min_length=1, max_length=2000)
    events: list[str] | None = None
    status: Literal["enabled", "disabled"] | None = None


class SpeechCreate(Strict):
    text: str = Field(min_length=1, max_length=MAX_SCRIPT_CHARS)
    voice_id: str = Field(min_length=1, max_length=200)
    voice_settings: VoiceSettingsIn | None = None
