"""Webhook endpoints (create, list, update, delete, rotate the secret) and the event log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from twinstudio.db.base import new_id, now
from twinstudio.db.models import (
    Account,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from twinstudio.errors import InvalidParameter, NotFound
from twinstudio.services.pagination import Page, check_limit, paginate
from twinstudio.services.requests import EndpointCreate, EndpointUpdate
from twinstudio.webhooks.delivery import DeliveryPolicy, check_receiver_url
from twinstudio.webhooks.events import EVENT_TYPES
from twinstudio.webhooks.signing import new_secret


def _check_events(events: list[str] | None) -> list[str] | None:
    if events is None:
        return None
    unknown = [e for e in events if e not in EVENT_TYPES]
    if unknown or not events:
        raise InvalidParameter(
            f"Unknown event types {unknown}; see GET /v3/webhooks/event-types."
            if unknown
            else "events must list at least one event type (or be left out for all).",
            param="events",
        )
    return sorted(set(events))


def create_endpoint(session: Session, account: Account, req: EndpointCreate) -> WebhookEndpoint:
    check_receiver_url(req.url)
    ep = WebhookEndpoint(
        id=new_id("ep"),
        account_id=account.id,
        url=req.url,
        events=_check_events(req.events),
        secret=new_secret(),
    )
    session.add(ep)
    session.flush()
    return ep


def get_endpoint(session: Session, account: Account, endpoint_id: str) -> WebhookEndpoint:
    ep = session.get(WebhookEndpoint, endpoint_id)
    if ep is None or ep.account_id != account.id:
        raise NotFound(
            f"No webhook endpoint {endpoint_id!r}; list them with GET /v3/webhooks/endpoints."
        )
    return ep


def list_endpoints(
    session: Session, account: Account, limit: int | None, token: str | None
) -> Page:
    q = (
        select(WebhookEndpoint)
        .where(WebhookEndpoint.account_id == account.id)
        .order_by(WebhookEndpoint.created_at.desc(), WebhookEndpoint.id.desc())
    )
    return paginate(session, q, check_limit(limit, 10, 100), token)


def update_endpoint(
    session: Session, account: Account, endpoint_id: str, req: EndpointUpdate
) -> WebhookEndpoint:
    ep = get_endpoint(session, account, endpoint_id)
    if req.url is not None:
        check_receiver_url(req.url)
        ep.url = req.url
    if "events" in req.model_fields_set:
        ep.events = _check_events(req.events)
    if req.status is not None:
        ep.status = req.status
        if req.status == "enabled":
            ep.disabled_reason = None
            ep.failing_since = None
        else:
            ep.disabled_reason = "Disabled by the account."
    ep.updated_at = now()
    return ep


def delete_endpoint(session: Session, account: Account, endpoint_id: str) -> None:
    ep = get_endpoint(session, account, endpoint_id)
    for d in session.scalars(
        select(WebhookDelivery).where(
            WebhookDelivery.endpoint_id == ep.id, WebhookDelivery.status == "pending"
        )
    ):
        d.status = "failed"
        d.last_error = "endpoint deleted"
    session.delete(ep)


def rotate_secret(session: Session, account: Account, endpoint_id: str) -> WebhookEndpoint:
    """A new secret; the old one still signs (beside the new) for the grace period."""
    ep = get_endpoint(session, account, endpoint_id)
    ep.previous_secret = ep.secret
    ep.previous_secret_expires_at = now() + DeliveryPolicy.from_env().rotation_grace_s
    ep.secret = new_secret()
    ep.updated_at = now()
    return ep


def endpoint_view(ep: WebhookEndpoint, *, with_secret: bool = False) -> dict[str, Any]:
    from datetime import UTC, datetime

    view: dict[str, Any] = {
        "endpoint_id": ep.id,
        "url": ep.url,
        "events": ep.events if ep.events is not None else sorted(EVENT_TYPES),
        "status": ep.status,
        "disabled_reason": ep.disabled_reason,
        "created_at": datetime.fromtimestamp(ep.created_at, UTC).isoformat().replace("+00:00", "Z"),
    }
    if with_secret:
        view["secret"] = ep.secret
    return view


def list_events(session: Session, account: Account, limit: int | None, token: str | None) -> Page:
    q = (
        select(WebhookEvent)
        .where(WebhookEvent.account_id == account.id)
        .order_by(WebhookEvent.created_at.desc(), WebhookEvent.id.desc())
    )
    return paginate(session, q, check_limit(limit, 10, 100), token)


def event_view(session: Session, event: WebhookEvent) -> dict[str, Any]:
    deliveries = []
    for d in session.scalars(select(WebhookDelivery).where(WebhookDelivery.event_id == event.id)):
        attempts = session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id == d.id)
            .order_by(WebhookAttempt.id)
        )
        deliveries.append(
            {
                "endpoint_id": d.endpoint_id,
                "url": d.url,
                "status": d.status,
                "attempts": d.attempts,
                "next_attempt_at": int(d.next_attempt_at) if d.status == "pending" else None,
                "attempt_log": [
                    {
                        "at": int(a.attempted_at),
                        "status_code": a.status_code,
                        "latency_ms": a.latency_ms,
                        "error": a.error,
                    }
                    for a in attempts
                ],
            }
        )
    return {
        "event_id": event.id,
        "event_type": event.event_type,
        "event_data": event.data,
        "created_at": int(event.created_at),
        "deliveries": deliveries,
    }
