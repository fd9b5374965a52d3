"""Webhook delivery to a real receiver on 127.0.0.1: signatures, retries, logs, endpoint API."""

from __future__ import annotations

import json
import threading

import pytest
from fastapi.testclient import TestClient
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.factories import make_key
from tests.receiver import Receiver
from twinstudio.db.models import WebhookAttempt, WebhookDelivery
from twinstudio.webhooks.delivery import Deliverer, DeliveryPolicy
from twinstudio.webhooks.events import record

FAST = DeliveryPolicy(timeout_s=2, base_delay_s=0.0, max_delay_s=0.0, retry_window_s=3600)


@pytest.fixture()
def allow_private(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWINSTUDIO_WEBHOOK_ALLOW_PRIVATE", "true")


@pytest.fixture()
def api(ctx):  # type: ignore[no-untyped-def]
    from twinstudio.api.app import create_app

    with TestClient(
        create_app(ctx.settings, ctx=ctx, workers=0), raise_server_exceptions=False
    ) as c:
        yield c


def _account(ctx, key: str) -> str:  # type: ignore[no-untyped-def]
    from twinstudio.services.keys import authenticate

    with ctx.db.session() as s:
        return authenticate(s, key).id


def test_event_arrives_signed_and_verifies(ctx, api: TestClient, allow_private: None) -> None:  # type: ignore[no-untyped-def]
    rx = Receiver().start()
    try:
        key = make_key(ctx).secret
        resp = api.post(
            "/v3/webhooks/endpoints",
            json={"url": rx.url, "events": ["avatar_video.success"]},
            headers={"x-api-key": key},
        )
        assert resp.status_code == 200, resp.text
        ep = resp.json()["data"]
        assert ep["secret"].startswith("whsec_") and ep["status"] == "enabled"
        assert (
            "secret"
            not in api.get("/v3/webhooks/endpoints", headers={"x-api-key": key}).json()["data"][0]
        )
        with ctx.db.session() as s:
            record(
                s,
                _account(ctx, key),
                "avatar_video.success",
                {"video_id": "vid_1", "url": "u", "callback_id": "c"},
            )
            record(
                s,
                _account(ctx, key),
                "avatar_video.fail",
                {"video_id": "vid_2", "msg": "m", "callback_id": None},
            )
        assert (
            Deliverer(ctx.db, "t", threading.Event(), FAST).run_once() == 1
        )  # fail is not subscribed
        assert len(rx.requests) == 1
        got = rx.requests[0]
        payload = Webhook(ep["secret"]).verify(got.body, got.headers)
        assert payload["event_type"] == "avatar_video.success"
        assert payload["event_data"]["video_id"] == "vid_1"
        assert got.headers["webhook-id"] == payload["event_id"]
        with pytest.raises(WebhookVerificationError):
            Webhook(ep["secret"]).verify(got.body.replace(b"vid_1", b"vid_9"), got.headers)
        events = api.get("/v3/webhooks/events", headers={"x-api-key": key}).json()["data"]
        assert {e["event_type"] for e in events} == {"avatar_video.success", "avatar_video.fail"}
        delivered = next(e for e in events if e["event_type"] == "avatar_video.success")
        assert delivered["deliveries"][0]["status"] == "delivered"
        assert delivered["deliveries"][0]["attempt_log"][0]["status_code"] == 200
    finally:
        rx.stop()


def test_retries_until_receiver_is_up_same_event_id(ctx, allow_private: None) -> None:  # type: ignore[no-untyped-def]
    from twinstudio.services import webhooks as service
    from twinstudio.services.requests import EndpointCreate

    rx = Receiver(fail_first=3).start()
    try:
        key = make_key(ctx).secret
        with ctx.db.session() as s:
            from twinstudio.db.models import Account

            account = s.get(Account, _account(ctx, key))
            service.create_endpoint(s, account, EndpointCreate(url=rx.url))
            event = record(s, account.id, "avatar_video.success", {"video_id": "v"})
            event_id = event.id
        deliverer = Deliverer(ctx.db, "t", threading.Event(), FAST)
        for _ in range(6):
            deliverer.run_once()
        assert len(rx.requests) == 1  # exactly once after 3 failures
        assert rx.requests[0].headers["webhook-id"] == event_id
        with ctx.db.session() as s:
            d = s.query(WebhookDelivery).one()
            assert d.status == "delivered" and d.attempts == 4
            codes = [a.status_code for a in s.query(WebhookAttempt).order_by(WebhookAttempt.id)]
            assert codes == [503, 503, 503, 200]
    finally:
        rx.stop()


def test_receiver_down_is_logged_and_retried_later(ctx, allow_private: None) -> None:  # type: ignore[no-untyped-def]
    rx = Receiver().start()
    url = rx.url
    rx.stop()  # nothing listens there now
    key = make_key(ctx).secret
    with ctx.db.session() as s:
        record(s, _account(ctx, key), "avatar_video.success", {"video_id": "v"}, callback_url=url)
    slow = DeliveryPolicy(timeout_s=2, base_delay_s=60, max_delay_s=60, retry_window_s=3600)
    d = Deliverer(ctx.db, "t", threading.Event(), slow)
    assert d.run_once() == 1
    assert d.run_once() == 0  # not due again yet
    with ctx.db.session() as s:
        row = s.query(WebhookDelivery).one()
        assert row.status == "pending" and row.attempts == 1 and row.last_error
        assert row.next_attempt_at > row.created_at + 25  # backoff with jitter (60 s ± 50 %)


def test_endpoint_failing_for_too_long_is_disabled(ctx, allow_private: None) -> None:  # type: ignore[no-untyped-def]
    from twinstudio.db.models import WebhookEndpoint
    from twinstudio.services import webhooks as service
    from twinstudio.services.requests import EndpointCreate

    rx = Receiver(status=500).start()
    try:
        key = make_key(ctx).secret
        with ctx.db.session() as s:
            from twinstudio.db.models import Account

            account = s.get(Account, _account(ctx, key))
            ep = service.create_endpoint(s, account, EndpointCreate(url=rx.url))
            ep.failing_since = 1.0  # failing since 1970
            record(s, account.id, "avatar_video.success", {"video_id": "v"})
        Deliverer(ctx.db, "t", threading.Event(), FAST).run_once()
        with ctx.db.session() as s:
            ep_row = s.query(WebhookEndpoint).one()
            assert ep_row.status == "disabled" and "HTTP 500" in (ep_row.disabled_reason or "")
    finally:
        rx.stop()


def test_rotation_keeps_old_secret_valid_for_grace(
    ctx, api: TestClient, allow_private: None
) -> None:  # type: ignore[no-untyped-def]
    rx = Receiver().start()
    try:
        key = make_key(ctx).secret
        h = {"x-api-key": key}
        ep = api.post("/v3/webhooks/endpoints", json={"url": rx.url}, headers=h).json()["data"]
        new = api.post(
            f"/v3/webhooks/endpoints/{ep['endpoint_id']}/rotate-secret", headers=h
        ).json()["data"]
        assert new["secret"] != ep["secret"]
        with ctx.db.session() as s:
            record(s, _account(ctx, key), "avatar_training.success", {"avatar_id": "a"})
        Deliverer(ctx.db, "t", threading.Event(), FAST).run_once()
        got = rx.requests[0]
        Webhook(new["secret"]).verify(got.body, got.headers)
        Webhook(ep["secret"]).verify(got.body, got.headers)  # still valid in the grace period
        assert json.loads(got.body)["event_type"] == "avatar_training.success"
    finally:
        rx.stop()


def test_endpoint_validation(ctx, api: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("TWINSTUDIO_WEBHOOK_ALLOW_PRIVATE", raising=False)
    h = {"x-api-key": make_key(ctx).secret}
    for url in [
        "ftp://example.com/x",
        "http://127.0.0.1:9/hook",
        "http://169.254.169.254/latest",
        "http://10.0.0.1/x",
    ]:
        r = api.post("/v3/webhooks/endpoints", json={"url": url}, headers=h)
        assert r.status_code == 400 and r.json()["error"]["param"] == "url", url
    monkeypatch.setenv("TWINSTUDIO_WEBHOOK_ALLOW_PRIVATE", "true")
    r = api.post(
        "/v3/webhooks/endpoints",
        json={"url": "http://127.0.0.1:9/hook", "events": ["nope"]},
        headers=h,
    )
    assert r.status_code == 400 and r.json()["error"]["param"] == "events"
    ep = api.post(
        "/v3/webhooks/endpoints", json={"url": "http://127.0.0.1:9/hook"}, headers=h
    ).json()["data"]
    patched = api.patch(
        f"/v3/webhooks/endpoints/{ep['endpoint_id']}", json={"status": "disabled"}, headers=h
    )
    assert patched.json()["data"]["status"] == "disabled"
    assert api.delete(f"/v3/webhooks/endpoints/{ep['endpoint_id']}", headers=h).status_code == 200
    assert api.delete(f"/v3/webhooks/endpoints/{ep['endpoint_id']}", headers=h).status_code == 404
    types = api.get("/v3/webhooks/event-types", headers=h).json()["data"]
    assert {t["event_type"] for t in types} >= {"avatar_video.success", "avatar_video.fail"}


def test_delivery_leased_by_a_dead_process_is_released(ctx) -> None:  # type: ignore[no-untyped-def]
    import socket
    import subprocess
    import sys

    from twinstudio.webhooks.delivery import DeliveryPool

    dead_pid = int(
        subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
        ).stdout
    )
    key = make_key(ctx).secret
    with ctx.db.session() as s:
        record(
            s,
            _account(ctx, key),
            "avatar_video.success",
            {"video_id": "v"},
            callback_url="http://127.0.0.1:9/x",
        )
        d = s.query(WebhookDelivery).one()
        d.lease_owner = f"{socket.gethostname()}:{dead_pid}:d0"
        d.lease_expires_at = 4e9  # far future: only the release makes it due
    DeliveryPool(ctx.db, count=1)._release_dead_leases()
    with ctx.db.session() as s:
        d = s.query(WebhookDelivery).one()
        assert d.lease_owner is None and d.lease_expires_at is None
