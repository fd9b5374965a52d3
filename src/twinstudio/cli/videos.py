"""``twinstudio videos``: make, list, show, download and delete videos on a server."""

from __future__ import annotations

import itertools
import re
import time
from pathlib import Path
from types import TracebackType
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from twinstudio.cli.output import (
    EXIT_CODES_HELP,
    ApiKeyOpt,
    BaseUrlOpt,
    Exit,
    JsonOpt,
    fail,
    handled,
    make_client,
    print_deleted,
    print_fields,
    print_json,
    print_table,
    stderr,
)
from twinstudio.client import Asset, Client, Video

app = typer.Typer(help="Videos on a server.", epilog=EXIT_CODES_HELP, no_args_is_help=True)

HEX_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")


class RenderProgress:
    """A live bar on stderr: the render (the video's ``progress``), then the download (bytes)."""

    def __init__(self, enabled: bool) -> None:
        self._progress = Progress(
            TextColumn("{task.description:<12}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=stderr,
            disable=not enabled,
        )
        self._render: TaskID | None = None
        self._download: TaskID | None = None

    def __enter__(self) -> RenderProgress:
        self._progress.start()
        self._render = self._progress.add_task("rendering", total=100, detail="pending")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def render(self, video: Video) -> None:
        """``on_progress`` for ``videos.wait``."""
        assert self._render is not None
        done = 100 if video.status == "completed" else (video.progress or 0)
        self._progress.update(self._render, completed=done, detail=video.status)

    def download(self, done: int, total: int | None) -> None:
        """``progress`` for ``videos.download``."""
        if self._download is None:
            self._download = self._progress.add_task("downloading", total=total, detail="")
        size = f"{done / 1e6:.1f}/{total / 1e6:.1f} MB" if total else f"{done / 1e6:.1f} MB"
        self._progress.update(self._download, completed=done, total=total, detail=size)


def _number_or_name(value: str | None) -> float | str | None:
    """An option that is a number or a name, as the API takes it (the server checks it)."""
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return value


def _background(client: Client, value: str | None) -> str | Asset | None:
    if value is None:
        return None
    if HEX_COLOR.match(value):
        return value.upper()
    if value.startswith(("http://", "https://")):
        return value
    path = Path(value)
    if path.is_file():
        return client.assets.upload(path)
    fail(
        f"--background must be a colour like '#1A2B3C', an image file or an image URL, not {value!r}."
    )


@app.command("create")
def create(
    avatar: Annotated[
        str, typer.Option("--avatar", help="The look (avatar_id), e.g. look_demo_astronaut.")
    ],
    voice: Annotated[
        str | None, typer.Option("--voice", help="voice_id (default: the look's voice).")
    ] = None,
    script: Annotated[
        str | None, typer.Option(help="What the twin says (≤ 5,000 characters).")
    ] = None,
    script_file: Annotated[
        Path | None, typer.Option(help="Read the script from a text file.")
    ] = None,
    audio: Annotated[
        Path | None, typer.Option(help="Speak this audio file instead of a script.")
    ] = None,
    resolution: Annotated[
        str | None, typer.Option(help="720p | 1080p | 4k (server default 1080p).")
    ] = None,
    aspect: Annotated[str | None, typer.Option(help="16:9 | 9:16.")] = None,
    fit: Annotated[str | None, typer.Option(help="contain | cover.")] = None,
    background: Annotated[
        str | None, typer.Option(help="'#RRGGBB', an image file or an image URL.")
    ] = None,
    remove_background: Annotated[
        bool, typer.Option(help="Cut the person out (look trained with matting).")
    ] = False,
    output_format: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="mp4 | webm (VP9; transparent with --remove-background and no --background). "
            "Default: webm when --out ends in .webm, else mp4.",
        ),
    ] = None,
    speed: Annotated[float | None, typer.Option(help="Voice speed 0.5–1.5.")] = None,
    pitch: Annotated[float | None, typer.Option(help="Voice pitch −50..50.")] = None,
    expressiveness: Annotated[
        str | None, typer.Option(help="How far the mouth moves: 0.5–1.5, or low | medium | high.")
    ] = None,
    title: Annotated[str | None, typer.Option(help="A title for the video.")] = None,
    wait: Annotated[bool, typer.Option(help="Wait until the video is rendered.")] = False,
    out: Annotated[
        Path | None, typer.Option(help="Download the video here (implies --wait).")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the render.")] = 1800.0,
    base_url: BaseUrlOpt = None,
    api_key: ApiKeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Make a video (POST /v3/videos); with --wait / --out, follow it with a live progress bar."""
    if sum(x is not None for x in (script, script_file, audio)) != 1:
        fail("give exactly one of --script, --script-file or --audio.")
    with handled(as_json):
        if script_file is not None:
            script = script_file.read_text(encoding="utf-8")
        if audio is not None and not audio.is_file():
            fail(f"{audio} is not a file.")
        if output_format is None and out is not None and out.suffix.lower() == ".webm":
            output_format = "webm"
        with make_client(base_url, api_key) as client:
            settings: dict[str, Any] = {
                k: v for k, v in (("speed", speed), ("pitch", pitch)) if v is not None
            }
            video = client.videos.create(
                avatar_id=avatar,
                script=script,
                voice_id=voice,
                audio_asset_id=client.assets.upload(audio).asset_id if audio else None,
                title=title,
                resolution=resolution,
                aspect_ratio=aspect,
                fit=fit,
                background=_background(client, background),
                remove_background=remove_background or None,
                output_format=output_format,
                expressiveness=_number_or_name(expressiveness),
                voice_settings=settings or None,
            )
            if not (wait or out):
                if as_json:
                    print_json(video.to_dict())
                else:
                    typer.echo(
                        f"queued video {video.id}; follow it with `twinstudio videos show {video.id}`"
                    )
                    typer.echo(video.id)
                return
            started = time.monotonic()
            with RenderProgress(enabled=not as_json) as bar:
                video = client.videos.wait(
                    video.id, timeout=timeout, poll=0.5, max_poll=2.0, on_progress=bar.render
                )
                path = client.videos.download(video, out, progress=bar.download) if out else None
        if as_json:
            print_json({**video.to_dict(), "file": str(path) if path else None})
            return
        typer.echo(
            f"video {video.id}: {video.status}, {video.duration or 0:.1f} s of video "
            f"in {time.monotonic() - started:.0f} s"
        )
        typer.echo(str(path) if path else (video.video_url or video.id))


@app.command("list")
def list_(
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
    title: Annotated[str | None, typer.Option(help="Only titles containing this.")] = None,
    base_url: BaseUrlOpt = None,
    api_key: ApiKeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List videos, newest first."""
    with handled(as_json), make_client(base_url, api_key) as client:
        videos = list(
            itertools.islice(client.videos.list(limit=min(max(limit, 1), 100), title=title), limit)
        )
        if as_json:
            print_json([v.to_dict() for v in videos])
            return
        print_table(
            ["id", "status", "duration", "created", "title"],
            [
                (
                    v.id,
                    v.status if v.status != "processing" else f"processing {v.progress or 0}%",
                    f"{v.duration:.1f} s" if v.duration else "",
                    time.strftime("%Y-%m-%d %H:%M", time.localtime(v.created_at))
                    if v.created_at
                    else "",
                    v.title,
                )
                for v in videos
            ],
        )


@app.command("show")
def show(
    video_id: Annotated[str, typer.Argument(help="The video.")],
    base_url: BaseUrlOpt = None,
    api_key: ApiKeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show one video, with fresh download links."""
    with handled(as_json), make_client(base_url, api_key) as client:
        v = client.videos.get(video_id)
        if as_json:
            print_json(v.to_dict())
            return
        print_fields(
            [
                ("id", v.id),
                ("title", v.title),
                (
                    "status",
                    v.status if v.status != "processing" else f"processing {v.progress or 0}%",
                ),
                ("avatar", v.avatar_id),
                ("duration", f"{v.duration:.2f} s" if v.duration else None),
                ("size", f"{v.width}×{v.height}" if v.width else None),
                ("failure", f"{v.failure_code}: {v.failure_message}" if v.failure_code else None),
                ("video", v.video_url),
                ("thumbnail", v.thumbnail_url),
                ("gif", v.gif_url),
                ("subtitles", v.subtitle_url),
            ]
        )
        if v.status == "failed":
            raise typer.Exit(Exit.FAILED)


@app.command("download")
def download(
    video_id: Annotated[str, typer.Argument(help="A completed video.")],
    out: Annotated[Path, typer.Option(help="File (or folder) to write the MP4 to.")],
    base_url: BaseUrlOpt = None,
    api_key: ApiKeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Download a completed video's MP4."""
    with handled(as_json), make_client(base_url, api_key) as client:
        path = client.videos.download(video_id, out)
        if as_json:
            print_json({"id": video_id, "file": str(path)})
        else:
            typer.echo(str(path))


@app.command("delete")
def delete(
    video_id: Annotated[str, typer.Argument(help="The video to delete.")],
    base_url: BaseUrlOpt = None,
    api_key: ApiKeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Delete a video and its files."""
    with handled(as_json), make_client(base_url, api_key) as client:
        client.videos.delete(video_id)
        print_deleted("id", video_id, as_json)
