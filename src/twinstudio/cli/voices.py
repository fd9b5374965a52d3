"""``twinstudio voices``: the voice catalog on a server, and installing a local Piper voice."""

from __future__ import annotations

from dataclasses import asdict
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
    print_json,
    print_table,
)

app = typer.Typer(help="Voices.", epilog=EXIT_CODES_HELP, no_args_is_help=True)


@app.command("list")
def list_(
    language: Annotated[str | None, typer.Option(help="e.g. English.")] = None,
    gender: Annotated[str | None, typer.Option(help="male | female | unknown.")] = None,
    base_url: BaseUrlOpt = None,
    api_key: ApiKeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List the voices a video can use (GET /v3/voices)."""
    with handled(as_json), make_client(base_url, api_key) as client:
        voices = list(client.voices.list(language=language, gender=gender, limit=100))
        if as_json:
            print_json([v.to_dict() for v in voices])
            return
        print_table(
            ["voice_id", "language", "locale", "gender", "name"],
            [(v.voice_id, v.language, v.locale, v.gender, v.name) for v in voices],
        )


@app.command("preview")
def preview(
    voice_id: Annotated[str, typer.Argument(help="The voice.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the WAV sample.")],
    base_url: BaseUrlOpt = None,
    api_key: ApiKeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Save a short sample of a voice as a WAV file."""
    with handled(as_json), make_client(base_url, api_key) as client:
        audio = client.voices.preview(voice_id, out)
        if as_json:
            print_json({"voice_id": voice_id, "file": str(out), "bytes": len(audio)})
        else:
            typer.echo(f"wrote {out} ({len(audio)} bytes)")


@app.command("add")
def add(
    onnx: Annotated[
        Path, typer.Argument(help="A Piper voice (NAME.onnx, with NAME.onnx.json beside it).")
    ],
    as_json: JsonOpt = False,
) -> None:
    """Install a Piper voice into this machine's data folder (restart the server to list it)."""
    from twinstudio import speech

    add_voice = getattr(speech, "add_piper_voice", None)
    if add_voice is None:
        fail(
            "this install cannot add voices (twinstudio.speech.add_piper_voice is missing).",
            Exit.SERVER,
        )
    with handled(as_json):
        voice = add_voice(onnx)
        if as_json:
            print_json(asdict(voice))
        else:
            typer.echo(f"added voice {voice.voice_id} ({voice.language}, {voice.gender})")
            typer.echo(voice.voice_id)
