"""The ``twinstudio`` command: run the server and workers, manage keys, make twins and videos."""

from __future__ import annotations

import logging
import os
import sys
from typing import Annotated

import typer

from twinstudio.cli import render, twins, videos, voices, webhooks
from twinstudio.cli.output import BOOTSTRAP_KEY_FILE, EXIT_CODES_HELP
from twinstudio.config import get_settings

app = typer.Typer(
    help=(
        "twinstudio: self-hosted Digital Twin videos. Client commands (twins, voices, videos, "
        "webhooks) talk to a server: --base-url / TWINSTUDIO_BASE_URL and --api-key / "
        "TWINSTUDIO_API_KEY, else this machine's settings and bootstrap key. " + EXIT_CODES_HELP
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(db_app, name="db")
app.add_typer(twins.app, name="twins")
app.add_typer(voices.app, name="voices")
app.add_typer(videos.app, name="videos")
app.add_typer(webhooks.app, name="webhooks")
app.command("render")(render.render)


def _fail(message: str, code: int = 1) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def _logging() -> None:
    logging.basicConfig(
        level=os.environ.get("TWINSTUDIO_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)  # migrations: say only what matters


def bootstrap_key() -> str:
    """The local operator key kept in the data folder (made on first use, mode 0600)."""
    from twinstudio.services.context import build_context
    from twinstudio.services.keys import authenticate, create_key

    settings = get_settings()
    ctx = build_context(settings)
    path = settings.data_dir / BOOTSTRAP_KEY_FILE
    if path.exists():
        secret = path.read_text().strip()
        try:
            with ctx.db.session() as s:
                authenticate(s, secret)
            return secret
        except Exception:
            pass  # revoked or from another database: make a new one
    with ctx.db.session() as s:
        created = create_key(s, "local operator")
    tmp = path.with_suffix(".tmp")
    tmp.write_text(created.secret + "\n")
    tmp.chmod(0o600)
    os.replace(tmp, path)
    return created.secret


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Interface to listen on (TWINSTUDIO_HOST).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (TWINSTUDIO_PORT, default 8000).")] = None,
    workers: Annotated[
        int | None, typer.Option(help="In-process job workers (TWINSTUDIO_WORKERS).")
    ] = None,
) -> None:
    """Start the HTTP API with in-process workers."""
    import uvicorn

    if host:
        os.environ["TWINSTUDIO_HOST"] = host
    if port:
        os.environ["TWINSTUDIO_PORT"] = str(port)
    if workers is not None:
        os.environ["TWINSTUDIO_WORKERS"] = str(workers)
    get_settings.cache_clear()
    settings = get_settings()
    _logging()
    from twinstudio.api.app import create_app

    key = bootstrap_key()
    application = create_app(settings)
    url = settings.base_url()
    typer.echo(f"twinstudio is starting on {url}  (API docs: {url}/docs)")
    typer.echo(f"API key: {key}")
    typer.echo(f"Try:  curl -H 'x-api-key: {key}' {url}/v3/avatars/looks")
    uvicorn.run(application, host=settings.host, port=settings.port, log_level="info")


@app.command()
def worker(
    threads: Annotated[int, typer.Option(help="Worker threads in this process.")] = 1,
) -> None:
    """Run job workers only (no HTTP), e.g. on another machine sharing the database."""
    import signal
    import threading

    _logging()
    from twinstudio.jobs.worker import WorkerPool
    from twinstudio.services import looks, videos  # noqa: F401  (register job kinds)
    from twinstudio.services.context import build_context

    ctx = build_context(get_settings())
    from twinstudio.webhooks.runner import DeliveryProcess

    pool = WorkerPool(ctx, threads)
    deliveries = DeliveryProcess(ctx.settings.db_url, threads=ctx.settings.webhook_threads)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    pool.start()
    deliveries.start()
    typer.echo(f"twinstudio worker: {threads} thread(s) polling {ctx.settings.db_url}")
    done.wait()
    deliveries.shutdown()
    pool.shutdown()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations."""
    from twinstudio.db.migrate import upgrade

    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.db_url)
    typer.echo(f"database is up to date ({settings.db_url})")


@keys_app.command("create")
def keys_create(name: Annotated[str, typer.Option(help="A name to tell the key apart.")]) -> None:
    """Create an API key for a new account. The key is the last line of the output."""
    from twinstudio.services.context import build_context
    from twinstudio.services.keys import create_key

    ctx = build_context(get_settings())
    with ctx.db.session() as s:
        created = create_key(s, name)
    typer.echo(f"Created key {created.key_id} for account {created.account_id} ({name}).")
    typer.echo("Store it now: it is not shown again.")
    typer.echo(created.secret)


@keys_app.command("list")
def keys_list() -> None:
    """List API keys (never their secrets)."""
    from twinstudio.services.context import build_context
    from twinstudio.services.keys import list_keys

    ctx = build_context(get_settings())
    with ctx.db.session() as s:
        for key in list_keys(s):
            state = "revoked" if key.revoked_at else "active"
            typer.echo(f"{key.id}  {key.prefix}…  {state:8}  {key.account_id}  {key.name}")


@keys_app.command("revoke")
def keys_revoke(key_id: str) -> None:
    """Revoke a key by its id or prefix."""
    from twinstudio.errors import NotFound
    from twinstudio.services.context import build_context
    from twinstudio.services.keys import revoke_key

    ctx = build_context(get_settings())
    try:
        with ctx.db.session() as s:
            key = revoke_key(s, key_id)
            typer.echo(f"revoked {key.id} ({key.name})")
    except NotFound as exc:
        _fail(exc.message, 4)


def main() -> None:  # pragma: no cover
    sys.exit(app())
