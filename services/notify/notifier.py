"""The notifier in the worker: an agent on the alerts topic enqueues deliveries; one sender task
per subscription drains them.

Isolation: the agent only writes rows to `webhook_deliveries` (one insert per batch) and never
waits on an endpoint, so projection and the alerts-topic offsets move on whatever receivers do.
Each subscription has its own sender task and its own HTTP client with a timeout, so a slow or
dead endpoint holds up only its own deliveries. A sender sends, in order per case, the
deliveries of the alerts-topic partitions this worker owns (with several workers, each delivery
has one sender; during a rebalance two may briefly overlap: at least once, never lost).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import structlog

from services import metrics
from services.config import Settings
from services.logs import get_logger
from services.notify import policy, store
from services.notify.signing import signature, signing_secret

log = get_logger(__name__)
USER_AGENT = "Passage-Webhooks/1"


def utc_now() -> datetime:
    return datetime.now(UTC)


class Notifier:
    def __init__(
        self,
        settings: Settings,
        engine,
        owned: Callable[[], set[int]],
        clock: Callable[[], datetime] = utc_now,
        rng: random.Random | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.owned = owned
        self.clock = clock
        self.rng = rng or random.Random()
        self.transport = transport  # tests pass a fake receiver; None is the network
        self.backoff = policy.Backoff(
            settings.webhook_retry_base_s, settings.webhook_retry_max_delay_s, settings.webhook_retry_for_s
        )
        self.senders: dict[str, asyncio.Task] = {}
        self.wake: dict[str, asyncio.Event] = {}
        self._supervisor: asyncio.Task | None = None

    async def start(self) -> None:
        await self.refresh()
        self._supervisor = asyncio.create_task(self._supervise(), name="webhook-supervisor")

    async def stop(self) -> None:
        tasks = [*self.senders.values(), *([self._supervisor] if self._supervisor else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.senders.clear()

    async def when_alerts_change_enqueue_deliveries(self, changes: list[tuple[int, dict]]) -> None:
        """The agent's step: `changes` are (alerts-topic partition, message) in topic order."""
        subs = await self.refresh()
        woken = await asyncio.to_thread(store.enqueue, self.engine, changes, subs, self.clock())
        for subscription_id in woken:
            if subscription_id in self.wake:
                self.wake[subscription_id].set()

    async def refresh(self) -> list[store.Subscription]:
        """Start a sender for each enabled subscription, stop those of disabled ones."""
        subs = await asyncio.to_thread(store.subscriptions, self.engine, True)
        enabled = {sub.id: sub for sub in subs}
        for subscription_id in set(self.senders) - set(enabled):
            self.senders.pop(subscription_id).cancel()
            self.wake.pop(subscription_id, None)
        for sub in subs:
            if sub.id not in self.senders or self.senders[sub.id].done():
                self.wake[sub.id] = asyncio.Event()
                self.senders[sub.id] = asyncio.create_task(self._sender(sub), name=f"webhook-{sub.id}")
        return subs

    async def _supervise(self) -> None:
        while True:
            await asyncio.sleep(max(5 * self.settings.webhook_poll_s, 1.0))
            try:
                await self.refresh()
            except Exception as error:  # a boundary: the database may be down; the next round tries again
                log.warning("could not reload webhook subscriptions; will retry", error=type(error).__name__)

    async def _sender(self, sub: store.Subscription) -> None:
        secret = signing_secret(self.settings.secret_key, sub.id, sub.salt)
        async with self.client() as client:
            while True:
                wake = self.wake.setdefault(sub.id, asyncio.Event())
                wake.clear()
                try:
                    batch = await asyncio.to_thread(store.due, self.engine, sub.id, self.owned(), self.clock())
                    for delivery in batch:
                        await self.attempt(client, sub, secret, delivery)
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # a boundary: a database hiccup must not end this subscription's sender
                    # The class only: a database error's text could quote the delivery's row.
                    log.warning("webhook sender failed; will retry", subscription_id=sub.id, error=type(error).__name__)
                    batch = []
                if not batch:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(wake.wait(), timeout=self.settings.webhook_poll_s)

    def client(self, timeout: httpx.Timeout | None = None) -> httpx.AsyncClient:
        """One subscription's HTTP client: its own connections, no redirects followed."""
        return httpx.AsyncClient(
            timeout=timeout or httpx.Timeout(self.settings.webhook_timeout_s),
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
            transport=self.transport,
        )

    async def attempt(
        self, client: httpx.AsyncClient, sub: store.Subscription, secret: str, delivery: store.Delivery
    ) -> None:
        body = delivery.body.encode()
        headers = {
            "Content-Type": "application/json",
            "Passage-Delivery-Id": delivery.delivery_id,
            "Passage-Signature": signature(secret, int(time.time()), body),
        }
        status_code, error = None, None
        with structlog.contextvars.bound_contextvars(
            case_id=delivery.case_id, delivery_id=delivery.delivery_id, subscription_id=sub.id
        ):
            try:
                response = await client.post(sub.url, content=body, headers=headers)
                status_code = response.status_code
            except httpx.HTTPError as failure:
                error = f"{type(failure).__name__}: {failure}"[:500] or type(failure).__name__
            now = self.clock()
            verdict = policy.outcome(status_code)
            next_at = None
            if verdict is policy.Outcome.retry:
                next_at = self.backoff.next_attempt(delivery.created_at, now, delivery.attempts + 1, self.rng)
            status = {policy.Outcome.delivered: "delivered", policy.Outcome.rejected: "rejected"}.get(
                verdict, "pending" if next_at is not None else "expired"
            )
            await asyncio.to_thread(
                store.record_attempt, self.engine, delivery.seq, now, status, status_code, error, next_at
            )
            metrics.WEBHOOK_DELIVERIES.labels(outcome=status if status != "pending" else "retry").inc()
            if status == "delivered":
                log.info("webhook delivered", attempts=delivery.attempts + 1, status_code=status_code)
            else:
                log.warning(
                    "webhook delivery failed",
                    status=status,
                    status_code=status_code,
                    error=error,
                    attempts=delivery.attempts + 1,
                    next_attempt_at=next_at.isoformat() if next_at else None,
                )
