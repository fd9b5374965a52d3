"""/v3/voices: the voice catalog."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from twinstudio.api.deps import AccountDep, CtxDep
from twinstudio.errors import InvalidParameter
from twinstudio.services import voices as service
from twinstudio.services.pagination import check_limit, paginate_list
from twinstudio.services.requests import SpeechCreate

router = APIRouter(prefix="/v3/voices", tags=["voices"])


@router.get("")
def list_voices(
    ctx: CtxDep,
    account: AccountDep,
    type: Annotated[str | None, Query()] = None,
    language: Annotated[str | None, Query()] = None,
    gender: Annotated[str | None, Query()] = None,
    limit: Annotated[int | None, Query()] = None,
    token: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    if type not in (None, "public", "private"):
        raise InvalidParameter("type must be public or private.", param="type")
    if gender not in (None, "male", "female", "unknown"):
        raise InvalidParameter("gender must be male, female or unknown.", param="gender")
    voices = service.catalog(language=language, gender=gender, voice_type=type)
    page = paginate_list(voices, check_limit(limit, 20, 100), token)
    return {
        "data": [service.voice_view(ctx, v) for v in page.items],
        "has_more": page.has_more,
        "next_token": page.next_token,
    }


@router.get("/{voice_id}/preview.wav", include_in_schema=False)
def voice_preview(voice_id: str, ctx: CtxDep) -> Response:
    """A short sample of the voice (public, like HeyGen's preview links)."""
    return Response(service.preview(ctx, voice_id), media_type="audio/wav")


@router.post("/speech")
def speech(body: SpeechCreate, ctx: CtxDep, account: AccountDep) -> dict[str, Any]:
    """The audio of a script alone, with word and phoneme timings (to preview a script)."""
    return {"data": service.speak(ctx, account.id, body.text, body.voice_id, body.voice_settings)}
