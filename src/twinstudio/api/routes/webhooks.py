"""/v3/webhooks: endpoints, event types, and the event log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from twinstudio.api.deps import AccountDep, SessionDep
from twinstudio.services import webhooks as service
from twinstudio.services.requests import EndpointCreate, EndpointUpdate
from twinstudio.webhooks.events import EVENT_TYPES

router = APIRouter(prefix="/v3/webhooks", tags=["webhooks"])


@router.post("/endpoints")
def create_endpoint(
    body: EndpointCreate, session: SessionDep, account: AccountDep
) -> dict[str, Any]:
    """Register a receiver. The secret (whsec_…) is shown only here and on rotate-secret."""
    ep = service.create_endpoint(session, account, body)
    return {"data": service.endpoint_view(ep, with_secret=True)}


@router.get("/endpoints")
def list_endpoints(
    session: SessionDep,
    account: AccountDep,
    limit: Annotated[int | None, Query()] = None,
    token: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    page = service.list_endpoints(session, account, limit, token)
    return {
        "data": [service.endpoint_view(e) for e in page.items],
        "has_more": page.has_more,
        "next_token": page.next_token,
    }


@router.patch("/endpoints/{endpoint_id}")
def update_endpoint(
    endpoint_id: str, body: EndpointUpdate, session: SessionDep, account: AccountDep
) -> dict[str, Any]:
    return {
        "data": service.endpoint_view(service.update_endpoint(session, account, endpoint_id, body))
    }


@router.delete("/endpoints/{endpoint_id}")
def delete_endpoint(endpoint_id: str, session: SessionDep, account: AccountDep) -> dict[str, Any]:
    service.delete_endpoint(session, account, endpoint_id)
    return {"data": {"endpoint_id": endpoint_id, "deleted": True}}


@router.post("/endpoints/{endpoint_id}/rotate-secret")
def rotate_secret(endpoint_id: str, session: SessionDep, account: AccountDep) -> dict[str, Any]:
    """A new secret; the previous one keeps signing beside it for a grace period (24 h)."""
    return {
        "data": service.endpoint_view(
            service.rotate_secret(session, account, endpoint_id), with_secret=True
        )
    }


@router.get("/event-types")
def event_types(account: AccountDep) -> dict[str, Any]:
    return {"data": [{"event_type": k, "description": v} for k, v in EVENT_TYPES.items()]}


@router.get("/events")
def list_events(
    session: SessionDep,
    account: AccountDep,
    limit: Annotated[int | None, Query()] = None,
    token: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    page = service.list_events(session, account, limit, token)
    return {
        "data": [service.event_view(session, e) for e in page.items],
        "has_more": page.has_more,
        "next_token": page.next_token,
    }
