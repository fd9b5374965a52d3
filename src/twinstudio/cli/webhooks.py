"""``twinstudio webhooks``: endpoints that receive events, and the delivered-event log."""

from __future__ import annotations

import itertools
from typing import Annotated

import typer

from twinstudio.cli.output import (
    EXIT_CODES_HELP,
    ApiKeyOpt,
    BaseUrlOpt,
    JsonOpt,
    handled,
    make_client,
    print_deleted,
    print_json,
    print_table,
)

app = typer.Typer(help="Webhooks.", epilog=EXIT_CODES_HELP, no_args_is_help=True)
endpoints_app = typer.Typer(help="Webhook endpoints (receivers).", no_args_is_help=True)
app.add_typer(endpoints_app, name="endpoints")


@endpoints_app.command("create")
def create(
    url: Annotated[str, typer.Argument(help="The receiver's URL.")],
    event: Annotated[
        list[str] | None,
        typer.Option("--event", help="An event type to send (repeat; default: all)."),
    ] = None,
    base_url: BaseUrlOpt = None,
    api_key: ApiKeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a receiver. Its signing secret (whsec_…) is printed once, as the last line."""
    with handled(as_json), make_client(base_url, api_key) as client:
        ep = client.webhooks.endpoints.create(url, event or None)
        if as_json:
            print_json(ep.to_dict())
            return
        typer.echo(f"endpoint {ep.endpoint_id} → {ep.url} ({', '.join(ep.events)})")
        typer.echo("Store the signing secret now: it is not shown again.")
        typer.echo(ep.secret or "")


@endpoints_app.command("list")
def list_(
    base_url: BaseUrlOpt = None,
    api_key: ApiKeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List the endpoints (never their secrets)."""
    with handled(as_json), make_client(base_url, api_key) as client:
        endpoints = list(client.webhooks.endpoints.list(limit=100))
        if as_json:
            print_json([e.to_dict() for e in endpoints])
            return
        print_table(
            ["endpoint_id", "status", "url", "events"],
            [(e.endpoint_id, e.status, e.url, ", ".join(e.events)) for e in endpoints],
        )


@endpoints_app.command("delete")
def delete(
    endpoint_id: Annotated[str, typer.Argument(help="The endpoint.")],
    base_url: BaseUrlOpt = None,
    api_key: ApiKeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Remove an endpoint."""
    with handled(as_json), make_client(base_url, api_key) as client:
        client.webhooks.endpoints.delete(endpoint_id)
        print_deleted("endpoint_id", endpoint_id, as_json)


@endpoints_app.command("rotate")
def rotate(
    endpoint_id: Annotated[str, typer.Argument(help="The endpoint.")],
    base_url: BaseUrlOpt = None,
    api_key: ApiKeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A new signing secret (last line); the old one keeps working for a grace period."""
    with handled(as_json), make_client(base_url, api_key) as client:
        ep = client.webhooks.endpoints.rotate_secret(endpoint_id)
        if as_json:
            print_json(ep.to_dict())
            return
        typer.echo(f"new secret for {ep.endpoint_id}; the previous one works for a grace period.")
        typer.echo(ep.secret or "")


@app.command("events")
def events(
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
    base_url: BaseUrlOpt = None,
    api_key: ApiKeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The delivered-event log, with each delivery's state."""
    with handled(as_json), make_client(base_url, api_key) as client:
        log = list(itertools.islice(client.webhooks.events(limit=min(max(limit, 1), 100)), limit))
        if as_json:
            print_json([e.to_dict() for e in log])
            return
        print_table(
            ["event_id", "type", "subject", "deliveries"],
            [
                (
                    e.event_id,
                    e.event_type,
                    e.event_data.get("video_id") or e.event_data.get("avatar_id") or "",
                    ", ".join(f"{d.get('status')} ×{d.get('attempts')}" for d in e.deliveries),
                )
                for e in log
            ],
        )
