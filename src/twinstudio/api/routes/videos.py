"""/v3/videos: create, get, list, delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query

from twinstudio.api.deps import AccountDep, CtxDep, SessionDep
from twinstudio.api.idempotency import run_idempotent
from twinstudio.services import videos as service
from twinstudio.services.requests import VideoCreate

router = APIRouter(prefix="/v3/videos", tags=["videos"])


@router.post("", status_code=200)
def create_video(
    body: VideoCreate,
    ctx: CtxDep,
    account: AccountDep,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> Any:
    """Queue a new video; poll GET /v3/videos/{video_id} or wait for the webhook."""

    def handle() -> tuple[int, dict[str, Any]]:
        with ctx.db.session() as s:
            video = service.create_video(ctx, s, account, body)
            return 200, {"data": {"video_id": video.id, "status": video.status}}

    return run_idempotent(ctx, account, idempotency_key, body.model_dump(mode="json"), handle)


@router.get("")
def list_videos(
    ctx: CtxDep,
    session: SessionDep,
    account: AccountDep,
    limit: Annotated[int | None, Query()] = None,
    token: Annotated[str | None, Query()] = None,
    title: Annotated[str | None, Query(max_length=500)] = None,
) -> dict[str, Any]:
    page = service.list_videos(session, account, limit, token, title)
    return {
        "data": [service.video_view(ctx, v) for v in page.items],
        "has_more": page.has_more,
        "next_token": page.next_token,
    }


@router.get("/{video_id}")
def get_video(
    video_id: str, ctx: CtxDep, session: SessionDep, account: AccountDep
) -> dict[str, Any]:
    return {"data": service.video_view(ctx, service.get_video(session, account, video_id))}


@router.delete("/{video_id}")
def delete_video(
    video_id: str, ctx: CtxDep, session: SessionDep, account: AccountDep
) -> dict[str, Any]:
    service.delete_video(ctx, session, account, video_id)
    return {"data": {"id": video_id, "deleted": True}}
