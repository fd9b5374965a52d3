"""Avatars: groups (people) and looks (trained twins): create, train, read, update, delete."""

from __future__ import annotations

import base64
import binascii
import logging
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from twinstudio.db.base import new_id, now
from twinstudio.db.models import Account, AvatarGroup, Look
from twinstudio.errors import InvalidParameter, NotFound
from twinstudio.jobs import queue
from twinstudio.jobs.scratch import job_folder
from twinstudio.jobs.worker import JobKind, JobRun, LeaseLost, register
from twinstudio.services import assets as asset_service
from twinstudio.services import events
from twinstudio.services.context import AppContext
from twinstudio.services.fetch import check_url, download
from twinstudio.services.pagination import Page, check_limit, paginate
from twinstudio.services.requests import AvatarCreate, LookUpdate

log = logging.getLogger(__name__)

JOB_KIND = "train_look"
TYPE_ALIASES = {
    "video_avatar": "video_avatar",
    "digital_twin": "video_avatar",
    "photo_avatar": "photo_avatar",
}
DEMO_LOOK_ID = "look_demo_astronaut"
DEMO_GROUP_ID = "group_demo_astronaut"
DEMO_VOICE_ID = "en_US-joe-medium"


def _visible(account: Account):  # type: ignore[no-untyped-def]
    return or_(Look.account_id == account.id, Look.account_id.is_(None))


def get_look(session: Session, account: Account, look_id: str) -> Look:
    look = session.scalar(select(Look).where(Look.id == look_id, _visible(account)))
    if look is None:
        raise NotFound(f"No look {look_id!r}; list yours with GET /v3/avatars/looks.")
    return look


def find_usable_look(session: Session, account: Account, look_id: str) -> Look:
    """The look a new video uses: visible to the account and trained (400 on ``avatar_id`` else)."""
    look = session.scalar(select(Look).where(Look.id == look_id, _visible(account)))
    if look is None:
        raise InvalidParameter(
            f"Unknown avatar_id {look_id!r}; list your looks with GET /v3/avatars/looks.",
            param="avatar_id",
        )
    if look.status != "completed":
        detail = {
            "processing": "is still training; poll GET /v3/avatars/looks/{id} until it is completed",
            "pending_consent": "waits for the person's consent (POST /v3/avatars/{group_id}/consent)",
            "failed": f"failed training: {look.error_message or 'see its error'}",
        }.get(look.status, f"is {look.status}")
        raise InvalidParameter(f"Look {look_id} {detail}.", param="avatar_id")
    return look


def list_looks(
    session: Session,
    account: Account,
    *,
    avatar_type: str | None,
    ownership: str | None,
    group_id: str | None,
    limit: int | None,
    token: str | None,
) -> Page:
    query = select(Look)
    if ownership == "private":
        query = query.where(Look.account_id == account.id)
    elif ownership == "public":
        query = query.where(Look.account_id.is_(None))
    elif ownership is not None:
        raise InvalidParameter("ownership must be private or public.", param="ownership")
    else:
        query = query.where(_visible(account))
    if avatar_type is not None:
        if avatar_type not in TYPE_ALIASES:
            raise InvalidParameter(
                "avatar_type must be video_avatar, digital_twin or photo_avatar.",
                param="avatar_type",
            )
        query = query.where(Look.avatar_type == TYPE_ALIASES[avatar_type])
    if group_id:
        query = query.where(Look.group_id == group_id)
    query = query.order_by(Look.created_at.desc(), Look.id.desc())
    return paginate(session, query, check_limit(limit, 20, 50), token)


def list_groups(session: Session, account: Account, limit: int | None, token: str | None) -> Page:
    query = (
        select(AvatarGroup)
        .where(or_(AvatarGroup.account_id == account.id, AvatarGroup.account_id.is_(None)))
        .order_by(AvatarGroup.created_at.desc(), AvatarGroup.id.desc())
    )
    return paginate(session, query, check_limit(limit, 20, 50), token)


def get_group(session: Session, account: Account, group_id: str) -> AvatarGroup:
    group = session.get(AvatarGroup, group_id)
    if group is None or group.account_id not in (None, account.id):
        raise NotFound(f"No avatar group {group_id!r}; list them with GET /v3/avatars.")
    return group


def _receive_file(
    ctx: AppContext, session: Session, account: Account, req: AvatarCreate, dest: Path
) -> str:
    """Put the request's footage/image into storage; returns its storage key."""
    f = req.file
    if f.type == "asset_id":
        assert f.asset_id is not None
        want = "video" if req.type == "video" else "image"
        asset = asset_service.get_asset(session, account, f.asset_id, "file.asset_id", kind=want)
        return asset.storage_key
    if f.type == "base64":
        assert f.data is not None
        try:
            raw = base64.b64decode(f.data, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidParameter("file.data is not valid base64.", param="file.data") from exc
        dest.write_bytes(raw)
        upload = asset_service.classify(ctx, dest, len(raw), param="file.data")
        key = f"sources/{account.id}/{new_id('src')}"
        ctx.storage.put_file(key, upload.path, upload.mime_type)
        return key
    assert f.url is not None
    check_url(f.url, "file.url")
    return ""  # fetched by the training job


def create_avatar(ctx: AppContext, session: Session, account: Account, req: AvatarCreate) -> Look:
    """Create (or add a look to) a group and queue the look's training."""
    if req.avatar_group_id:
        group = get_group(session, account, req.avatar_group_id)
        if group.account_id != account.id:
            raise InvalidParameter(
                "avatar_group_id names a public group; use one of yours.", param="avatar_group_id"
            )
    else:
        group = AvatarGroup(
            id=new_id("group"),
            account_id=account.id,
            name=req.name,
            gender=req.gender or "unknown",
            default_voice_id=req.default_voice_id,
            consent_status="pending" if ctx.settings.require_consent else "waived",
        )
        session.add(group)
    if req.default_voice_id:
        from twinstudio import speech

        speech.get_voice(req.default_voice_id)
    with job_folder(ctx.settings.work_dir, "upload-") as tmp:
        source_key = _receive_file(ctx, session, account, req, tmp / "source")
    look = Look(
        id=new_id("look"),
        group_id=group.id,
        account_id=account.id,
        name=req.name,
        avatar_type="video_avatar" if req.type == "video" else "photo_avatar",
        status="processing",
        source_key=source_key or None,
        matting=req.matting,
        transcript=req.transcript,
        gender=req.gender or group.gender,
        default_voice_id=req.default_voice_id or group.default_voice_id,
        quality={"source_url": req.file.url} if req.file.type == "url" else None,
    )
    session.add(look)
    session.flush()
    queue.enqueue(session, JOB_KIND, look.id, max_attempts=2)
    return look


def update_look(session: Session, account: Account, look_id: str, req: LookUpdate) -> Look:
    look = get_look(session, account, look_id)
    if look.account_id != account.id:
        raise NotFound(f"No look {look_id!r} of yours; public looks cannot be changed.")
    if req.name is not None:
        look.name = req.name
    if req.default_voice_id is not None:
        from twinstudio import speech

        speech.get_voice(req.default_voice_id)
        look.default_voice_id = req.default_voice_id
    if req.gender is not None:
        look.gender = req.gender
    return look


def delete_look(ctx: AppContext, session: Session, account: Account, look_id: str) -> None:
    """Remove a look and every file of it (pack, previews, source footage)."""
    look = get_look(session, account, look_id)
    if look.account_id != account.id:
        raise NotFound(f"No look {look_id!r} of yours; public looks cannot be deleted.")
    queue.cancel(session, look.id, "look deleted")
    ctx.storage.delete_prefix(f"looks/{look.id}")
    if look.source_key and look.source_key.startswith("sources/"):
        ctx.storage.delete_prefix(look.source_key)
    group_id = look.group_id
    session.delete(look)
    session.flush()
    if not session.scalar(select(Look.id).where(Look.group_id == group_id).limit(1)):
        group = session.get(AvatarGroup, group_id)
        if group is not None:
            ctx.storage.delete_prefix(f"groups/{group_id}")  # the consent recording
            session.delete(group)


def look_view(ctx: AppContext, look: Look) -> dict[str, Any]:
    ttl = ctx.settings.url_ttl_seconds
    quality = dict(look.quality or {})
    quality.pop("source_url", None)
    view: dict[str, Any] = {
        "id": look.id,
        "name": look.name,
        "avatar_type": look.avatar_type,
        "group_id": look.group_id,
        "preview_image_url": ctx.storage.url(look.preview_image_key, ttl)
        if look.preview_image_key
        else None,
        "preview_video_url": ctx.storage.url(look.preview_video_key, ttl)
        if look.preview_video_key
        else None,
        "gender": look.gender,
        "tags": look.tags or [],
        "default_voice_id": look.default_voice_id,
        "supported_api_engines": ["twinstudio-cpu"],
        "image_width": look.width,
        "image_height": look.height,
        "preferred_orientation": look.orientation,
        "matting": look.matting,
        "quality": quality or None,
        "created_at": int(look.created_at),
    }
    if look.account_id is not None:
        view["status"] = look.status
        view["progress"] = look.progress
        view["error"] = (
            {"code": look.error_code, "message": look.error_message} if look.error_code else None
        )
        if look.status == "pending_consent":
            from twinstudio.services.consent import consent_link

            view["consent_url"] = consent_link(ctx, look.group_id)
    else:
        view["status"] = look.status
    return view


def group_view(ctx: AppContext, session: Session, group: AvatarGroup) -> dict[str, Any]:
    looks = list(
        session.scalars(select(Look).where(Look.group_id == group.id).order_by(Look.created_at))
    )
    first = looks[0] if looks else None
    ttl = ctx.settings.url_ttl_seconds
    return {
        "id": group.id,
        "name": group.name,
        "preview_image_url": ctx.storage.url(first.preview_image_key, ttl)
        if first and first.preview_image_key
        else None,
        "preview_video_url": ctx.storage.url(first.preview_video_key, ttl)
        if first and first.preview_video_key
        else None,
        "gender": group.gender,
        "created_at": int(group.created_at),
        "looks_count": len(looks),
        "default_voice_id": group.default_voice_id,
        "consent_status": group.consent_status,
        "status": first.status if first else "failed",
        "error": (
            {"code": first.error_code, "message": first.error_message}
            if first and first.error_code
            else None
        ),
    }


# ---------------------------------------------------------------- the training job


def _set_progress(ctx: AppContext, look_id: str, fraction: float) -> None:
    with ctx.db.session() as s:
        look = s.get(Look, look_id)
        if look is not None and look.status == "processing":
            look.progress = min(99, int(fraction * 100))


def _fail(run: JobRun, code: str, message: str) -> None:
    def apply(s: Session) -> None:
        look = s.get(Look, run.ref_id)
        if look is None:
            return
        look.status = "failed"
        look.error_code = code
        look.error_message = message
        events.training_failed(run.ctx, s, look)

    run.complete(apply, failed=True, error=f"{code}: {message}")


def run_training(run: JobRun) -> None:
    """Footage (or a still) → twin pack in storage, previews, quality report; look completed."""
    from twinstudio.twins import train_twin

    ctx = run.ctx
    with ctx.db.session() as s:
        look = s.get(Look, run.ref_id)
        if look is None:
            run.complete(lambda _s: None)
            return
        look.status = "processing"
        source_key, matting, transcript = look.source_key, look.matting, look.transcript
        kind = "video" if look.avatar_type == "video_avatar" else "photo"
        source_url = (look.quality or {}).get("source_url")
    with job_folder(ctx.settings.work_dir, f"{run.ref_id}-") as workdir:
        if source_key:
            source = ctx.storage.local_copy(source_key, workdir)
        else:
            limit = (
                ctx.settings.max_footage_bytes if kind == "video" else ctx.settings.max_asset_bytes
            )
            source = download(
                source_url or "", workdir / "source", param="file.url", max_bytes=limit
            )
        pack_dir = workdir / "pack"
        info = train_twin(
            source,
            pack_dir,
            kind=kind,
            matting=matting,
            transcript=transcript,
            progress=lambda f: run.progress(0.95 * f),
        )
        prefix = f"looks/{run.ref_id}"
        ctx.storage.put_tree(f"{prefix}/pack", pack_dir)
        preview_image_key = f"{prefix}/preview.jpg"
        ctx.storage.put_file(preview_image_key, info.preview_image)
        preview_video_key = None
        if info.preview_video is not None:
            preview_video_key = f"{prefix}/preview.mp4"
            ctx.storage.put_file(preview_video_key, info.preview_video)

        def apply(s: Session) -> None:
            row = s.get(Look, run.ref_id)
            if row is None:
                ctx.storage.delete_prefix(prefix)
                return
            group = s.get(AvatarGroup, row.group_id)
            row.pack_prefix = f"{prefix}/pack"
            row.preview_image_key = preview_image_key
            row.preview_video_key = preview_video_key
            row.width, row.height = info.width, info.height
            row.orientation = info.orientation
            row.quality = info.quality
            row.progress = 100
            row.error_code = row.error_message = None
            row.status = (
                "pending_consent"
                if group is not None and group.consent_status == "pending"
                else "completed"
            )
            row.updated_at = now()
            events.training_succeeded(ctx, s, row)

        try:
            run.complete(apply)
        except LeaseLost:
            with ctx.db.session() as s:  # deleted while training: leave nothing behind
                if s.get(Look, run.ref_id) is None:
                    ctx.storage.delete_prefix(prefix)
            raise


register(JOB_KIND, JobKind(run=run_training, fail=_fail, progress=_set_progress))


def ensure_demo(ctx: AppContext) -> None:
    """Create the public demo look (a public-domain photo) once, training it in the background."""
    from twinstudio.twins.demo import demo_source

    with ctx.db.session() as s:
        if s.get(Look, DEMO_LOOK_ID) is not None:
            return
        key = "public/demo/source.png"
        ctx.storage.put_file(key, demo_source())
        s.add(
            AvatarGroup(
                id=DEMO_GROUP_ID,
                account_id=None,
                name="Demo: Astronaut (photo)",
                gender="female",
                default_voice_id=DEMO_VOICE_ID,
                consent_status="waived",
            )
        )
        s.flush()
        s.add(
            Look(
                id=DEMO_LOOK_ID,
                group_id=DEMO_GROUP_ID,
                account_id=None,
                name="Demo: Astronaut (photo)",
                avatar_type="photo_avatar",
                status="processing",
                source_key=key,
                gender="female",
                default_voice_id=DEMO_VOICE_ID,
                tags=["demo", "public-domain"],
            )
        )
        s.flush()
        queue.enqueue(s, JOB_KIND, DEMO_LOOK_ID, max_attempts=3)
