"""/v3/avatars: groups and looks (Digital Twins)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query

from twinstudio.api.deps import AccountDep, CtxDep, SessionDep
from twinstudio.api.idempotency import run_idempotent
from twinstudio.services import looks as service
from twinstudio.services.requests import AvatarCreate, LookUpdate

router = APIRouter(prefix="/v3/avatars", tags=["avatars"])


@router.get("/looks")
def list_looks(
    ctx: CtxDep,
    session: SessionDep,
    account: AccountDep,
    avatar_type: Annotated[str | None, Query()] = None,
    ownership: Annotated[str | None, Query()] = None,
    group_id: Annotated[str | None, Query()] = None,
    limit: Annotated[int | None, Query()] = None,
    token: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    page = service.list_looks(
        session,
        account,
        avatar_type=avatar_type,
        ownership=ownership,
        group_id=group_id,
        limit=limit,
        token=token,
    )
    return {
        "data": [service.look_view(ctx, look) for look in page.items],
        "has_more": page.has_more,
        "next_token": page.next_token,
    }


@router.get("/looks/{look_id}")
def get_look(look_id: str, ctx: CtxDep, session: SessionDep, account: AccountDep) -> dict[str, Any]:
    return {"data": service.look_view(ctx, service.get_look(session, account, look_id))}


@router.patch("/looks/{look_id}")
def update_look(
    look_id: str, body: LookUpdate, ctx: CtxDep, session: SessionDep, account: AccountDep
) -> dict[str, Any]:
    return {"data": service.look_view(ctx, service.update_look(session, account, look_id, body))}


@router.delete("/looks/{look_id}")
def delete_look(
    look_id: str, ctx: CtxDep, session: SessionDep, account: AccountDep
) -> dict[str, Any]:
    service.delete_look(ctx, session, account, look_id)
    return {"data": {"id": look_id, "deleted": True}}


@router.get("")
def list_groups(
    ctx: CtxDep,
    session: SessionDep,
    account: AccountDep,
    limit: Annotated[int | None, Query()] = None,
    token: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    page = service.list_groups(session, account, limit, token)
    return {
        "data": [service.group_view(ctx, session, g) for g in page.items],
        "has_more": page.has_more,
        "next_token": page.next_token,
    }


@router.get("/{group_id}")
def get_group(
    group_id: str, ctx: CtxDep, session: SessionDep, account: AccountDep
) -> dict[str, Any]:
    return {"data": service.group_view(ctx, session, service.get_group(session, account, group_id))}


@router.post("")
def create_avatar(
    body: AvatarCreate,
    ctx: CtxDep,
    account: AccountDep,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> Any:
    """Make a Digital Twin from footage (or a photo avatar from a still); poll the look."""

    def handle() -> tuple[int, dict[str, Any]]:
        with ctx.db.session() as s:
            look = service.create_avatar(ctx, s, account, body)
            s.flush()
            group = service.get_group(s, account, look.group_id)
            return 200, {
                "data": {
                    "avatar_item": service.look_view(ctx, look),
                    "avatar_group": service.group_view(ctx, s, group),
                }
            }

    return run_idempotent(ctx, account, idempotency_key, body.model_dump(mode="json"), handle)
