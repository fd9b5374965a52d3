"""What every client command shares: connection options, exit codes, error reports, JSON, tables.

Exit codes (also in ``twinstudio --help`` and the README):

    0  ok
    1  unexpected error (a bug: please report it)
    2  usage or invalid parameter (400, 413, a bad option or file)
    3  cannot reach the server
    4  not found or not allowed (401, 403, 404)
    5  server or engine error (5xx, 409, 429 after retries, missing dependency)
    6  the video or the training failed
    7  timed out (waiting, or no answer from the server)
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from enum import IntEnum
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from twinstudio import errors as domain
from twinstudio.client import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    InvalidParameterError,
    JobFailedError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    TwinstudioError,
    WaitTimeoutError,
)

if TYPE_CHECKING:
    from twinstudio.client import Client

BOOTSTRAP_KEY_FILE = "bootstrap-key"

EXIT_CODES_HELP = (
    "Exit codes: 0 ok, 1 unexpected error, 2 usage or invalid parameter, 3 cannot reach the "
    "server, 4 not found or not allowed (401/403/404), 5 server or engine error, 6 video or "
    "training failed, 7 timed out."
)


class Exit(IntEnum):
    OK = 0
    ERROR = 1
    USAGE = 2
    CONNECTION = 3
    NOT_FOUND = 4
    SERVER = 5
    FAILED = 6
    TIMEOUT = 7


stdout = Console(soft_wrap=True)
stderr = Console(stderr=True)

BaseUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        envvar="TWINSTUDIO_BASE_URL",
        help="Server URL (default: this machine's server settings).",
        show_default=False,
    ),
]
ApiKeyOpt = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        envvar="TWINSTUDIO_API_KEY",
        help="API key (default: $TWINSTUDIO_DATA_DIR/bootstrap-key).",
        show_default=False,
        show_envvar=True,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (for scripts).")]


def exit_code_for(exc: BaseException) -> Exit:
    """The documented exit code of an expected error."""
    if isinstance(exc, APITimeoutError | WaitTimeoutError):
        return Exit.TIMEOUT
    if isinstance(exc, APIConnectionError):
        return Exit.CONNECTION
    if isinstance(exc, JobFailedError | domain.MediaError):
        return Exit.FAILED
    if isinstance(exc, AuthenticationError | PermissionDeniedError | NotFoundError):
        return Exit.NOT_FOUND
    if isinstance(exc, domain.AuthenticationFailed | domain.Forbidden | domain.NotFound):
        return Exit.NOT_FOUND
    if isinstance(exc, InvalidParameterError | PayloadTooLargeError | domain.InvalidParameter):
        return Exit.USAGE
    if isinstance(exc, domain.PayloadTooLarge):
        return Exit.USAGE
    if isinstance(exc, APIError):
        return (
            Exit.USAGE if 400 <= exc.status < 500 and exc.status not in (409, 429) else Exit.SERVER
        )
    if isinstance(exc, domain.TwinstudioError):
        return Exit.SERVER
    if isinstance(exc, TwinstudioError | OSError):
        return Exit.USAGE  # e.g. no API key, a file that cannot be read or written
    return Exit.ERROR


def _describe(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, APIError):
        return {"code": exc.code, "message": exc.message, "param": exc.param, "status": exc.status}
    if isinstance(exc, JobFailedError):
        return {"code": exc.failure_code, "message": str(exc), "param": None}
    if isinstance(exc, domain.TwinstudioError):
        return {"code": exc.code, "message": exc.message, "param": exc.param}
    if isinstance(exc, OSError) and exc.filename:
        return {
            "code": type(exc).__name__,
            "message": f"{exc.strerror}: {exc.filename}",
            "param": None,
        }
    return {"code": type(exc).__name__, "message": str(exc) or type(exc).__name__, "param": None}


@contextmanager
def handled(as_json: bool = False) -> Iterator[None]:
    """Turn expected errors into a one-line message (and JSON with ``--json``) and an exit code."""
    try:
        yield
    except (TwinstudioError, domain.TwinstudioError, OSError) as exc:
        code = exit_code_for(exc)
        info = _describe(exc)
        where = f" (param: {info['param']})" if info.get("param") else ""
        text = str(exc) if isinstance(exc, APIError) else f"{info['message']}{where}"
        if isinstance(exc, AuthenticationError):
            text += "  Check --api-key / TWINSTUDIO_API_KEY."
        if isinstance(exc, APIConnectionError):
            text += "  Is the server running (`twinstudio serve`) and --base-url right?"
        if as_json:
            print_json({"error": {**info, "exit_code": int(code)}})
        fail(text, code)
    except KeyboardInterrupt:
        stderr.print("interrupted")
        raise typer.Exit(130) from None


def fail(message: str, code: int = Exit.USAGE) -> NoReturn:
    """Print ``error: message`` on stderr and exit with ``code``."""
    stderr.print(f"[red]error:[/red] {message}", markup=True, highlight=False)
    raise typer.Exit(int(code))


def print_json(value: Any) -> None:
    """JSON on stdout, plain (no colours), one document."""
    sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")
    sys.stdout.flush()


def print_deleted(id_field: str, object_id: str, as_json: bool) -> None:
    """The answer of every ``delete`` command: JSON ``{id_field: …, "deleted": true}`` or a line."""
    if as_json:
        print_json({id_field: object_id, "deleted": True})
    else:
        typer.echo(f"deleted {object_id}")


def print_table(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None
) -> None:
    """A rich table on stdout."""
    cells = [["" if v is None else str(v) for v in row] for row in rows]
    table = Table(title=title, box=None, header_style="bold", pad_edge=False)
    for i, name in enumerate(columns):
        # ids are never cut or wrapped, even on a narrow or piped output: scripts copy them
        width = max([len(name), *(len(row[i]) for row in cells)]) if i == 0 else None
        table.add_column(name, no_wrap=i == 0, min_width=width, overflow="fold")
    for row in cells:
        table.add_row(*row)
    stdout.print(table)


def print_fields(pairs: Sequence[tuple[str, Any]]) -> None:
    """``name: value`` lines, skipping empty values."""
    width = max(len(k) for k, _ in pairs)
    for key, value in pairs:
        if value not in (None, "", [], {}):
            stdout.print(f"[bold]{key:<{width}}[/bold]  {value}", highlight=False)


def client_settings(base_url: str | None, api_key: str | None) -> tuple[str, str]:
    """The server URL and key: options/env first, then this machine's settings and bootstrap key."""
    from twinstudio.config import get_settings

    settings = get_settings()
    url = (base_url or os.environ.get("TWINSTUDIO_BASE_URL") or settings.base_url()).rstrip("/")
    key = api_key or os.environ.get("TWINSTUDIO_API_KEY")
    if not key:
        path = settings.data_dir / BOOTSTRAP_KEY_FILE
        if path.exists():
            key = path.read_text().strip()
    if not key:
        fail(
            "no API key: pass --api-key or set TWINSTUDIO_API_KEY (see `twinstudio keys create`).",
            Exit.USAGE,
        )
    return url, key


def make_client(base_url: str | None, api_key: str | None, *, timeout: float = 120.0) -> Client:
    """An SDK client for the options given."""
    from twinstudio.client import Client

    url, key = client_settings(base_url, api_key)
    return Client(url, key, timeout=timeout)
