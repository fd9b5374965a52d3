"""``twinstudio render``: make a video on this machine, without a server.

Trains a twin from ``--photo`` / ``--footage`` (or reuses a ``--look-pack`` folder), speaks the
script (or takes ``--audio``) and renders the MP4, all in a temporary folder.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from twinstudio.cli.output import EXIT_CODES_HELP, JsonOpt, fail, handled, print_json, stderr

if TYPE_CHECKING:
    from collections.abc import Iterable

    from twinstudio.speech import Speech

HEX_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
DEFAULT_VOICE = "en_US-joe-medium"


def _speech(
    script: str | None, audio: Path | None, voice: str, speed: float, pitch: float
) -> Speech | Iterable[Speech]:
    """Audio decoded at once (a long recording timed piece by piece beside the frames), or the
    script's speech made sentence group by sentence group (voice and settings are checked at
    once; the render makes the pieces beside its frames, on disk)."""
    from twinstudio.speech import VoiceSettings, stream_audio, synthesize_stream

    if audio is not None:
        return stream_audio(audio, transcript=script)
    assert script is not None
    return synthesize_stream(script, voice, VoiceSettings(speed=speed, pitch=pitch))


def render(
    out: Annotated[
        Path,
        typer.Option(
            help="The video to write: .mp4, or .webm for VP9 (transparent with "
            "--remove-background and no --background)."
        ),
    ],
    look_pack: Annotated[Path | None, typer.Option(help="A trained twin pack folder.")] = None,
    photo: Annotated[Path | None, typer.Option(help="Make a photo avatar from this image.")] = None,
    footage: Annotated[
        Path | None, typer.Option(help="Train a twin from this video first.")
    ] = None,
    script: Annotated[
        str | None,
        typer.Option(help="What the twin says (with --audio: the recording's words, to time it)."),
    ] = None,
    script_file: Annotated[Path | None, typer.Option(help="Read the script from a file.")] = None,
    audio: Annotated[Path | None, typer.Option(help="Speak this audio file instead.")] = None,
    voice: Annotated[str, typer.Option(help="voice_id for the script.")] = DEFAULT_VOICE,
    speed: Annotated[float, typer.Option(help="Voice speed 0.5–1.5.")] = 1.0,
    pitch: Annotated[float, typer.Option(help="Voice pitch −50..50.")] = 0.0,
    expressiveness: Annotated[
        str, typer.Option(help="How far the mouth moves: 0.5–1.5, or low | medium | high.")
    ] = "1.0",
    resolution: Annotated[str, typer.Option(help="720p | 1080p | 4k.")] = "1080p",
    aspect: Annotated[str, typer.Option(help="16:9 | 9:16.")] = "16:9",
    fit: Annotated[str, typer.Option(help="contain | cover.")] = "cover",
    background: Annotated[str | None, typer.Option(help="'#RRGGBB' or an image file.")] = None,
    remove_background: Annotated[
        bool, typer.Option(help="Cut the person out (trains with matting).")
    ] = False,
    save_pack: Annotated[
        Path | None, typer.Option(help="Keep the trained pack here for --look-pack.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Make a video locally, without a server (slow: trains the twin first unless --look-pack)."""
    if sum(x is not None for x in (look_pack, photo, footage)) != 1:
        fail("give exactly one of --look-pack, --photo or --footage.")
    if sum(x is not None for x in (script, script_file, audio)) != 1:
        fail("give exactly one of --script, --script-file or --audio.")
    if resolution not in ("720p", "1080p", "4k") or aspect not in ("16:9", "9:16"):
        fail("--resolution must be 720p, 1080p or 4k and --aspect 16:9 or 9:16.")
    if fit not in ("contain", "cover"):
        fail("--fit must be contain or cover.")
    from twinstudio.services.requests import expressiveness_value

    try:
        expressive = expressiveness_value(expressiveness)
    except ValueError as exc:
        fail(f"--expressiveness {exc}.")
    for path in (look_pack, photo, footage, script_file, audio):
        if path is not None and not path.exists():
            fail(f"{path} does not exist.")
    from twinstudio.render import RenderOptions, render_video
    from twinstudio.render.types import Background

    bg: Background | None = None
    if background is not None:
        if HEX_COLOR.match(background):
            bg = Background(color=background.upper())
        elif Path(background).is_file():
            bg = Background(image_path=Path(background).resolve())
        else:
            fail(f"--background must be '#RRGGBB' or an image file, not {background!r}.")

    columns = (
        TextColumn("{task.description:<10}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
    )
    with handled(as_json), tempfile.TemporaryDirectory(prefix="twinstudio-render-") as tmp:
        if script_file is not None:
            script = script_file.read_text(encoding="utf-8")
        work = Path(tmp)
        with Progress(*columns, console=stderr, disable=as_json) as bar:
            pack = look_pack
            if pack is None:
                from twinstudio.twins import train_twin

                source = photo or footage
                assert source is not None
                pack = save_pack or work / "pack"
                task = bar.add_task("training", total=1.0)
                train_twin(
                    source, pack, kind="photo" if photo else "video", matting=remove_background,
                    progress=lambda f: bar.update(task, completed=f),
                )  # fmt: skip
                bar.update(task, completed=1.0)
            task = bar.add_task("speech", total=None)
            speech = _speech(script, audio, voice, speed, pitch)
            bar.update(task, total=1.0, completed=1.0)
            task = bar.add_task("rendering", total=1.0)
            webm = out.suffix.lower() == ".webm"
            options = RenderOptions(resolution=resolution, aspect_ratio=aspect, fit=fit,
                                    remove_background=remove_background, background=bg,
                                    output_format="webm" if webm else "mp4",
                                    expressiveness=expressive,
                                    synthetic_voice=audio is None,
                                    recognised_phones=audio is not None and not script)  # fmt: skip
            result = render_video(
                pack,
                speech,
                options,
                work / "render",
                progress=lambda f: bar.update(task, completed=f),
                text_length=len(script) if audio is None and script else None,
                duration_s=getattr(speech, "duration_s", None),
            )
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(result.video_path, out)
    if as_json:
        print_json({"file": str(out), "duration": result.duration_s, "width": result.width,
                    "height": result.height, "pack": str(save_pack) if save_pack else None})  # fmt: skip
    else:
        typer.echo(f"{result.width}×{result.height}, {result.duration_s:.1f} s")
        typer.echo(str(out))


render.__doc__ = f"{render.__doc__}\n\n{EXIT_CODES_HELP}"
