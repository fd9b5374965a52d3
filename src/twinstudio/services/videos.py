"""Videos: create (validate + queue), read, list, delete, and the render job itself."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from twinstudio.db.base import new_id, now
from twinstudio.db.models import Account, Look, Video
from twinstudio.errors import InvalidParameter, MediaError, NotFound, RateLimited
from twinstudio.jobs import queue
from twinstudio.jobs.scratch import job_folder
from twinstudio.jobs.worker import JobKind, JobRun, LeaseLost, register
from twinstudio.services import assets as asset_service
from twinstudio.services import events
from twinstudio.services.context import AppContext
from twinstudio.services.fetch import check_url, download
from twinstudio.services.looks import find_usable_look
from twinstudio.services.pagination import Page, check_limit, paginate
from twinstudio.services.requests import VideoCreate, expressiveness_value
from twinstudio.webhooks.delivery import check_receiver_url

if TYPE_CHECKING:
    from twinstudio.render.types import RenderOptions

log = logging.getLogger(__name__)

JOB_KIND = "render_video"
MAX_AUDIO_BYTES = 200 * 1024 * 1024


def create_video(ctx: AppContext, session: Session, account: Account, req: VideoCreate) -> Video:
    """Check every reference in the request, store the video as ``pending`` and queue it."""
    from twinstudio import speech

    look = find_usable_look(session, account, req.avatar_id)
    has_audio = bool(req.audio_url or req.audio_asset_id)
    if req.audio_url and req.audio_asset_id:
        raise InvalidParameter(
            "Give audio_url or audio_asset_id, not both.", param="audio_asset_id"
        )
    if has_audio and req.voice_id:
        raise InvalidParameter(
            "voice_id is for scripts; with audio_url / audio_asset_id the audio is used as is.",
            param="voice_id",
        )
    voice_id = req.voice_id
    if not has_audio:
        if req.script is None:
            raise InvalidParameter(
                "Give a script (with voice_id) or audio_url / audio_asset_id.", param="script"
            )
        voice_id = voice_id or look.default_voice_id
        if not voice_id:
            raise InvalidParameter(
                "voice_id is required with a script; see GET /v3/voices.", param="voice_id"
            )
        speech.get_voice(voice_id)
    if req.audio_url:
        check_url(req.audio_url, "audio_url")
    if req.audio_asset_id:
        asset_service.get_asset(
            session, account, req.audio_asset_id, "audio_asset_id", kind="audio"
        )
    if req.remove_background and not look.matting:
        raise InvalidParameter(
            f"Look {look.id} was trained without matting, so its background cannot be removed. "
            'Train a look with "matting": true, or leave remove_background false.',
            param="remove_background",
        )
    if req.background is not None and not req.remove_background and req.fit == "cover":
        raise InvalidParameter(
            "A background shows only behind a removed background (remove_background: true, for a "
            'look trained with matting) or around the footage with fit: "contain". Set one of them, '
            "or leave background out.",
            param="background",
        )
    if req.background is not None and req.background.type == "image":
        if req.background.url:
            check_url(req.background.url, "background.url")
        elif req.background.asset_id:
            asset_service.get_asset(
                session, account, req.background.asset_id, "background.asset_id", kind="image"
            )
    if req.caption is not None and req.caption.style is not None:
        from twinstudio.render.captions import parse_style
        from twinstudio.render.types import output_size

        parse_style(req.caption.style, output_size(req.resolution, req.aspect_ratio))
        if req.output_format != "mp4":
            raise InvalidParameter(
                "Burned-in captions (caption.style) are made for mp4 output; the "
                "subtitle file comes with every video.",
                param="caption.style",
            )
    if req.callback_url:
        check_receiver_url(req.callback_url, "callback_url")
    active = (
        session.scalar(
            select(func.count())
            .select_from(Video)
            .where(Video.account_id == account.id, Video.status.in_(["pending", "processing"]))
        )
        or 0
    )
    if active >= ctx.settings.max_concurrent_videos:
        raise RateLimited(
            f"This account already has {active} videos in progress (limit "
            f"{ctx.settings.max_concurrent_videos}); wait for one to finish.",
            retry_after=10,
        )
    params = req.model_dump(mode="json")
    params["voice_id"] = voice_id
    video = Video(
        id=new_id("vid"),
        account_id=account.id,
        look_id=look.id,
        title=req.title or "",
        status="pending",
        params=params,
        callback_url=req.callback_url,
        callback_id=req.callback_id,
    )
    session.add(video)
    session.flush()
    queue.enqueue(session, JOB_KIND, video.id)
    return video


def get_video(session: Session, account: Account, video_id: str) -> Video:
    video = session.get(Video, video_id)
    if video is None or video.account_id != account.id:
        raise NotFound(f"No video {video_id!r} in this account.")
    return video


def list_videos(
    session: Session,
    account: Account,
    limit: int | None,
    token: str | None,
    title: str | None = None,
) -> Page:
    query = select(Video).where(Video.account_id == account.id)
    if title:
        query = query.where(Video.title.contains(title))
    query = query.order_by(Video.created_at.desc(), Video.id.desc())
    return paginate(session, query, check_limit(limit, 10, 100), token)


def delete_video(ctx: AppContext, session: Session, account: Account, video_id: str) -> None:
    """Delete the row and every stored file; a render in flight is abandoned."""
    video = get_video(session, account, video_id)
    queue.cancel(session, video.id, "video deleted")
    session.delete(video)
    ctx.storage.delete_prefix(f"videos/{video.id}")


def video_view(ctx: AppContext, video: Video) -> dict[str, Any]:
    """The v3 video object, with freshly signed URLs."""
    ttl = ctx.settings.url_ttl_seconds

    def url(key: str | None) -> str | None:
        return ctx.storage.url(key, ttl) if key else None

    return {
        "id": video.id,
        "video_id": video.id,
        "title": video.title,
        "status": video.status,
        "progress": video.progress if video.status != "completed" else 100,
        "avatar_id": video.look_id,
        "created_at": int(video.created_at),
        "completed_at": int(video.completed_at) if video.completed_at else None,
        "video_url": url(video.video_key),
        "thumbnail_url": url(video.thumbnail_key),
        "gif_url": url(video.gif_key),
        "captioned_video_url": url(video.captioned_key),
        "subtitle_url": url(video.subtitle_key),
        "duration": round(video.duration, 3) if video.duration is not None else None,
        "width": video.width,
        "height": video.height,
        "failure_code": video.failure_code,
        "failure_message": video.failure_message,
        "video_page_url": None,
        "callback_id": video.callback_id,
    }


# ---------------------------------------------------------------- the render job


def _set_progress(ctx: AppContext, video_id: str, fraction: float) -> None:
    with ctx.db.session() as s:
        video = s.get(Video, video_id)
        if video is not None and video.status in ("pending", "processing"):
            video.status = "processing"
            video.progress = min(99, int(fraction * 100))


def _fail(run: JobRun, code: str, message: str) -> None:
    def apply(s: Session) -> None:
        video = s.get(Video, run.ref_id)
        if video is None:
            return
        video.status = "failed"
        video.failure_code = code
        video.failure_message = message
        video.completed_at = now()
        events.video_failed(run.ctx, s, video)

    run.complete(apply, failed=True, error=f"{code}: {message}")


def _speech_for(ctx: AppContext, video: Video, workdir: Path) -> Any:
    """Custom audio, decoded at once (a long recording timed a piece at a time as the render
    reaches it, ``AudioPieces``, so its frames start before all of it is recognised), or the
    script's speech as an iterator of pieces, synthesised as the render reaches them (voice and
    settings are checked at once)."""
    from twinstudio import speech
    from twinstudio.speech.types import VoiceSettings

    p = video.params
    vs = p.get("voice_settings") or {}
    settings = VoiceSettings(
        speed=vs.get("speed", 1.0),
        pitch=vs.get("pitch", 0.0),
        volume=vs.get("volume", 1.0),
        locale=vs.get("locale"),
    )
    if p.get("audio_url") or p.get("audio_asset_id"):
        src = _input_file(
            ctx,
            video,
            p.get("audio_url"),
            p.get("audio_asset_id"),
            "audio",
            workdir / "input-audio",
            MAX_AUDIO_BYTES,
        )
        return speech.stream_audio(src, transcript=p.get("script"))
    return speech.synthesize_stream(p["script"], p["voice_id"], settings)


def render_options(params: dict[str, Any], background: Any, recording: bool) -> RenderOptions:
    """The :class:`~twinstudio.render.types.RenderOptions` of a video's ``params``.

    ``recording``: the speech is custom audio. Without it, a script spoken by a TTS voice
    (``synthetic_voice``); with it and no ``script`` (the audio's transcript), its phones are
    recognised (``recognised_phones``).
    """
    from twinstudio.render.types import RenderOptions

    return RenderOptions(
        resolution=params["resolution"],
        aspect_ratio=params["aspect_ratio"],
        fit=params.get("fit", "cover"),
        remove_background=params.get("remove_background", False),
        background=background,
        output_format=params.get("output_format", "mp4"),
        expressiveness=expressiveness_value(params.get("expressiveness")),
        synthetic_voice=not recording,
        recognised_phones=recording and not params.get("script"),
    )


def _background_for(ctx: AppContext, video: Video, workdir: Path) -> Any:
    from twinstudio.render.types import Background

    bg = video.params.get("background")
    if not bg:
        return None
    if bg["type"] == "color":
        return Background(color=bg["value"])
    path = _input_file(
        ctx,
        video,
        bg.get("url"),
        bg.get("asset_id"),
        "background",
        workdir / "background-image",
        ctx.settings.max_asset_bytes,
    )
    return Background(image_path=path)


def _input_file(
    ctx: AppContext,
    video: Video,
    url: str | None,
    asset_id: str | None,
    field: str,
    dest: Path,
    max_bytes: int,
) -> Path:
    """A request's media (``{field}_url`` / ``{field}_asset_id``, or ``background.url`` /
    ``.asset_id``) as a file in the job's folder: downloaded, or copied from the account's asset."""
    sep = "." if field == "background" else "_"
    if url:
        return download(url, dest, param=f"{field}{sep}url", max_bytes=max_bytes)
    assert asset_id is not None
    with ctx.db.session() as s:
        account = s.get(Account, video.account_id)
        assert account is not None
        asset = asset_service.get_asset(s, account, asset_id, f"{field}{sep}asset_id")
    return asset_service.copy_asset_to(ctx, asset, dest)


def _drop_files_if_deleted(ctx: AppContext, video_id: str, prefix: str) -> None:
    """A render that lost its job because the video was deleted must not leave files behind."""
    with ctx.db.session() as s:
        if s.get(Video, video_id) is None:
            ctx.storage.delete_prefix(prefix)


def run_render(run: JobRun) -> None:
    """Speech → lip-sync render → encode → store, then mark the video completed."""
    from twinstudio.render import render_video
    from twinstudio.speech import to_srt, to_vtt

    ctx = run.ctx
    with ctx.db.session() as s:
        video = s.get(Video, run.ref_id)
        if video is None:
            run.complete(lambda _s: None)
            return
        look = s.get(Look, video.look_id)
        video.status = "processing"
        video.progress = 1
    if look is None or look.pack_prefix is None:
        raise MediaError(
            "avatar_unavailable",
            f"Look {video.look_id} no longer exists; create the video with another avatar_id.",
        )
    with job_folder(ctx.settings.work_dir, f"{video.id}-") as workdir:
        run.progress(0.02)
        speech_out = _speech_for(ctx, video, workdir)
        run.progress(0.10)
        p = video.params
        recording = getattr(speech_out, "duration_s", None)  # custom audio: Speech or pieces
        options = render_options(p, _background_for(ctx, video, workdir), recording is not None)
        pack_dir = ctx.storage.local_tree(look.pack_prefix, workdir / "pack")
        result = render_video(
            pack_dir,
            speech_out,
            options,
            workdir,
            progress=lambda f: run.progress(0.10 + 0.85 * f),
            text_length=len(p["script"]) if recording is None else None,
            duration_s=recording,
        )
        (workdir / "subtitles.srt").write_text(to_srt(result.words), encoding="utf-8")
        (workdir / "subtitles.vtt").write_text(to_vtt(result.words), encoding="utf-8")
        prefix = f"videos/{video.id}"
        ext = "webm" if options.output_format == "webm" else "mp4"
        keys = {
            "video_key": f"{prefix}/video.{ext}",
            "thumbnail_key": f"{prefix}/thumbnail.jpg",
            "gif_key": f"{prefix}/preview.gif",
            "subtitle_key": f"{prefix}/subtitles.srt",
            "vtt_key": f"{prefix}/subtitles.vtt",
        }
        ctx.storage.put_file(keys["video_key"], result.video_path)
        ctx.storage.put_file(keys["thumbnail_key"], result.thumbnail_path)
        ctx.storage.put_file(keys["gif_key"], result.gif_path)
        ctx.storage.put_file(keys["subtitle_key"], workdir / "subtitles.srt")
        ctx.storage.put_file(keys["vtt_key"], workdir / "subtitles.vtt")
        style = (p.get("caption") or {}).get("style")
        if style is not None and options.output_format == "mp4":
            from twinstudio.render.captions import burn_into_video

            captioned = burn_into_video(
                result.video_path, workdir / "captioned.mp4", result.words, style
            )
            keys["captioned_key"] = f"{prefix}/captioned.mp4"
            ctx.storage.put_file(keys["captioned_key"], captioned)
        run.progress(0.99)

        def apply(s: Session) -> None:
            row = s.get(Video, run.ref_id)
            if row is None:  # deleted meanwhile
                ctx.storage.delete_prefix(prefix)
                return
            for name, key in keys.items():
                setattr(row, name, key)
            row.duration = result.duration_s
            row.width, row.height = result.width, result.height
            row.status = "completed"
            row.progress = 100
            row.completed_at = now()
            events.video_succeeded(ctx, s, row)

        try:
            run.complete(apply)
        except LeaseLost:
            _drop_files_if_deleted(ctx, run.ref_id, prefix)
            raise


register(JOB_KIND, JobKind(run=run_render, fail=_fail, progress=_set_progress))
