"""At-least-once delivery of the outbox, by background threads that never block rendering.

Each pending delivery is claimed with a lease (like jobs), POSTed with Standard Webhooks headers,
and either marked delivered (any 2xx within the timeout) or scheduled again with exponential
backoff and jitter until the retry window (default 24 h) is spent. Every attempt is logged. An
endpoint that has failed without a single success for ``disable_after`` (default 5 days) is
disabled, and says why. Redirects are never followed; only a short excerpt of a response is kept.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import random
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from sqlalchemy import and_, or_, select, update

from twinstudio.db.base import Database, now
from twinstudio.db.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from twinstudio.errors import InvalidParameter
from twinstudio.webhooks import signing
from twinstudio.webhooks.events import payload

log = logging.getLogger(__name__)


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "")
    return float(raw) if raw else default


@dataclass(frozen=True)
class DeliveryPolicy:
    timeout_s: float = 10.0
    base_delay_s: float = 5.0
    max_delay_s: float = 3600.0
    retry_window_s: float = 24 * 3600.0
    disable_after_s: float = 5 * 24 * 3600.0
    rotation_grace_s: float = 24 * 3600.0
    lease_s: float = 60.0

    @classmethod
    def from_env(cls) -> DeliveryPolicy:
        return cls(
            timeout_s=_env_float("TWINSTUDIO_WEBHOOK_TIMEOUT_S", 10.0),
            base_delay_s=_env_float("TWINSTUDIO_WEBHOOK_BASE_DELAY_S", 5.0),
            max_delay_s=_env_float("TWINSTUDIO_WEBHOOK_MAX_DELAY_S", 3600.0),
            retry_window_s=_env_float("TWINSTUDIO_WEBHOOK_RETRY_HOURS", 24.0) * 3600,
            disable_after_s=_env_float("TWINSTUDIO_WEBHOOK_DISABLE_AFTER_HOURS", 120.0) * 3600,
            rotation_grace_s=_env_float("TWINSTUDIO_WEBHOOK_ROTATION_GRACE_HOURS", 24.0) * 3600,
        )

    def delay(self, attempts: int) -> float:
        """Backoff after ``attempts`` failures: exponential, capped, with ±50 % jitter."""
        raw = min(self.max_delay_s, self.base_delay_s * (2 ** max(0, attempts - 1)))
        return raw * random.uniform(0.5, 1.5)


def allow_private() -> bool:
    return os.environ.get("TWINSTUDIO_WEBHOOK_ALLOW_PRIVATE", "").lower() in {"1", "true", "yes"}


def check_receiver_url(url: str, param: str = "url") -> None:
    """http(s) only; private, loopback and link-local addresses refused unless allowed."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise InvalidParameter(f"{param} must be an http(s) URL.", param=param)
    if allow_private():
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443)
    except socket.gaierror as exc:
        raise InvalidParameter(
            f"{param}: cannot resolve host {parts.hostname!r}.", param=param
        ) from exc
    for info in infos:
        addr = ipaddress.ip_address(info[4][0])
        if (
            addr.is_private
            or addr.is_loopback
            or addr.is_link_local
            or addr.is_reserved
            or addr.is_multicast
        ):
            raise InvalidParameter(
                f"{param} resolves to a private or local address ({addr}); webhooks go to public "
                "receivers (operators can allow private ones with TWINSTUDIO_WEBHOOK_ALLOW_PRIVATE=true).",
                param=param,
            )


class Deliverer:
    """Claims due deliveries and sends them; run ``run_forever`` in a thread."""

    def __init__(
        self, db: Database, name: str, stop: threading.Event, policy: DeliveryPolicy | None = None
    ) -> None:
        self.db = db
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{name}"
        self.stop = stop
        self.policy = policy or DeliveryPolicy.from_env()
        self.client = httpx.Client(timeout=self.policy.timeout_s, follow_redirects=False)

    def run_forever(self) -> None:
        while not self.stop.is_set():
            try:
                sent = self.run_once()
            except Exception:
                log.exception("webhook delivery loop error")
                sent = 0
            if not sent:
                self.stop.wait(0.5)
        self.client.close()

    def _claim(self) -> int | None:
        t = now()
        due = or_(
            and_(
                WebhookDelivery.status == "pending",
                WebhookDelivery.next_attempt_at <= t,
                or_(
                    WebhookDelivery.lease_expires_at.is_(None), WebhookDelivery.lease_expires_at < t
                ),
            ),
        )
        with self.db.session() as s:
            delivery_id = s.scalar(
                select(WebhookDelivery.id)
                .where(due)
                .order_by(WebhookDelivery.next_attempt_at)
                .limit(1)
            )
            if delivery_id is None:
                return None
            res = s.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == delivery_id, due)
                .values(lease_owner=self.owner, lease_expires_at=t + self.policy.lease_s)
            )
            return delivery_id if res.rowcount == 1 else None  # type: ignore[attr-defined]

    def run_once(self) -> int:
        """Send every delivery that is due now; returns how many were attempted."""
        count = 0
        while not self.stop.is_set() and (delivery_id := self._claim()) is not None:
            self.attempt(delivery_id)
            count += 1
        return count

    def attempt(self, delivery_id: int) -> None:
        with self.db.session() as s:
            d = s.get(WebhookDelivery, delivery_id)
            if d is None:
                return
            event = s.get(WebhookEvent, d.event_id)
            endpoint = s.get(WebhookEndpoint, d.endpoint_id) if d.endpoint_id else None
            if event is None or (
                d.endpoint_id and (endpoint is None or endpoint.status != "enabled")
            ):
                d.status, d.last_error, d.lease_owner = (
                    "failed",
                    "endpoint removed or disabled",
                    None,
                )
                return
            secrets_ = self._secrets(s, event.account_id, endpoint)
            url, created, attempts = d.url, d.created_at, d.attempts
            body = json.dumps(payload(event), separators=(",", ":")).encode()
            msg_id = event.id
        status_code: int | None = None
        error: str | None = None
        excerpt: str | None = None
        start = time.monotonic()
        try:
            if not allow_private():
                check_receiver_url(url)
            headers = signing.headers(secrets_, msg_id, int(time.time()), body)
            headers["user-agent"] = "twinstudio-webhooks/1"
            resp = self.client.post(url, content=body, headers=headers)
            status_code = resp.status_code
            excerpt = resp.text[:200] if resp.text else None
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}" + (
                    " (redirects are not followed)" if 300 <= status_code < 400 else ""
                )
        except InvalidParameter as exc:
            error = exc.message
        except httpx.TimeoutException:
            error = f"timed out after {self.policy.timeout_s:g} s"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
        latency = int((time.monotonic() - start) * 1000)
        self._record(delivery_id, attempts + 1, created, status_code, error, excerpt, latency)

    def _secrets(self, s, account_id: str, endpoint: WebhookEndpoint | None) -> list[str]:  # type: ignore[no-untyped-def]
        """Secrets to sign with: the endpoint's (and its previous one during the grace period);
        a callback_url is signed with the secrets of every enabled endpoint of the account."""
        endpoints = (
            [endpoint]
            if endpoint is not None
            else list(
                s.scalars(
                    select(WebhookEndpoint).where(
                        WebhookEndpoint.account_id == account_id,
                        WebhookEndpoint.status == "enabled",
                    )
                )
            )
        )
        out: list[str] = []
        t = now()
        for ep in endpoints:
            out.append(ep.secret)
            if ep.previous_secret and (ep.previous_secret_expires_at or 0) > t:
                out.append(ep.previous_secret)
        return out

    def _record(
        self,
        delivery_id: int,
        attempts: int,
        created: float,
        status_code: int | None,
        error: str | None,
        excerpt: str | None,
        latency: int,
    ) -> None:
        t = now()
        with self.db.session() as s:
            d = s.get(WebhookDelivery, delivery_id)
            if d is None:
                return
            s.add(
                WebhookAttempt(
                    delivery_id=delivery_id,
                    attempted_at=t,
                    status_code=status_code,
                    latency_ms=latency,
                    error=error,
                    response_excerpt=excerpt,
                )
            )
            d.attempts = attempts
            d.last_status_code = status_code
            d.last_error = error
            d.lease_owner = None
            d.lease_expires_at = None
            endpoint = s.get(WebhookEndpoint, d.endpoint_id) if d.endpoint_id else None
            if error is None:
                d.status = "delivered"
                d.delivered_at = t
                if endpoint is not None:
                    endpoint.failing_since = None
                return
            if endpoint is not None:
                endpoint.failing_since = endpoint.failing_since or t
                if t - endpoint.failing_since > self.policy.disable_after_s:
                    endpoint.status = "disabled"
                    endpoint.disabled_reason = (
                        f"Disabled after failing for {int((t - endpoint.failing_since) // 3600)} hours "
                        f"(last error: {error}). Fix the receiver, then PATCH status to enabled."
                    )
            next_at = t + self.policy.delay(attempts)
            if next_at - created > self.policy.retry_window_s:
                d.status = "failed"
            else:
                d.next_attempt_at = next_at


class DeliveryPool:
    """Delivery threads inside this process."""

    def __init__(self, db: Database, count: int = 2, policy: DeliveryPolicy | None = None) -> None:
        self.stop = threading.Event()
        self.deliverers = [Deliverer(db, f"d{i}", self.stop, policy) for i in range(count)]
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        self._release_dead_leases()
        for i, d in enumerate(self.deliverers):
            t = threading.Thread(target=d.run_forever, name=f"twinstudio-webhooks-{i}", daemon=True)
            t.start()
            self.threads.append(t)

    def _release_dead_leases(self) -> None:
        """Deliveries leased by a process of this host that died are due again at once."""
        from twinstudio.jobs.worker import owner_died_here

        if not self.deliverers:
            return
        with self.deliverers[0].db.session() as s:
            rows = s.execute(
                select(WebhookDelivery.id, WebhookDelivery.lease_owner).where(
                    WebhookDelivery.status == "pending", WebhookDelivery.lease_owner.is_not(None)
                )
            ).all()
            for delivery_id, owner in rows:
                if owner_died_here(owner):
                    s.execute(
                        update(WebhookDelivery)
                        .where(WebhookDelivery.id == delivery_id)
                        .values(lease_owner=None, lease_expires_at=None)
                    )

    def shutdown(self, timeout: float = 5.0) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=timeout)
