"""``twinstudio twins``: Digital Twins (looks) on a server, through the SDK."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

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
    stderr,
)
from twinstudio.client import Look, TrainingFailedError

app = typer.Typer(
    help="Digital Twins (looks) on a server.", epilog=EXIT_CODES_HELP, no_args_is_help=True
)


def _score(look: Look) -> object:
    quality = look.quality or {}
    return quality.get("overall", quality.get("score"))


@app.command("create")
def create(
    footage: Annotated[
        Path, typer.Argument(help="A video of one person talking to camera (or a photo).")
    ],
    name: Annotated[str, typer.Option(help="The twin's name.")],
    matting: Annotated[bool, typer.Option(help="Prepare background removal.")] = False,
    photo: Annotated[
        bool, typer.Option(help="The file is a still photo (without it: as the server reads it).")
    ] = False,
    transcript: Annotated[str | None, typer.Option(help="What is said in the footage.")] = None,
    wait: Annotated[bool, typer.Option(help="Wait until training ends.")] = True,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for training.")] = 1800.0,
    base_url: BaseUrlOpt = None,
    api_key: ApiKeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Upload footage and train a private twin (POST /v3/assets, then POST /v3/avatars).

    The look id is the last line of the output.
    """
    if not footage.is_file():
        fail(f"{footage} is not a file.", Exit.USAGE)
    with handled(as_json), make_client(base_url, api_key) as client:
        look = client.avatars.create_twin(
            footage, name, matting=matting, transcript=transcript,
            kind="photo" if photo else "auto",
        )  # fmt: skip
        if not as_json:
            stderr.print(f"training look {look.id} …", highlight=False)
        if wait and look.status == "processing":
            try:
                look = client.avatars.wait_look(look.id, timeout=timeout)
            except TrainingFailedError as exc:
                if as_json:
                    print_json(exc.look.to_dict())
                fail(f"training failed: {exc.failure_message or exc.failure_code}", Exit.FAILED)
        if as_json:
            print_json(look.to_dict())
            return
        typer.echo(f"look {look.id}: {look.status}")
        if _score(look) is not None:
            typer.echo(f"quality score: {_score(look)}")
        typer.echo(look.id)


@app.command("list")
def list_(
    ownership: Annotated[str | None, typer.Option(help="private | public (default: both).")] = None,
    avatar_type: Annotated[
        str | None, typer.Option("--type", help="video_avatar | photo_avatar.")
    ] = None,
    base_url: BaseUrlOpt = None,
    api_key: ApiKeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List the looks this key can use: id, status, type, name."""
    with handled(as_json), make_client(base_url, api_key) as client:
        looks = list(client.avatars.looks(ownership=ownership, avatar_type=avatar_type, limit=50))
        if as_json:
            print_json([look.to_dict() for look in looks])
            return
        for look in looks:
            typer.echo(
                f"{look.id}  {look.status or '':15}  {look.avatar_type or '':13}  {look.name or ''}"
            )


@app.command("show")
def show(
    look_id: Annotated[str, typer.Argument(help="The look (avatar_id).")],
    base_url: BaseUrlOpt = None,
    api_key: ApiKeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show one look, with its training report."""
    with handled(as_json), make_client(base_url, api_key) as client:
        look = client.avatars.get_look(look_id)
        if as_json:
            print_json(look.to_dict())
            return
        quality = look.quality or {}
        advice = quality.get("advice")
        print_fields(
            [
                ("id", look.id),
                ("name", look.name),
                ("status", look.status),
                ("type", look.avatar_type),
                ("group", look.group_id),
                ("size", f"{look.image_width}×{look.image_height}" if look.image_width else None),
                ("orientation", look.preferred_orientation),
                ("matting", "yes" if look.matting else "no"),
                ("voice", look.default_voice_id),
                ("quality", _score(look)),
                ("advice", "; ".join(advice) if isinstance(advice, list) else advice),
                ("error", f"{look.error.code}: {look.error.message}" if look.error else None),
                ("preview", look.preview_image_url),
            ]
        )


@app.command("delete")
def delete(
    look_id: Annotated[str, typer.Argument(help="The look to delete.")],
    base_url: BaseUrlOpt = None,
    api_key: ApiKeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Delete a private look and its training data."""
    with handled(as_json), make_client(base_url, api_key) as client:
        client.avatars.delete_look(look_id)
        print_deleted("id", look_id, as_json)
